"""The SDK against a real gateway process in sandbox mode: every endpoint, a webhook
received, verified and confirmed, and the safety properties (idempotent retries, clock
skew, errors) on the wire."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from caci_gateway import (
    AsyncCaciClient,
    BalanceTopUpRequest,
    CaciClient,
    ConflictError,
    ConnectionFailedError,
    CreateFixedAmountRequest,
    CreateUserRequest,
    CreateVirtualAccountRequest,
    CreateWebhookRequest,
    CreateWithdrawalRequest,
    Debit,
    Deposit,
    DepositInquiryRequest,
    DepositPaymentRequest,
    NotFoundError,
    RetryPolicy,
    RetryWebhookRequest,
    SimulatedPaymentDetails,
    TransactionFilters,
    UpdateUserRequest,
    UpdateVirtualAccountRequest,
    UpdateWebhookRequest,
    ValidationError,
    WebhookVerificationError,
    WebhookVerifier,
    WhitelistedWithdrawalAccount,
    Withdrawal,
)
from tests.sdk.conftest import PREFIX, Gateway
from tests.support.receiver import Receiver

HOLDER = "Karman Prasasta"
ACCOUNT = WhitelistedWithdrawalAccount(bank_code="014", account_no="500654309")
FAST = RetryPolicy(max_retries=3, backoff_base=0.05, backoff_max=0.2)


def client(gateway: Gateway, **kwargs: Any) -> CaciClient:
    return CaciClient(
        gateway.url,
        gateway.credentials.api_key,
        gateway.credentials.api_secret,
        retry=kwargs.pop("retry", FAST),
        **kwargs,
    )


def wait_for(receiver: Receiver, path: str, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.received(path)) < count:
        assert time.monotonic() < deadline, f"{path}: {len(receiver.received(path))}/{count}"
        time.sleep(0.05)


def test_every_endpoint_with_the_sync_client(gateway: Gateway, receiver: Receiver) -> None:
    with client(gateway) as caci:
        # Webhooks first, so the payments below are delivered.
        deposits_hook = caci.create_webhook(
            CreateWebhookRequest(
                event_type="va_payment", url=receiver.url("/deposits"), description="deposits"
            )
        )
        transfers_hook = caci.create_webhook(
            CreateWebhookRequest(event_type="transfer", url=receiver.url("/transfers"))
        )
        assert deposits_hook.secret.startswith("whsec_")
        assert {w.id for w in caci.list_webhooks()} >= {deposits_hook.id, transfers_hook.id}
        updated_hook = caci.update_webhook(
            deposits_hook.id, UpdateWebhookRequest(description="deposits (primary)")
        )
        assert updated_hook.description == "deposits (primary)"

        # Users
        user = caci.create_user(
            CreateUserRequest(
                user_id="567890",
                kyc_name=HOLDER,
                type="retail",
                phone="6281234567890",
                nationality="ID",
                whitelisted_kyc_names=["Karman"],
                whitelisted_withdrawal_accounts=[ACCOUNT],
            )
        )
        assert (user.user_id, user.status) == ("567890", "active")
        assert caci.get_user("567890").kyc_name == HOLDER
        assert caci.update_user("567890", UpdateUserRequest(email="k@example.com")).email == (
            "k@example.com"
        )

        # Instruments
        groups = caci.list_payment_instruments()
        assert any(g.provider == "topremit" for g in groups)
        va = caci.create_virtual_account(
            CreateVirtualAccountRequest(user_id="567890", bank_code="014")
        )
        assert caci.get_virtual_account(va.payment_instrument_id).virtual_account_no == (
            va.virtual_account_no
        )
        renamed = caci.update_virtual_account(
            va.payment_instrument_id, UpdateVirtualAccountRequest(virtual_account_name="Karman VA")
        )
        assert renamed.virtual_account_name == "Karman VA"
        qris = caci.create_qris(CreateFixedAmountRequest(user_id="567890", amount="15000.00"))
        assert qris.type == "QRIS"
        assert qris.qr_content
        cash_in = caci.create_cash_in(CreateFixedAmountRequest(user_id="567890", amount="15000.00"))
        assert cash_in.type == "CASHIN"
        assert {a.payment_instrument_id for a in caci.list_user_virtual_accounts("567890")} >= {
            va.payment_instrument_id,
            qris.payment_instrument_id,
        }

        # Simulator -> deposit -> va_payment webhook, verified and confirmed
        found = caci.simulate_deposit_inquiry(
            DepositInquiryRequest(virtual_account_no=va.virtual_account_no, bank_code="014")
        )
        assert found.payment_instrument_id == va.payment_instrument_id
        paid = caci.simulate_deposit_payment(
            DepositPaymentRequest(
                virtual_account_no=va.virtual_account_no,
                bank_code="014",
                payment=SimulatedPaymentDetails(amount="20000.00"),
            )
        )
        assert (paid.amount, paid.status) == ("20000.00", "COMPLETED")

        wait_for(receiver, "/deposits", 1)
        delivery = receiver.received("/deposits")[0]
        event = WebhookVerifier(deposits_hook.secret).verify(delivery.body, delivery.headers)
        assert event.event_type == "va_payment"
        assert event.caci_tx_id == paid.transaction_id
        confirmed = caci.confirm(event)
        assert isinstance(confirmed, Deposit)
        assert (confirmed.transaction_id, confirmed.status) == (paid.transaction_id, "COMPLETED")
        with pytest.raises(WebhookVerificationError):
            WebhookVerifier(transfers_hook.secret).verify(delivery.body, delivery.headers)

        # Deposits: get, list, iterate
        assert caci.get_deposit(paid.transaction_id).amount == "20000.00"
        mine = TransactionFilters(user_id="567890")
        page = caci.list_deposits(mine)
        assert [d.transaction_id for d in page.transactions] == [paid.transaction_id]
        assert [d.transaction_id for d in caci.iter_deposits(mine)] == [paid.transaction_id]

        # Balances
        balances = caci.get_balances()
        deposit_vault = {
            (g.provider, b.vault_type): b.available for g in balances for b in g.balances
        }
        assert Decimal(deposit_vault[("topremit", "deposit")]) >= Decimal("20000.00")

        # Withdrawals -> transfer webhook, verified and confirmed
        gateway.fund_withdrawals(10_000_000)
        withdrawal = caci.create_withdrawal(
            CreateWithdrawalRequest(
                user_id="567890",
                merchant_reference="INV-0001",
                beneficiary_bank_code="014",
                beneficiary_account_no="500654309",
                beneficiary_account_name=HOLDER,
                amount="20000.00",
            )
        )
        assert withdrawal.amount == "20000.00"
        assert caci.get_withdrawal(withdrawal.transaction_id).merchant_reference == "INV-0001"
        assert [w.transaction_id for w in caci.list_withdrawals(mine).transactions] == [
            withdrawal.transaction_id
        ]
        assert [w.transaction_id for w in caci.iter_withdrawals(mine, page_size=1)] == [
            withdrawal.transaction_id
        ]
        wait_for(receiver, "/transfers", 1)
        transfer = receiver.received("/transfers")[0]
        transfer_event = WebhookVerifier(transfers_hook.secret).verify(
            transfer.body, transfer.headers
        )
        assert transfer_event.event_type == "transfer"
        record = caci.confirm(transfer_event)
        assert isinstance(record, Withdrawal)
        assert record.transaction_id == withdrawal.transaction_id

        # Webhook operations: retry, delivery log, secret rotation, delete
        retried = caci.retry_webhook(RetryWebhookRequest(transaction_id=paid.transaction_id))
        assert [s.webhook_id for s in retried.scheduled] == [deposits_hook.id]
        wait_for(receiver, "/deposits", 2)
        again = receiver.received("/deposits")[1]
        assert again.headers["webhook-id"] == delivery.headers["webhook-id"]  # dedupe key
        log = caci.list_webhook_deliveries(transaction_id=paid.transaction_id)
        assert log
        assert all(d.webhook_id == deposits_hook.id for d in log)
        rotated = caci.rotate_webhook_secret(deposits_hook.id)
        assert rotated.secret != deposits_hook.secret
        assert caci.delete_webhook(transfers_hook.id).reason == "Webhook deleted successfully"
        remaining = {w.id for w in caci.list_webhooks()}
        assert deposits_hook.id in remaining
        assert transfers_hook.id not in remaining
        # Leave no live webhook behind for the module's other tests.
        caci.delete_webhook(deposits_hook.id)

        # Errors carry the envelope
        with pytest.raises(NotFoundError) as missing:
            caci.get_user("nobody")
        assert (missing.value.code, missing.value.message) == (404, "NOT_FOUND")
        assert "nobody" in missing.value.reason
        assert missing.value.request_id
        assert caci.delete_user("567890").reason == "User deleted successfully"
        with pytest.raises(NotFoundError):
            caci.get_user("567890")


class LoseFirstResponse(httpx.BaseTransport):
    """The request reaches the gateway, but the first answer is lost on the way back."""

    def __init__(self, failures: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.failures = failures
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.read())
        response = self.inner.handle_request(request)
        if self.failures:
            self.failures -= 1
            response.read()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


class GatewayHiccup(httpx.BaseTransport):
    """A 503 from a proxy in front of the gateway, then the gateway itself."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(503, json={"code": 503, "message": "SERVICE_UNAVAILABLE"})
        return self.inner.handle_request(request)


def test_a_settlement_debit_notify_is_verified_and_confirmed(
    gateway: Gateway, receiver: Receiver
) -> None:
    with client(gateway) as caci:
        hook = caci.create_webhook(
            CreateWebhookRequest(event_type="debit_notify", url=receiver.url("/debits"))
        )
        topped = caci.simulate_balance_top_up(
            BalanceTopUpRequest(provider="topremit", vault_type="deposit", amount="50000.00")
        )
        assert (topped.provider, topped.vault_type, topped.amount) == (
            "topremit",
            "deposit",
            "50000.00",
        )
        gateway.settle_on_demand()
        sweep = caci.sweep_settled_deposits()
        assert sweep.swept
        assert Decimal(sweep.amount) >= Decimal("50000.00")
        wait_for(receiver, "/debits", 1)
        delivery = receiver.received("/debits")[0]
        event = WebhookVerifier(hook.secret).verify(delivery.body, delivery.headers)
        assert event.event_type == "debit_notify"
        assert event.confirm_with == "debit"
        record = caci.confirm(event)
        assert isinstance(record, Debit)
        assert record.caci_tx_id == event.caci_tx_id
        assert (record.debit_type, record.status, record.vault_type) == (
            "SETTLEMENT",
            "SUCCESS",
            "deposit",
        )
        assert Decimal(record.amount) >= Decimal("50000.00")
        assert record.amount == event.payload["amount"]["value"] == sweep.amount
        assert record.original_reference_no == sweep.transfer_id
        assert caci.get_debit(event.caci_tx_id) == record
        with pytest.raises(NotFoundError):
            caci.get_debit(str(uuid.uuid4()))


def test_a_retried_post_reuses_its_request_id_and_applies_once(gateway: Gateway) -> None:
    transport = LoseFirstResponse()
    http = httpx.Client(base_url=gateway.url, transport=transport)
    with client(gateway, http_client=http) as caci:
        user = caci.create_user(CreateUserRequest(user_id="u-retry", kyc_name="A B", type="other"))
    assert user.user_id == "u-retry"
    first, second = (json.loads(body) for body in transport.bodies)
    assert first["requestId"] == second["requestId"]
    with client(gateway) as caci:
        assert len([u for u in [caci.get_user("u-retry")]]) == 1
        # Sending it as a new request (new requestId) would be a duplicate: it was created once.
        with pytest.raises(ConflictError) as duplicate:
            caci.create_user(CreateUserRequest(user_id="u-retry", kyc_name="A B", type="other"))
        assert duplicate.value.message == "DUPLICATE"


def test_a_write_without_request_id_is_never_resent_blindly(gateway: Gateway) -> None:
    """The simulator's payment has no requestId: a lost answer is reported, not re-sent,
    so the sandbox never pays twice."""
    with client(gateway) as caci:
        caci.create_user(CreateUserRequest(user_id="u-sim", kyc_name="Sim", type="retail"))
        va = caci.create_virtual_account(
            CreateVirtualAccountRequest(user_id="u-sim", bank_code="014")
        )
    transport = LoseFirstResponse()
    http = httpx.Client(base_url=gateway.url, transport=transport)
    with client(gateway, http_client=http) as caci, pytest.raises(ConnectionFailedError):
        caci.simulate_deposit_payment(
            DepositPaymentRequest(
                virtual_account_no=va.virtual_account_no,
                bank_code="014",
                payment=SimulatedPaymentDetails(amount="12000.00"),
            )
        )
    assert len(transport.bodies) == 1
    with client(gateway) as caci:
        paid = list(caci.iter_deposits(TransactionFilters(user_id="u-sim")))
    assert [d.amount for d in paid] == ["12000.00"]


def test_5xx_is_retried_and_a_reused_request_id_for_another_body_conflicts(
    gateway: Gateway,
) -> None:
    hiccup = GatewayHiccup()
    http = httpx.Client(base_url=gateway.url, transport=hiccup)
    with client(gateway, http_client=http) as caci:
        assert isinstance(caci.get_balances(), list)
    assert hiccup.calls == 2
    with client(gateway) as caci:
        request_id = str(uuid.uuid4())
        caci.create_user(
            CreateUserRequest(request_id=request_id, user_id="u-1", kyc_name="A", type="retail")
        )
        with pytest.raises(ConflictError) as conflict:
            caci.create_user(
                CreateUserRequest(request_id=request_id, user_id="u-2", kyc_name="B", type="retail")
            )
        assert conflict.value.message == "IDEMPOTENCY_CONFLICT"
        assert conflict.value.request_id == request_id
        with pytest.raises(ValidationError) as invalid:
            caci.create_user(
                CreateUserRequest(user_id="u-3", kyc_name="C", type="retail", email="x")
            )
        assert invalid.value.reason.startswith("email")


def test_clock_skew_is_learnt_from_the_gateway(gateway: Gateway) -> None:
    ten_minutes_fast = lambda: time.time() + 600  # noqa: E731
    with client(gateway, clock=ten_minutes_fast) as caci:
        assert isinstance(caci.get_balances(), list)
        assert abs(caci.signer.clock_offset_ms + 600_000) < 5_000


def test_calls_through_the_d_prefix_are_signed_with_it(gateway: Gateway) -> None:
    with client(gateway, path_prefix=PREFIX) as caci:
        caci.create_user(CreateUserRequest(user_id="via-d", kyc_name="D", type="retail"))
        assert caci.get_user("via-d").user_id == "via-d"


async def test_the_async_client_end_to_end(gateway: Gateway, receiver: Receiver) -> None:
    async with AsyncCaciClient(
        gateway.url, gateway.credentials.api_key, gateway.credentials.api_secret, retry=FAST
    ) as caci:
        hook = await caci.create_webhook(
            CreateWebhookRequest(event_type="va_payment", url=receiver.url("/async"))
        )
        await caci.create_user(CreateUserRequest(user_id="async-1", kyc_name="As", type="retail"))
        va = await caci.create_virtual_account(
            CreateVirtualAccountRequest(user_id="async-1", bank_code="014")
        )
        paid = []
        for amount in ("15000.00", "16000.00", "17000.00"):
            paid.append(
                await caci.simulate_deposit_payment(
                    DepositPaymentRequest(
                        virtual_account_no=va.virtual_account_no,
                        bank_code="014",
                        payment=SimulatedPaymentDetails(amount=amount),
                    )
                )
            )
        mine = TransactionFilters(user_id="async-1")
        seen = [d.transaction_id async for d in caci.iter_deposits(mine, page_size=2)]
        assert sorted(seen) == sorted(p.transaction_id for p in paid)
        wait_for(receiver, "/async", 3)
        verifier = WebhookVerifier(hook.secret)
        processed: set[str] = set()
        for delivery in receiver.received("/async"):
            event = verifier.verify(delivery.body, delivery.headers, event_type="va_payment")
            record = await caci.confirm(event)
            assert record.status == "COMPLETED"
            processed.add(event.caci_tx_id)
        assert processed == {p.transaction_id for p in paid}
        with pytest.raises(NotFoundError):
            await caci.get_deposit(str(uuid.uuid4()))
