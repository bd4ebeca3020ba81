"""VA creation falls back to the next provider only when the first failed outright.

A second VA provider for the same banks is not something the sandboxes offer, so the
connectors here are fakes; the service, registry and database are real."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.instruments import service
from clearing_gateway.instruments.schemas import CreateVirtualAccountRequest
from clearing_gateway.kit.errors import GatewayError
from clearing_gateway.providers.base import VirtualAccount, VirtualAccountRequest
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from clearing_gateway.providers.registry import Capability, ProviderRegistry, Route
from clearing_gateway.users.models import User
from tests.conftest import create_merchant


@dataclass
class FakeConnector:
    name: str
    failure: Exception | None = None
    calls: list[VirtualAccountRequest] = field(default_factory=list)

    async def create_virtual_account(self, request: VirtualAccountRequest) -> VirtualAccount:
        self.calls.append(request)
        if self.failure is not None:
            raise self.failure
        return VirtualAccount(
            provider=self.name,
            reference=request.reference,
            virtual_account_no="8800" + request.customer_no,
            customer_no=request.customer_no,
            bank_code=request.bank_code,
            status="PENDING",
            amount=None,
            currency="IDR",
            expires_at=request.expires_at,
            provider_payment_id=None,
        )


async def setup(runtime: Runtime, first: FakeConnector, second: FakeConnector) -> uuid.UUID:
    assert runtime.providers is not None
    banks = frozenset({"014"})
    runtime.providers.registry = ProviderRegistry(
        (
            Route("alpha", Capability.VIRTUAL_ACCOUNT, frozenset({"IDR"}), banks),
            Route("beta", Capability.VIRTUAL_ACCOUNT, frozenset({"IDR"}), banks),
        )
    )
    fakes = {"alpha": first, "beta": second}
    runtime.providers.connector = fakes.__getitem__  # type: ignore[method-assign,assignment]
    issued = await create_merchant(runtime)
    async with unit_of_work(runtime.sessionmaker) as session:
        session.add(
            User(merchant_id=issued.merchant_id, user_id="u1", kyc_name="Jhon Doe", type="retail")
        )
    return issued.merchant_id


async def create(runtime: Runtime, merchant_id: uuid.UUID) -> str:
    async with unit_of_work(runtime.sessionmaker) as session:
        account = await service.create_virtual_account(
            session,
            runtime,
            merchant_id,
            CreateVirtualAccountRequest(requestId="r", userId="u1", bankCode="014"),
        )
        return account.provider


@pytest.mark.parametrize(
    "failure",
    [ProviderUnavailable("alpha", "connection refused"), ProviderRejected("alpha", "500", "no")],
)
async def test_falls_back_when_first_fails_outright(runtime: Runtime, failure: Exception) -> None:
    alpha, beta = FakeConnector("alpha", failure), FakeConnector("beta")
    merchant_id = await setup(runtime, alpha, beta)
    assert await create(runtime, merchant_id) == "beta"
    assert len(alpha.calls) == len(beta.calls) == 1


async def test_unknown_outcome_does_not_fall_back(runtime: Runtime) -> None:
    alpha, beta = (
        FakeConnector("alpha", ProviderOutcomeUnknown("alpha", "timeout")),
        FakeConnector("beta"),
    )
    merchant_id = await setup(runtime, alpha, beta)
    with pytest.raises(GatewayError) as raised:
        await create(runtime, merchant_id)
    assert raised.value.status == 503
    assert beta.calls == []


async def test_all_down_is_503(runtime: Runtime) -> None:
    alpha = FakeConnector("alpha", ProviderUnavailable("alpha", "down"))
    beta = FakeConnector("beta", ProviderUnavailable("beta", "down"))
    merchant_id = await setup(runtime, alpha, beta)
    with pytest.raises(GatewayError) as raised:
        await create(runtime, merchant_id)
    assert raised.value.status == 503
    assert "alpha" in raised.value.reason
    assert "beta" in raised.value.reason
