"""The asynchronous client: the same methods as `CaciClient`, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


class AsyncCaciClient:
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
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.signer = Signer(api_key, api_secret, path_prefix.rstrip("/"), clock=clock)
        self.retry = retry or RetryPolicy()
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout
        )
        self._sleep = sleep

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncCaciClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def execute(self, call: Call[T]) -> T:
        """Send one operation: signed afresh on every attempt, the same requestId each time."""
        attempt = 0
        skew_fixed = False
        while True:
            path, content, headers = self.signer.prepare(call)
            try:
                response = await self._http.request(
                    call.method, path, content=content or None, params=call.params, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self.retry.max_retries or not call.may_resend_after(exc):
                    raise ConnectionFailedError(
                        f"{call.method} {call.path}: {type(exc).__name__}: {exc}",
                        request_id=call.request_id,
                    ) from exc
                await self._sleep(self.retry.delay(attempt))
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
                await self._sleep(self.retry.delay(attempt, retry_after(response)))
                attempt += 1
                continue
            raise to_error(response, body, call)

    async def _walk(
        self,
        fetch: Callable[[m.TransactionFilters], Awaitable[m.Page[Item]]],
        filters: m.TransactionFilters | None,
        page_size: int,
    ) -> AsyncIterator[Item]:
        cursor = PageCursor(filters, page_size)
        while cursor.open:
            page = await fetch(cursor.filters())
            for item in page.transactions:
                yield item
            cursor.advance(page)

    # --- users ---------------------------------------------------------------------------

    async def create_user(self, request: m.CreateUserRequest) -> m.User:
        return await self.execute(ops.create_user(request))

    async def get_user(self, user_id: str) -> m.User:
        return await self.execute(ops.get_user(user_id))

    async def update_user(self, user_id: str, request: m.UpdateUserRequest) -> m.User:
        return await self.execute(ops.update_user(user_id, request))

    async def delete_user(
        self, user_id: str, *, request_id: str | None = None
    ) -> m.Acknowledgement:
        return await self.execute(ops.delete_user(user_id, request_id))

    async def list_user_virtual_accounts(self, user_id: str) -> list[m.VirtualAccount]:
        return await self.execute(ops.list_user_virtual_accounts(user_id))

    # --- payment instruments and virtual accounts ----------------------------------------

    async def list_payment_instruments(self) -> list[m.ProviderInstruments]:
        return await self.execute(ops.list_payment_instruments())

    async def create_virtual_account(
        self, request: m.CreateVirtualAccountRequest
    ) -> m.VirtualAccount:
        return await self.execute(ops.create_virtual_account(request))

    async def get_virtual_account(self, payment_instrument_id: str) -> m.VirtualAccount:
        return await self.execute(ops.get_virtual_account(payment_instrument_id))

    async def update_virtual_account(
        self, payment_instrument_id: str, request: m.UpdateVirtualAccountRequest
    ) -> m.VirtualAccount:
        return await self.execute(ops.update_virtual_account(payment_instrument_id, request))

    async def create_qris(self, request: m.CreateFixedAmountRequest) -> m.VirtualAccount:
        return await self.execute(ops.create_qris(request))

    async def create_cash_in(self, request: m.CreateFixedAmountRequest) -> m.VirtualAccount:
        return await self.execute(ops.create_cash_in(request))

    # --- withdrawals, deposits, balances -------------------------------------------------

    async def create_withdrawal(self, request: m.CreateWithdrawalRequest) -> m.Withdrawal:
        return await self.execute(ops.create_withdrawal(request))

    async def list_withdrawals(
        self, filters: m.TransactionFilters | None = None
    ) -> m.WithdrawalPage:
        return await self.execute(ops.list_withdrawals(filters))

    async def iter_withdrawals(
        self, filters: m.TransactionFilters | None = None, *, page_size: int = 100
    ) -> AsyncIterator[m.Withdrawal]:
        """Every matching withdrawal, newest first, fetching page after page."""
        async for item in self._walk(self.list_withdrawals, filters, page_size):
            yield item

    async def get_withdrawal(self, transaction_id: str) -> m.Withdrawal:
        return await self.execute(ops.get_withdrawal(transaction_id))

    async def list_deposits(self, filters: m.TransactionFilters | None = None) -> m.DepositPage:
        return await self.execute(ops.list_deposits(filters))

    async def iter_deposits(
        self, filters: m.TransactionFilters | None = None, *, page_size: int = 100
    ) -> AsyncIterator[m.Deposit]:
        """Every matching deposit, newest first, fetching page after page."""
        async for item in self._walk(self.list_deposits, filters, page_size):
            yield item

    async def get_deposit(self, transaction_id: str) -> m.Deposit:
        return await self.execute(ops.get_deposit(transaction_id))

    async def get_balances(self) -> list[m.ProviderBalances]:
        return await self.execute(ops.get_balances())

    async def sweep_settled_deposits(self, request: m.SweepRequest | None = None) -> m.Sweep:
        """Move settled deposits into the withdrawal vault now (settlement must be on)."""
        return await self.execute(ops.sweep_settled_deposits(request or m.SweepRequest()))

    async def get_debit(self, caci_tx_id: str) -> m.Debit:
        """The debit a `debit_notify` announced (settlement sweep, fee, adjustment)."""
        return await self.execute(ops.get_debit(caci_tx_id))

    # --- webhooks ------------------------------------------------------------------------

    async def create_webhook(self, request: m.CreateWebhookRequest) -> m.WebhookWithSecret:
        return await self.execute(ops.create_webhook(request))

    async def list_webhooks(self) -> list[m.Webhook]:
        return await self.execute(ops.list_webhooks())

    async def update_webhook(self, webhook_id: str, request: m.UpdateWebhookRequest) -> m.Webhook:
        return await self.execute(ops.update_webhook(webhook_id, request))

    async def delete_webhook(
        self, webhook_id: str, *, request_id: str | None = None
    ) -> m.Acknowledgement:
        return await self.execute(ops.delete_webhook(webhook_id, request_id))

    async def retry_webhook(self, request: m.RetryWebhookRequest) -> m.WebhookRetry:
        return await self.execute(ops.retry_webhook(request))

    async def rotate_webhook_secret(
        self, webhook_id: str, *, request_id: str | None = None
    ) -> m.WebhookSecret:
        return await self.execute(ops.rotate_webhook_secret(webhook_id, request_id))

    async def list_webhook_deliveries(self, **filters: Any) -> list[m.WebhookDelivery]:
        """Filters: transaction_id, webhook_id, status ('succeeded'/'failed'), limit."""
        return await self.execute(ops.list_webhook_deliveries(**filters))

    async def confirm(self, event: WebhookEvent) -> m.Deposit | m.Withdrawal | m.Debit:
        """What the document requires before acting on a webhook: fetch the transaction by
        its caciTxId through the read API and return that authoritative record."""
        kind = event.confirm_with
        if kind == "deposit":
            return await self.get_deposit(event.caci_tx_id)
        if kind == "withdrawal":
            return await self.get_withdrawal(event.caci_tx_id)
        if kind == "debit":
            return await self.get_debit(event.caci_tx_id)
        raise ValueError(f"no read API confirms {event.event_type} events yet")

    # --- simulator (sandbox only) --------------------------------------------------------

    async def simulate_deposit_inquiry(self, request: m.DepositInquiryRequest) -> m.VirtualAccount:
        return await self.execute(ops.simulate_deposit_inquiry(request))

    async def simulate_deposit_payment(
        self, request: m.DepositPaymentRequest
    ) -> m.SimulatedDeposit:
        return await self.execute(ops.simulate_deposit_payment(request))

    async def simulate_balance_top_up(self, request: m.BalanceTopUpRequest) -> m.BalanceTopUp:
        """Fund one of the merchant's vaults directly (sandbox only)."""
        return await self.execute(ops.simulate_balance_top_up(request))
