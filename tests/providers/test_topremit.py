"""The Topremit connector against its sandbox over real HTTP, and its callbacks."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import QrisRequest, VirtualAccountRequest
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.hub import Providers
from clearing_gateway.providers.topremit.client import CREATE_VA_PATH, INQUIRY_VA_PATH, external_id
from clearing_gateway.providers.topremit.signing import snap_timestamp, transaction_signature
from tests.providers.conftest import LiveGateway, inbox, settled_inbox


def va_request(**overrides: object) -> VirtualAccountRequest:
    values: dict[str, object] = {
        "reference": f"INV-{uuid.uuid4().hex[:10]}",
        "bank_code": "BCA",
        "customer_no": str(uuid.uuid4().int % 10**10).zfill(10),
        "name": "Jhon Doe",
        "amount": 15_000_000,
        "expires_at": utcnow() + dt.timedelta(hours=1),
    }
    values.update(overrides)
    return VirtualAccountRequest(**values)  # type: ignore[arg-type]


async def test_virtual_account_lifecycle(gateway: LiveGateway, providers: Providers) -> None:
    client = providers.topremit
    created = await client.create_virtual_account(va_request())
    assert created.status == "PENDING"
    assert created.bank_code == "014"
    assert created.amount == 15_000_000
    assert created.virtual_account_no.startswith("88899")
    assert (await client.inquire_virtual_account(created)).status == "PENDING"
    cancelled = await client.cancel_virtual_account(created)
    assert cancelled.status == "CANCELED"
    assert (await client.inquire_virtual_account(created)).status == "CANCELED"
    with pytest.raises(ProviderRejected) as cancelled_twice:
        await client.cancel_virtual_account(created)
    assert cancelled_twice.value.http_status == 404


async def test_token_is_cached_and_renewed_after_a_401(
    gateway: LiveGateway, providers: Providers
) -> None:
    client = providers.topremit
    first = await client.access_token()
    assert await client.access_token() == first
    gateway.sandboxes.topremit.tokens.clear()  # the provider forgets every token
    created = await client.create_virtual_account(va_request())
    assert created.status == "PENDING"
    assert await client.access_token() != first


async def test_duplicate_trx_id_and_unknown_va_are_rejected(
    gateway: LiveGateway, providers: Providers
) -> None:
    client = providers.topremit
    request = va_request()
    created = await client.create_virtual_account(request)
    with pytest.raises(ProviderRejected) as duplicate:
        await client.create_virtual_account(request)
    assert duplicate.value.code == "4092701"
    unknown = created.__class__(**{**created.__dict__, "reference": "NOPE"})
    with pytest.raises(ProviderRejected) as missing:
        await client.inquire_virtual_account(unknown)
    assert missing.value.code == "4042612"


async def test_qris_create_pay_and_query(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    client = providers.topremit
    qris = await client.create_qris(
        QrisRequest(reference=f"QR-{uuid.uuid4().hex[:8]}", amount=5_000_00)
    )
    assert qris.qr_content
    assert (await client.inquire_qris(qris.reference, qris.provider_reference)).status == "PENDING"
    await gateway.control("topremit", f"qris/{qris.provider_reference}/pay", {"payerName": "Ani"})
    paid = await client.inquire_qris(qris.reference, qris.provider_reference)
    assert paid.status == "PAID"
    assert paid.amount == 5_000_00
    rows = await settled_inbox(runtime, "topremit", 1)
    assert [(r.channel, r.status, r.event_key) for r in rows] == [
        # applied: the deposits domain recorded it (an instrument it never issued)
        ("qris", "applied", f"qris:{qris.provider_reference}")
    ]


class RawSnapCall:
    """Builds a signed Topremit call by hand so each header can be broken on purpose."""

    def __init__(self, gateway: LiveGateway, providers: Providers) -> None:
        self.gateway = gateway
        self.providers = providers

    async def post(self, path: str, document: dict[str, object], **changes: str) -> httpx.Response:
        config = self.providers.topremit.config
        token = await self.providers.topremit.access_token()
        body = json.dumps(document, separators=(",", ":")).encode()
        timestamp = changes.pop("timestamp", snap_timestamp(utcnow()))
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": transaction_signature(
                config.client_secret, "POST", path, token, body, timestamp
            ),
            "X-PARTNER-ID": config.partner_id,
            "X-EXTERNAL-ID": external_id(),
            "CHANNEL-ID": config.channel_id,
        }
        headers.update({k.replace("_", "-").upper(): v for k, v in changes.items()})
        return await self.gateway.http.post(
            self.gateway.sandbox_url("topremit") + path, content=body, headers=headers
        )


async def test_sandbox_rejects_what_topremit_would_reject(
    gateway: LiveGateway, providers: Providers
) -> None:
    raw = RawSnapCall(gateway, providers)
    created = await providers.topremit.create_virtual_account(va_request())
    identity = {
        "partnerServiceId": "   88899",
        "customerNo": created.customer_no,
        "virtualAccountNo": created.virtual_account_no,
        "trxId": created.reference,
    }
    ok = await raw.post(INQUIRY_VA_PATH, identity)
    assert ok.status_code == 200
    assert ok.json()["responseCode"] == "2002600"

    bad_signature = await raw.post(INQUIRY_VA_PATH, identity, x_signature="AAAA")
    assert (bad_signature.status_code, bad_signature.json()["responseCode"]) == (401, "4012600")

    stale = snap_timestamp(utcnow() - dt.timedelta(minutes=10))
    stale_call = await raw.post(INQUIRY_VA_PATH, identity, timestamp=stale)
    assert stale_call.status_code == 401
    assert "X-TIMESTAMP" in stale_call.json()["responseMessage"]

    wrong_partner = await raw.post(INQUIRY_VA_PATH, identity, x_partner_id="someone-else")
    assert wrong_partner.status_code == 401
    assert "X-PARTNER-ID" in wrong_partner.json()["responseMessage"]

    reused = external_id()
    first = await raw.post(INQUIRY_VA_PATH, identity, x_external_id=reused)
    again = await raw.post(INQUIRY_VA_PATH, identity, x_external_id=reused)
    assert first.status_code == 200
    assert (again.status_code, again.json()["responseCode"]) == (409, "4092600")

    unknown = await raw.post(INQUIRY_VA_PATH, {**identity, "trxId": "UNKNOWN"})
    assert (unknown.status_code, unknown.json()["responseCode"]) == (404, "4042612")

    no_channel = await raw.post(CREATE_VA_PATH, {**identity, "trxId": "X"}, channel_id="")
    assert no_channel.status_code == 400


async def test_fault_modes_surface_as_distinct_errors(
    gateway: LiveGateway, providers: Providers
) -> None:
    client = providers.topremit
    await client.access_token()
    await gateway.control("topremit", "faults", {"mode": "5xx", "count": 1})
    with pytest.raises(ProviderOutcomeUnknown):
        await client.create_virtual_account(va_request())

    request = va_request()
    await gateway.control("topremit", "faults", {"mode": "timeout", "count": 1, "holdSeconds": 1.5})
    with pytest.raises(ProviderOutcomeUnknown):
        await client.create_virtual_account(request)
    # The timed-out call did take effect at the provider: that is why it is "unknown".
    with pytest.raises(ProviderRejected) as duplicate:
        await client.create_virtual_account(request)
    assert duplicate.value.code == "4092701"


async def test_unreachable_provider_is_unavailable(providers: Providers) -> None:
    from clearing_gateway.providers.config import TopremitConfig
    from clearing_gateway.providers.topremit.client import TopremitClient
    from tests.support.live_server import bind_free_socket, socket_url

    closed = bind_free_socket()  # bound, never listening: connections are refused
    try:
        config = TopremitConfig(
            **{**providers.config.topremit.__dict__, "base_url": socket_url(closed)}
        )
        async with httpx.AsyncClient(timeout=1) as http:
            with pytest.raises(ProviderUnavailable):
                await TopremitClient(config, http).create_virtual_account(va_request())
    finally:
        closed.close()


async def test_va_payment_callback_is_verified_and_deduplicated(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    seen: list[PaymentReceived] = []

    async def handler(_session: object, event: PaymentReceived, _row: object) -> None:
        seen.append(event)

    providers_in_gateway = gateway.sandboxes  # noqa: F841 (keeps the fixture obviously live)
    created = await providers.topremit.create_virtual_account(va_request())
    from clearing_gateway.providers.callbacks import handlers

    handlers.register(PaymentReceived, handler)
    try:
        await gateway.control(
            "topremit",
            f"va/{created.reference}/pay",
            {"amount": "150000.00", "payerName": "Jhon Doe"},
        )
        await settled_inbox(runtime, "topremit", 1)
        await gateway.control("topremit", "callbacks/resend-last")
        rows = await settled_inbox(runtime, "topremit", 2)
    finally:
        handlers.unregister(PaymentReceived)
    assert [r.status for r in rows] == ["applied", "duplicate"]
    assert len(seen) == 1
    event = seen[0]
    assert event.instrument == "va"
    assert event.amount == 15_000_000
    assert event.virtual_account_no == created.virtual_account_no
    assert event.reference == created.reference
    assert event.payer_name == "Jhon Doe"
    assert rows[0].body  # the raw body is kept byte for byte
    assert json.loads(rows[0].body)["trxId"] == created.reference


async def test_forged_and_stale_callbacks_are_rejected_and_kept(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    config = providers.topremit.config
    url = f"{gateway.url}/callbacks/topremit/va"
    body = json.dumps(
        {
            "partnerServiceId": "   88899",
            "customerNo": "1",
            "virtualAccountNo": "888991",
            "virtualAccountName": "X",
            "trxId": "T-1",
            "paidAmount": {"value": "10.00", "currency": "IDR"},
            "trxDateTime": snap_timestamp(utcnow()),
            "referenceNo": "P-1",
            "additionalInfo": {"paymentId": "P-1", "status": "PAID", "type": "VIRTUAL_ACCOUNT"},
        }
    ).encode()

    def headers(secret: str, moment: dt.datetime, partner: str) -> dict[str, str]:
        stamp = snap_timestamp(moment)
        return {
            "Content-Type": "application/json",
            "Authorization": "Bearer t",
            "X-TIMESTAMP": stamp,
            "X-SIGNATURE": transaction_signature(
                secret, "POST", "/callbacks/topremit/va", "t", body, stamp
            ),
            "X-PARTNER-ID": partner,
            "X-EXTERNAL-ID": external_id(),
            "CHANNEL-ID": "95221",
        }

    now = utcnow()
    forged = await gateway.http.post(
        url, content=body, headers=headers("guess", now, config.partner_id)
    )
    stale = await gateway.http.post(
        url,
        content=body,
        headers=headers(config.callback_secret, now - dt.timedelta(hours=1), config.partner_id),
    )
    partner = await gateway.http.post(
        url, content=body, headers=headers(config.callback_secret, now, "intruder")
    )
    malformed = await gateway.http.post(
        url, content=b"{not json", headers=headers(config.callback_secret, now, config.partner_id)
    )
    genuine = await gateway.http.post(
        url, content=body, headers=headers(config.callback_secret, now, config.partner_id)
    )
    assert [r.status_code for r in (forged, stale, partner, malformed)] == [401, 401, 401, 401]
    assert forged.json()["responseCode"] == "4012500"
    assert (genuine.status_code, genuine.content) == (200, b"{}")
    rows = await inbox(runtime, "topremit")
    assert [r.status for r in rows] == ["rejected"] * 4 + ["applied"]
    assert "X-SIGNATURE" in (rows[0].error or "")
    assert "window" in (rows[1].error or "")
    assert "X-PARTNER-ID" in (rows[2].error or "")
    # The forged callbacks with the same payment id did not shadow the genuine one.
    assert rows[4].event_key == "va:P-1"
