"""What the sync and async clients share: the operations (method, path, body, parser),
retry policy, clock-skew correction and response decoding. The clients only do I/O."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from caci_gateway import models as m
from caci_gateway.errors import ApiError, error_for
from caci_gateway.signing import encode_body, signed_headers

T = TypeVar("T")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
USER_AGENT = "caci-gateway-python/1.0.3"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on connection errors, timeouts, 429 and 5xx, with exponential backoff and
    full jitter. Safe for POST/PUT/PATCH/DELETE because every retry repeats the same
    `requestId`: the gateway applies the request once and replays its first answer."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        backoff = min(self.backoff_max, self.backoff_base * 2**attempt)
        wait = random.uniform(backoff / 2, backoff)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max * 4))
        return wait


@dataclass
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[dict[str, Any]], T]
    body: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    request_id: str | None = field(default=None)

    @property
    def replay_safe(self) -> bool:
        """GETs, and writes carrying a requestId, can be re-sent blindly. A write without
        one (the simulator's) is re-sent only if it surely never arrived."""
        return self.method == "GET" or self.request_id is not None

    def may_resend_after(self, error: httpx.TransportError) -> bool:
        return self.replay_safe or isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)


def segment(value: object) -> str:
    return quote(str(value), safe="")


def _body(request: m._Request) -> tuple[dict[str, Any], str]:
    body = request.wire()
    # Generated once per call, so every retry of the call carries the same requestId.
    body.setdefault("requestId", str(uuid.uuid4()))
    return body, str(body["requestId"])


def _data(model: Any) -> Callable[[dict[str, Any]], Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    return lambda envelope: adapter.validate_python(envelope.get("data"))


def _ack(envelope: dict[str, Any]) -> m.Acknowledgement:
    return m.Acknowledgement.model_validate(envelope)


def _simulated(envelope: dict[str, Any]) -> m.SimulatedDeposit:
    return m.SimulatedDeposit.model_validate(envelope["data"])


def _mutation(method: str, path: str, request: m._Request, parse: Any) -> Call[Any]:
    body, request_id = _body(request)
    return Call(method, path, parse, body=body, request_id=request_id)


def _query(filters: BaseModel | None, **extra: Any) -> dict[str, Any]:
    params = filters.model_dump(by_alias=True, exclude_none=True, mode="json") if filters else {}
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


class Operations:
    """One constructor per API operation; each returns the Call the clients execute."""

    # Users
    @staticmethod
    def create_user(request: m.CreateUserRequest) -> Call[m.User]:
        return _mutation("POST", "/v1/users", request, _data(m.User))

    @staticmethod
    def get_user(user_id: str) -> Call[m.User]:
        return Call("GET", f"/v1/users/{segment(user_id)}", _data(m.User))

    @staticmethod
    def update_user(user_id: str, request: m.UpdateUserRequest) -> Call[m.User]:
        return _mutation("PUT", f"/v1/users/{segment(user_id)}", request, _data(m.User))

    @staticmethod
    def delete_user(user_id: str, request_id: str | None = None) -> Call[m.Acknowledgement]:
        request = m._Request(request_id=request_id)
        return _mutation("DELETE", f"/v1/users/{segment(user_id)}", request, _ack)

    @staticmethod
    def list_user_virtual_accounts(user_id: str) -> Call[list[m.VirtualAccount]]:
        path = f"/v1/users/{segment(user_id)}/virtual-accounts"
        return Call("GET", path, _data(list[m.VirtualAccount]))

    # Payment instruments and virtual accounts
    @staticmethod
    def list_payment_instruments() -> Call[list[m.ProviderInstruments]]:
        return Call("GET", "/v1/payment-instruments", _data(list[m.ProviderInstruments]))

    @staticmethod
    def create_virtual_account(request: m.CreateVirtualAccountRequest) -> Call[m.VirtualAccount]:
        return _mutation("POST", "/v1/virtual-accounts", request, _data(m.VirtualAccount))

    @staticmethod
    def get_virtual_account(payment_instrument_id: str) -> Call[m.VirtualAccount]:
        path = f"/v1/virtual-accounts/{segment(payment_instrument_id)}"
        return Call("GET", path, _data(m.VirtualAccount))

    @staticmethod
    def update_virtual_account(
        payment_instrument_id: str, request: m.UpdateVirtualAccountRequest
    ) -> Call[m.VirtualAccount]:
        path = f"/v1/virtual-accounts/{segment(payment_instrument_id)}"
        return _mutation("PUT", path, request, _data(m.VirtualAccount))

    @staticmethod
    def create_qris(request: m.CreateFixedAmountRequest) -> Call[m.VirtualAccount]:
        return _mutation("POST", "/v1/qris", request, _data(m.VirtualAccount))

    @staticmethod
    def create_cash_in(request: m.CreateFixedAmountRequest) -> Call[m.VirtualAccount]:
        return _mutation("POST", "/v1/cash-in", request, _data(m.VirtualAccount))

    # Withdrawals, deposits, balances
    @staticmethod
    def create_withdrawal(request: m.CreateWithdrawalRequest) -> Call[m.Withdrawal]:
        return _mutation("POST", "/v1/withdrawals", request, _data(m.Withdrawal))

    @staticmethod
    def list_withdrawals(filters: m.TransactionFilters | None) -> Call[m.WithdrawalPage]:
        return Call("GET", "/v1/withdrawals", _data(m.WithdrawalPage), params=_query(filters))

    @staticmethod
    def get_withdrawal(transaction_id: str) -> Call[m.Withdrawal]:
        return Call("GET", f"/v1/withdrawals/{segment(transaction_id)}", _data(m.Withdrawal))

    @staticmethod
    def list_deposits(filters: m.TransactionFilters | None) -> Call[m.DepositPage]:
        return Call("GET", "/v1/deposits", _data(m.DepositPage), params=_query(filters))

    @staticmethod
    def get_deposit(transaction_id: str) -> Call[m.Deposit]:
        return Call("GET", f"/v1/deposits/{segment(transaction_id)}", _data(m.Deposit))

    @staticmethod
    def get_balances() -> Call[list[m.ProviderBalances]]:
        return Call("GET", "/v1/balances", _data(list[m.ProviderBalances]))

    @staticmethod
    def sweep_settled_deposits(request: m.SweepRequest) -> Call[m.Sweep]:
        return _mutation("POST", "/v1/settlements/sweeps", request, _data(m.Sweep))

    @staticmethod
    def get_debit(caci_tx_id: str) -> Call[m.Debit]:
        return Call("GET", f"/v1/debits/{segment(caci_tx_id)}", _data(m.Debit))

    # Webhooks
    @staticmethod
    def create_webhook(request: m.CreateWebhookRequest) -> Call[m.WebhookWithSecret]:
        return _mutation("POST", "/v1/webhooks", request, _data(m.WebhookWithSecret))

    @staticmethod
    def list_webhooks() -> Call[list[m.Webhook]]:
        return Call("GET", "/v1/webhooks", _data(list[m.Webhook]))

    @staticmethod
    def update_webhook(webhook_id: str, request: m.UpdateWebhookRequest) -> Call[m.Webhook]:
        path = f"/v1/webhooks/{segment(webhook_id)}"
        return _mutation("PUT", path, request, _data(m.Webhook))

    @staticmethod
    def delete_webhook(webhook_id: str, request_id: str | None = None) -> Call[m.Acknowledgement]:
        request = m._Request(request_id=request_id)
        return _mutation("DELETE", f"/v1/webhooks/{segment(webhook_id)}", request, _ack)

    @staticmethod
    def retry_webhook(request: m.RetryWebhookRequest) -> Call[m.WebhookRetry]:
        return _mutation("POST", "/v1/webhooks/retry", request, _data(m.WebhookRetry))

    @staticmethod
    def rotate_webhook_secret(
        webhook_id: str, request_id: str | None = None
    ) -> Call[m.WebhookSecret]:
        request = m._Request(request_id=request_id)
        path = f"/v1/webhooks/{segment(webhook_id)}/rotate-secret"
        return _mutation("POST", path, request, _data(m.WebhookSecret))

    @staticmethod
    def list_webhook_deliveries(
        *,
        transaction_id: str | None = None,
        webhook_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> Call[list[m.WebhookDelivery]]:
        params = _query(
            None, transactionId=transaction_id, webhookId=webhook_id, status=status, limit=limit
        )
        return Call("GET", "/v1/webhooks/deliveries", _data(list[m.WebhookDelivery]), params=params)

    # Simulator (sandbox only)
    @staticmethod
    def simulate_deposit_inquiry(request: m.DepositInquiryRequest) -> Call[m.VirtualAccount]:
        return Call(
            "POST",
            "/v1/simulator/deposits/inquiry",
            _data(m.VirtualAccount),
            body=request.wire(),
        )

    @staticmethod
    def simulate_deposit_payment(request: m.DepositPaymentRequest) -> Call[m.SimulatedDeposit]:
        return Call("POST", "/v1/simulator/deposits/payment", _simulated, body=request.wire())

    @staticmethod
    def simulate_balance_top_up(request: m.BalanceTopUpRequest) -> Call[m.BalanceTopUp]:
        return _mutation("POST", "/v1/simulator/balances/top-up", request, _data(m.BalanceTopUp))


@dataclass
class Signer:
    api_key: str
    api_secret: str
    path_prefix: str = ""
    # Milliseconds added to the local clock; learnt from the gateway on a skew error.
    clock_offset_ms: int = 0
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        return int(self.clock() * 1000) + self.clock_offset_ms

    def prepare(self, call: Call[Any]) -> tuple[str, bytes, dict[str, str]]:
        path = self.path_prefix + call.path
        raw = encode_body(call.body) if call.body is not None else ""
        headers = signed_headers(
            api_key=self.api_key,
            api_secret=self.api_secret,
            method=call.method,
            path=path,
            raw_body=raw,
            timestamp=self.now_ms(),
        )
        headers["User-Agent"] = USER_AGENT
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        return path, raw.encode("utf-8"), headers

    def learn_skew(self, response: httpx.Response, body: Any) -> bool:
        """After TIMESTAMP_OUT_OF_WINDOW: align with the gateway's clock. True if learnt."""
        server_ms: int | None = None
        if isinstance(body, dict) and isinstance(body.get("timestamp"), int):
            server_ms = int(body["timestamp"])
        elif "date" in response.headers:
            parsed = email.utils.parsedate_to_datetime(response.headers["date"])
            server_ms = int(parsed.timestamp() * 1000)
        if server_ms is None:
            return False
        self.clock_offset_ms = server_ms - int(self.clock() * 1000)
        return True


def decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def is_skew(response: httpx.Response, body: Any) -> bool:
    return (
        response.status_code == 401
        and isinstance(body, dict)
        and body.get("message") == "TIMESTAMP_OUT_OF_WINDOW"
    )


def to_error(response: httpx.Response, body: Any, call: Call[Any]) -> ApiError:
    return error_for(
        response.status_code,
        body,
        request_id=call.request_id or response.headers.get("x-request-id"),
        retry_after=retry_after(response),
    )


class PageCursor:
    """Offset paging over a transaction list, shared by both clients' iterators."""

    def __init__(self, filters: m.TransactionFilters | None, page_size: int) -> None:
        self.base = filters or m.TransactionFilters()
        self.page_size = page_size
        self.offset = self.base.offset or 0
        self.open = True

    def filters(self) -> m.TransactionFilters:
        return self.base.model_copy(update={"limit": self.page_size, "offset": self.offset})

    def advance(self, page: m.Page[Any]) -> None:
        self.offset += len(page.transactions)
        # Past 10,000 matches the total is capped: keep going until a page comes back empty.
        self.open = bool(page.transactions) and (page.total_capped or self.offset < page.total)


class Outcome:
    """What to do with one attempt's answer."""

    RETURN = "return"
    RETRY = "retry"
    RESIGN = "resign"  # retry at once with a corrected clock
    RAISE = "raise"


def judge(
    response: httpx.Response,
    body: Any,
    *,
    attempt: int,
    policy: RetryPolicy,
    signer: Signer,
    skew_fixed: bool,
    replay_safe: bool = True,
) -> str:
    if response.status_code < 400:
        return Outcome.RETURN
    if is_skew(response, body) and not skew_fixed and signer.learn_skew(response, body):
        return Outcome.RESIGN
    # 429 means "not processed"; a 5xx may hide a request that did run.
    retryable = response.status_code == 429 or (
        replay_safe and response.status_code in RETRY_STATUSES
    )
    if retryable and attempt < policy.max_retries:
        return Outcome.RETRY
    return Outcome.RAISE
