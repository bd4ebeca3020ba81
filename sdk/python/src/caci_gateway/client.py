"""The synchronous client. `AsyncCaciClient` (async_client.py) has the same methods."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

from caci_gateway import models as m
from caci_gateway._core import (
    DEFAULT_TIMEOUT,
    Call,
    Operations,
    Outcome,
    PageCursor,
    RetryPolicy,
    Signer,
    decode,
    judge,
    retry_after,
    to_error,
)
from caci_gateway.errors import ConnectionFailedError
from caci_gateway.webhooks import WebhookEvent

T = TypeVar("T")
Item = TypeVar("Item")
ops = Operations


class CaciClient:
    """A signed, retrying client of the CACI Clearing Gateway API.

    `base_url` is where the gateway is reached; `path_prefix="/d"` when calling through
    the public proxy that adds the document's `/d` prefix (it is then signed too).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        path_prefix: str = "",
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.signer = Signer(api_key, api_secret, path_prefix.rstrip("/"), clock=clock)
        self.retry = retry or RetryPolicy()
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CaciClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def execute(self, call: Call[T]) -> T:
        """Send one operation: signed afresh on every attempt, the same requestId each time."""
        attempt = 0
        skew_fixed = False
        while True:
            path, content, headers = self.signer.prepare(call)
            try:
                response = self._http.request(
                    call.method, path, content=content or None, params=call.params, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self.retry.max_retries or not call.may_resend_after(exc):
                    raise ConnectionFailedError(
                        f"{call.method} {call.path}: {type(exc).__name__}: {exc}",
                        request_id=call.request_id,
                    ) from exc
                self._sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            body = decode(response)
            outcome = judge(
                response,
                body,
                attempt=attempt,
                policy=self.retry,
                signer=self.signer,
                skew_fixed=skew_fixed,
                replay_safe=call.replay_safe,
            )
            if outcome == Outcome.RETURN:
                return call.parse(body)
            if outcome == Outcome.RESIGN:
                skew_fixed = True
                continue
            if outcome == Outcome.RETRY:
                self._sleep(self.retry.delay(attempt, retry_after(response)))
                attempt += 1
                continue
            raise to_error(response, body, call)

    def _walk(
        self,
        fetch: Callable[[m.TransactionFilters], m.Page[Item]],
        filters: m.TransactionFilters | None,
        page_size: int,
    ) -> Iterator[Item]:
        cursor = PageCursor(filters, page_size)
        while cursor.open:
            page = fetch(cursor.filters())
            yield from page.transactions
            cursor.advance(page)

    # --- users ---------------------------------------------------------------------------

    def create_user(self, request: m.CreateUserRequest) -> m.User:
        return self.execute(ops.create_user(request))

    def get_user(self, user_id: str) -> m.User:
        return self.execute(ops.get_user(user_id))

    def update_user(self, user_id: str, request: m.UpdateUserRequest) -> m.User:
        return self.execute(ops.update_user(user_id, request))

    def delete_user(self, user_id: str, *, request_id: str | None = None) -> m.Acknowledgement:
        return self.execute(ops.delete_user(user_id, request_id))

    def list_user_virtual_accounts(self, user_id: str) -> list[m.VirtualAccount]:
        return self.execute(ops.list_user_virtual_accounts(user_id))

    # --- payment instruments and virtual accounts ----------------------------------------

    def list_payment_instruments(self) -> list[m.ProviderInstruments]:
        return self.execute(ops.list_payment_instruments())

    def create_virtual_account(self, request: m.CreateVirtualAccountRequest) -> m.VirtualAccount:
        return self.execute(ops.create_virtual_account(request))

    def get_virtual_account(self, payment_instrument_id: str) -> m.VirtualAccount:
        return self.execute(ops.get_virtual_account(payment_instrument_id))

    def update_virtual_account(
        self, payment_instrument_id: str, request: m.UpdateVirtualAccountRequest
    ) -> m.VirtualAccount:
        return self.execute(ops.update_virtual_account(payment_instrument_id, request))

    def create_qris(self, request: m.CreateFixedAmountRequest) -> m.VirtualAccount:
        return self.execute(ops.create_qris(request))

    def create_cash_in(self, request: m.CreateFixedAmountRequest) -> m.VirtualAccount:
        return self.execute(ops.create_cash_in(request))

    # --- withdrawals, deposits, balances -------------------------------------------------

    def create_withdrawal(self, request: m.CreateWithdrawalRequest) -> m.Withdrawal:
        return self.execute(ops.create_withdrawal(request))

    def list_withdrawals(self, filters: m.TransactionFilters | None = None) -> m.WithdrawalPage:
        return self.execute(ops.list_withdrawals(filters))

    def iter_withdrawals(
        self, filters: m.TransactionFilters | None = None, *, page_size: int = 100
    ) -> Iterator[m.Withdrawal]:
        """Every matching withdrawal, newest first, fetching page after page."""
        return self._walk(self.list_withdrawals, filters, page_size)

    def get_withdrawal(self, transaction_id: str) -> m.Withdrawal:
        return self.execute(ops.get_withdrawal(transaction_id))

    def list_deposits(self, filters: m.TransactionFilters | None = None) -> m.DepositPage:
        return self.execute(ops.list_deposits(filters))

    def iter_deposits(
        self, filters: m.TransactionFilters | None = None, *, page_size: int = 100
    ) -> Iterator[m.Deposit]:
        """Every matching deposit, newest first, fetching page after page."""
        return self._walk(self.list_deposits, filters, page_size)

    def get_deposit(self, transaction_id: str) -> m.Deposit:
        return self.execute(ops.get_deposit(transaction_id))

    def get_balances(self) -> list[m.ProviderBalances]:
        return self.execute(ops.get_balances())

    def sweep_settled_deposits(self, request: m.SweepRequest | None = None) -> m.Sweep:
        """Move settled deposits into the withdrawal vault now (settlement must be on)."""
        return self.execute(ops.sweep_settled_deposits(request or m.SweepRequest()))

    def get_debit(self, caci_tx_id: str) -> m.Debit:
        """The debit a `debit_notify` announced (settlement sweep, fee, adjustment)."""
        return self.execute(ops.get_debit(caci_tx_id))

    # --- webhooks ------------------------------------------------------------------------

    def create_webhook(self, request: m.CreateWebhookRequest) -> m.WebhookWithSecret:
        return self.execute(ops.create_webhook(request))

    def list_webhooks(self) -> list[m.Webhook]:
        return self.execute(ops.list_webhooks())

    def update_webhook(self, webhook_id: str, request: m.UpdateWebhookRequest) -> m.Webhook:
        return self.execute(ops.update_webhook(webhook_id, request))

    def delete_webhook(
        self, webhook_id: str, *, request_id: str | None = None
    ) -> m.Acknowledgement:
        return self.execute(ops.delete_webhook(webhook_id, request_id))

    def retry_webhook(self, request: m.RetryWebhookRequest) -> m.WebhookRetry:
        return self.execute(ops.retry_webhook(request))

    def rotate_webhook_secret(
        self, webhook_id: str, *, request_id: str | None = None
    ) -> m.WebhookSecret:
        return self.execute(ops.rotate_webhook_secret(webhook_id, request_id))

    def list_webhook_deliveries(self, **filters: Any) -> list[m.WebhookDelivery]:
        """Filters: transaction_id, webhook_id, status ('succeeded'/'failed'), limit."""
        return self.execute(ops.list_webhook_deliveries(**filters))

    def confirm(self, event: WebhookEvent) -> m.Deposit | m.Withdrawal | m.Debit:
        """What the document requires before acting on a webhook: fetch the transaction by
        its caciTxId through the read API and return that authoritative record."""
        kind = event.confirm_with
        if kind == "deposit":
            return self.get_deposit(event.caci_tx_id)
        if kind == "withdrawal":
            return self.get_withdrawal(event.caci_tx_id)
        if kind == "debit":
            return self.get_debit(event.caci_tx_id)
        raise ValueError(f"no read API confirms {event.event_type} events yet")

    # --- simulator (sandbox only) --------------------------------------------------------

    def simulate_deposit_inquiry(self, request: m.DepositInquiryRequest) -> m.VirtualAccount:
        return self.execute(ops.simulate_deposit_inquiry(request))

    def simulate_deposit_payment(self, request: m.DepositPaymentRequest) -> m.SimulatedDeposit:
        return self.execute(ops.simulate_deposit_payment(request))

    def simulate_balance_top_up(self, request: m.BalanceTopUpRequest) -> m.BalanceTopUp:
        """Fund one of the merchant's vaults directly (sandbox only)."""
        return self.execute(ops.simulate_balance_top_up(request))
