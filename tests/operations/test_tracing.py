"""OpenTelemetry: one deposit is one trace, from the provider's callback through the
database and the outbox jobs to the merchant's webhook delivery, each span touching the
payment carrying its transaction id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult

from clearing_gateway.kit.tracing import TRANSACTION_ID
from tests.support.receiver import Receiver
from tests.support.seed_client import SeedClient
from tests.withdrawals.conftest import Payouts

_EXPORTER = InMemorySpanExporter()


class _Switch(Sampler):
    """Records only while a test here runs: the provider is process-wide and set once,
    and the suites after this one should not pay for (or keep) spans."""

    on = False

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return (ALWAYS_ON if self.on else ALWAYS_OFF).should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return "test switch"


_SWITCH = _Switch()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(sampler=_SWITCH)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    _SWITCH.on = True
    try:
        yield _EXPORTER
    finally:
        _SWITCH.on = False
        _EXPORTER.clear()


async def test_a_deposit_is_one_trace_from_callback_to_webhook(
    payouts: Payouts, receiver: Receiver, spans: InMemorySpanExporter
) -> None:
    client = payouts.merchant.client
    hook = {"requestId": str(uuid.uuid4()), "eventType": "va_payment", "url": receiver.url()}
    assert (await client.post("/v1/webhooks", hook)).status_code == 201
    creds = payouts.merchant.credentials
    async with httpx.AsyncClient(base_url=payouts.gateway.url, timeout=20) as http:
        live = SeedClient(http, creds.api_key, creds.api_secret)
        account = await live.post(
            "/v1/virtual-accounts",
            {"requestId": str(uuid.uuid4()), "userId": payouts.user_id, "bankCode": "014"},
        )
        assert account.status_code == 200, account.text
        va = account.json()["data"]
        paid = await live.post(
            "/v1/simulator/deposits/payment",
            {
                "virtualAccountNo": va["virtualAccountNo"],
                "bankCode": "BCA",
                "payment": {"amount": "150000.00"},
            },
        )
        assert paid.status_code == 201, paid.text
    transaction_id = paid.json()["transactionId"]
    await payouts.run_jobs()
    await receiver.wait_for(1)

    finished: tuple[ReadableSpan, ...] = spans.get_finished_spans()
    tagged = [s for s in finished if (s.attributes or {}).get(TRANSACTION_ID) == transaction_id]
    assert tagged, [s.name for s in finished]
    trace_id = tagged[0].context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert "POST /callbacks/topremit/va" in names
    # Deliveries are queued with the event (no fan-out job): the deliver job continues
    # the callback's trace directly.
    assert "job webhooks.fan_out" not in names
    assert "job webhooks.deliver" in names
    assert any(name.startswith("db ") for name in names)
    # Every tagged span (the callback's deposit and the delivery) is in this one trace.
    assert {s.context.trace_id for s in tagged} == {trace_id}
    deliver = next(s for s in in_trace if s.name == "job webhooks.deliver")
    assert (deliver.attributes or {})[TRANSACTION_ID] == transaction_id
    # The parent chain reaches the callback request: one trace, not three stitched ones.
    by_id = {s.context.span_id: s for s in in_trace}
    node: ReadableSpan | None = deliver
    chain = []
    while node is not None:
        chain.append(node.name)
        node = by_id.get(node.parent.span_id) if node.parent else None
    assert chain[-1] == "POST /callbacks/topremit/va", chain
    # Provider calls are spans too (the VA was created at the sandbox).
    assert any(s.name.startswith("provider topremit ") for s in finished)
