"""One requestId rule: no value is both ignored by the idempotency claim and accepted by
an endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clearing_gateway.api.middleware import _request_id_of
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.withdrawals.schemas import CreateWithdrawalRequest
from tests.conftest import MerchantFixture
from tests.idempotency.test_request_id import count_users, user_body

REFUSED = ["r" * 128 + " ", "abc ", " abc", "r" * 129, "", "\tabc", "abc\n", 7, None]


def withdrawal(request_id: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "userId": "u1",
        "merchantReference": "m1",
        "beneficiaryBankCode": "014",
        "beneficiaryAccountNo": "500654309",
        "amount": "20000.00",
    }


@pytest.mark.parametrize("value", REFUSED)
def test_a_value_idempotency_ignores_is_refused_by_the_schema(value: Any) -> None:
    body = withdrawal(value)
    assert _request_id_of(body) is None
    with pytest.raises(ValidationError):
        CreateWithdrawalRequest.model_validate(body)


@pytest.mark.parametrize("value", ["a", "r" * 128, "abc def", "7f0c-λ"])
def test_a_value_the_schema_accepts_is_claimed_as_is(value: str) -> None:
    body = withdrawal(value)
    assert _request_id_of(body) == value
    assert CreateWithdrawalRequest.model_validate(body).requestId == value


async def test_padded_request_id_is_refused_and_changes_nothing(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    for value in ("r" * 128 + " ", "abc "):
        response = await merchant.client.post("/v1/users", user_body(requestId=value))
        assert response.status_code == 422, response.text
        assert "requestId" in response.text
    assert await count_users(runtime) == 0
