"""Provider amounts that are not a positive, exact, int64 amount are refused with a
recorded reason (never credited, never a 500), and Finan list look-ups act only on the
item whose reference was asked for."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.callback_kit import decimal_string_amount, number_amount
from clearing_gateway.providers.config import FinanConfig
from clearing_gateway.providers.errors import CallbackRejected
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.providers.finan.client import FinanClient, from_units
from clearing_gateway.providers.hub import Providers
from tests.providers.conftest import LiveGateway, settled_inbox

REFUSED_NUMBERS: list[Any] = [
    -5,
    0,
    "1e3",
    "-5",
    "100\n",
    json.loads("Infinity"),
    json.loads("NaN"),
    2**63,
    json.loads("12345678901234567.89"),
    1500.555,
    True,
    None,
]


@pytest.mark.parametrize("value", REFUSED_NUMBERS, ids=repr)
def test_number_amount_refuses(value: Any) -> None:
    with pytest.raises(CallbackRejected) as refused:
        number_amount(value, "IDR", "amount")
    assert refused.value.reason.startswith("amount: ")
    assert from_units(value, "IDR") is None


def test_number_amount_accepts_exact_positive_amounts() -> None:
    assert number_amount(1500, "IDR", "amount") == 150_000
    assert number_amount(1500.5, "IDR", "amount") == 150_050
    assert number_amount("2500", "IDR", "amount") == 250_000
    assert from_units(125000, "IDR") == 12_500_000


def test_decimal_string_amount_refuses_beyond_int64() -> None:
    with pytest.raises(CallbackRejected):
        decimal_string_amount("999999999999999999.00", "IDR", "paidAmount.value")


def finan(answer: dict[str, Any]) -> FinanClient:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer))
    )
    return FinanClient(FinanConfig("https://finan.example/open", "C", "S", "A", "P"), http)


async def test_list_look_ups_check_the_reference() -> None:
    other = {"id": "P-OTHER", "reference_id": "REF-OTHER", "status": "paid", "paid_amount": 9}
    mine = {"id": "P-MINE", "reference_id": "REF-MINE", "status": "paid", "paid_amount": 5}
    assert await finan({"data": [other]}).find_payment("REF-MINE") is None
    assert (await finan({"data": [other, mine]}).find_payment("REF-MINE")) == mine
    payout = {"id": "X", "reference_id": "WD-OTHER", "status": "success", "amount": 10}
    status = await finan({"data": [payout]}).check_status("WD-MINE")
    assert status.status is DisbursementStatus.NOT_FOUND


async def test_an_infinite_webhook_amount_is_refused_and_recorded(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    client_id = providers.finan.config.client_id
    body = (
        '{"data":{"transaction_id":"T1","status":"Completed","currency_code":"IDR",'
        '"reference_id":"R1","total_amount":Infinity},"type":"cashin",'
        f'"client_id":"{client_id}"}}'
    )
    answer = await gateway.http.post(f"{gateway.url}/callbacks/finan/webhook", content=body)
    assert answer.status_code == 401
    (row,) = await settled_inbox(runtime, "finan", 1)
    assert row.status == "rejected"
    assert "total_amount" in (row.error or "")
