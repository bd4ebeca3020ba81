"""A local Finan Open API: signed requests (30 s window), payment requests, payouts with
OTP confirmation (an unconfirmed payout expires), a bank-account registry, balance
webhooks re-sent on Finan's (assumed) schedule with zone-less times in Jakarta time, and
the magic values of docs/sandbox.md (docs/providers/finan.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clearing_gateway.kit.clock import wib_wall_clock
from clearing_gateway.providers.finan.signing import relative_path, signature, signature_matches
from clearing_gateway.providers.sandbox_kit import (
    CallbackSender,
    FaultInjector,
    FaultMiddleware,
    OutgoingCallback,
    control_routes,
    json_bytes,
    read_json,
    route_path,
)
from clearing_gateway.providers.sandbox_magic import (
    DepositOutcome,
    PayoutOutcome,
    deposit_outcome,
    holder_for,
    payout_outcome,
)
from clearing_gateway.providers.statement_kit import StatementBook

API = "/open/api/v1"


@dataclass
class FinanSandboxConfig:
    client_id: str
    secret_key: str
    account_id: str
    pass_code: str
    callback_base_url: str
    settle_delay_seconds: float = 0.5
    auto_settle: bool = True
    sign_webhooks: bool = True
    window_seconds: int = 30
    retry_schedule: tuple[float, ...] = ()
    # How long a magic "pending" payout stays processing (docs/sandbox.md).
    pending_seconds: float = 30.0
    # A payout nobody confirms with an OTP within this long is cancelled.
    otp_expiry_seconds: float = 300.0
    # Which webhook a paid payment request sends: create_payment, cashin or both.
    payment_webhooks: str = "create_payment"


def _envelope(status: int, code: int, content: str, data: Any = None) -> Response:
    body: dict[str, Any] = {
        "message": {"content": content},
        "code": code,
        "request_id": str(uuid.uuid4()),
    }
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status)


class FinanError(Exception):
    def __init__(self, status: int, code: int, content: str) -> None:
        super().__init__(content)
        self.status, self.code, self.content = status, code, content

    def response(self) -> Response:
        return _envelope(self.status, self.code, self.content)


class FinanSandbox:
    def __init__(self, config: FinanSandboxConfig) -> None:
        self.config = config
        self.accounts: dict[tuple[str, str], str] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        # A lagging read API: while on, GET /payments shows each payment as it was before
        # the payments made since (Finan's webhook can run ahead of its read side).
        self.read_lag = False
        self.stale_payments: dict[str, dict[str, Any]] = {}
        self.statement = StatementBook()
        self.faults = FaultInjector()
        self.callbacks = CallbackSender(resign=self._sign, retry_schedule=config.retry_schedule)
        self._timers: set[asyncio.Task[None]] = set()
        self.app = FaultMiddleware(self._build(), self.faults)

    async def aclose(self) -> None:
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        await self.callbacks.aclose()

    def _build(self) -> Starlette:
        return Starlette(
            routes=[
                Route(API + "/payments", self._create_payment, methods=["POST"]),
                Route(API + "/payments", self._list_payments, methods=["GET"]),
                Route(API + "/payments/{id}", self._get_payment, methods=["GET"]),
                Route(API + "/payouts", self._create_payout, methods=["POST"]),
                Route(API + "/payouts", self._list_payouts, methods=["GET"]),
                Route(API + "/payouts/{id}", self._get_payout, methods=["GET"]),
                Route(API + "/payouts/{id}/otps", self._verify_otp, methods=["POST"]),
                Route("/control/accounts", self._add_account, methods=["POST"]),
                Route("/control/payments/{id}/pay", self._control_pay, methods=["POST"]),
                Route("/control/read-lag", self._control_read_lag, methods=["POST"]),
                Route("/control/settings", self._control_settings, methods=["POST"]),
                *self.statement.routes(),
                Route("/control/payouts/{id}/{action}", self._control_payout, methods=["POST"]),
                *control_routes(self.faults, self.callbacks),
            ]
        )

    async def _authenticate(self, request: Request) -> dict[str, Any]:
        headers = request.headers
        body = (await request.body()).decode("utf-8", "replace")
        if body and headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise FinanError(415, 415001, "Content-Type must be application/json")
        stamp = headers.get("x-timestamp", "")
        if headers.get("x-client-id") != self.config.client_id or not stamp.isdigit():
            raise FinanError(401, 401001, "Unauthorized")
        if abs(time.time() - int(stamp)) > self.config.window_seconds:
            raise FinanError(401, 401002, "Unauthorized: timestamp expired")
        path = relative_path(route_path(request))
        if request.url.query:
            path += "?" + request.url.query
        expected = signature(self.config.secret_key, request.method, path, body, stamp)
        if not signature_matches(expected, headers.get("x-signature", "")):
            raise FinanError(401, 401003, "Unauthorized: invalid signature")
        return await read_json(request) if body else {}

    async def _create_payment(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request)
            amount = doc.get("amount")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise FinanError(400, 400001, "amount must be a positive integer")
            if doc.get("account_id") != self.config.account_id:
                raise FinanError(400, 400002, "unknown account_id")
            reference = doc.get("reference_id")
            if not reference or any(p["reference_id"] == reference for p in self.payments.values()):
                raise FinanError(400, 400003, "reference_id missing or already used")
        except FinanError as error:
            return error.response()
        payment_id = str(uuid.uuid4())
        payment = {
            "id": payment_id,
            "reference_id": reference,
            "amount": amount,
            "paid_amount": 0,
            "currency": doc.get("currency", "VND"),
            "status": "unpaid",
            "description": doc.get("description", ""),
            "payment_url": f"https://pay.sandbox.finan.local/{payment_id}",
            "qr_code": f"00020101021238SANDBOX{payment_id.replace('-', '')}",
        }
        self.payments[payment_id] = payment
        return _envelope(201, 102001, "Thực thi API thành công", payment)

    async def _get_payment(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
            payment = self.payments.get(request.path_params["id"])
            if payment is None:
                raise FinanError(404, 404001, "payment not found")
        except FinanError as error:
            return error.response()
        return _envelope(200, 102001, "Thực thi API thành công", self._readable(payment))

    def _readable(self, payment: dict[str, Any]) -> dict[str, Any]:
        return self.stale_payments.get(payment["id"], payment) if self.read_lag else payment

    async def _list_payments(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
        except FinanError as error:
            return error.response()
        wanted = request.query_params.get("reference_id")
        items = [
            self._readable(p) for p in self.payments.values() if wanted in (None, p["reference_id"])
        ]
        return _envelope(200, 102001, "Thực thi API thành công", items)

    async def _create_payout(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request)
            amount = doc.get("amount")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise FinanError(400, 400001, "amount must be a positive integer")
            if doc.get("account_id") != self.config.account_id:
                raise FinanError(400, 400002, "unknown account_id")
            reference = doc.get("reference_id")
            if not reference or any(p["reference_id"] == reference for p in self.payouts.values()):
                raise FinanError(400, 400003, "reference_id missing or already used")
            key = (str(doc.get("beneficiary_bank_id")), str(doc.get("beneficiary_account_number")))
            name = str(doc.get("beneficiary_account_name") or "")
            outcome = payout_outcome(key[1])
            holder = self.accounts.get(key) or holder_for(key[1], name or None)
            if holder is None:
                raise FinanError(400, 400011, "invalid beneficiary account")
            if outcome is PayoutOutcome.NAME_MISMATCH:
                raise FinanError(400, 400012, "beneficiary name does not match the account")
            if outcome is PayoutOutcome.INSUFFICIENT_BALANCE:
                raise FinanError(400, 400031, "insufficient balance")
        except FinanError as error:
            return error.response()
        payout = {
            "id": str(uuid.uuid4()),
            "reference_id": reference,
            "amount": amount,
            "currency": doc.get("currency", "VND"),
            "beneficiary_info": {
                "name": holder,
                "bank_account": key[1],
                "bank_name": key[0],
            },
            "status": "waiting_confirm",
            "otp_status": "pending",
            "remaining_try": 3,
            "provider_payment_number": "PPN" + uuid.uuid4().hex[:12].upper(),
            "held": False,
            "outcome": outcome,
            "created": time.monotonic(),
        }
        self.payouts[payout["id"]] = payout
        return _envelope(201, 102001, "Thực thi API thành công", self._public(payout))

    def _public(self, payout: dict[str, Any]) -> dict[str, Any]:
        self._expire(payout)
        return {k: v for k, v in payout.items() if k not in ("held", "outcome", "created")}

    def _expire(self, payout: dict[str, Any]) -> None:
        """An OTP step never finished: Finan cancels the payout (no money moved)."""
        waited = time.monotonic() - payout["created"]
        if payout["status"] == "waiting_confirm" and waited > self.config.otp_expiry_seconds:
            payout["status"], payout["otp_status"] = "cancelled", "failed"

    async def _verify_otp(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request)
            payout = self.payouts.get(request.path_params["id"])
            if payout is None:
                raise FinanError(404, 404001, "payout not found")
            self._expire(payout)
            if payout["status"] != "waiting_confirm" or payout["remaining_try"] <= 0:
                raise FinanError(400, 400021, "payout is not waiting for an OTP")
            if doc.get("pass_code") != self.config.pass_code:
                payout["remaining_try"] -= 1
                raise FinanError(400, 400022, "wrong pass_code")
        except FinanError as error:
            return error.response()
        payout["status"], payout["otp_status"] = "processing", "pending"
        self._webhook_cashout(payout)
        if self.config.auto_settle:
            self._schedule(payout)
        if payout["outcome"] is PayoutOutcome.TIMEOUT:
            # Confirmed, but the answer is lost: an unknown outcome for the caller.
            return _envelope(504, 504001, "Gateway Timeout")
        return _envelope(201, 102001, "Thực thi API thành công", self._public(payout))

    def _schedule(self, payout: dict[str, Any]) -> None:
        async def settle_later() -> None:
            await asyncio.sleep(self.config.settle_delay_seconds)
            outcome = payout["outcome"]
            if outcome is PayoutOutcome.PENDING:
                await asyncio.sleep(self.config.pending_seconds)
            if payout["held"] or payout["status"] != "processing":
                return
            if outcome is PayoutOutcome.FAILED:
                self._finish(payout, "failed")
                return
            self._finish(payout, "success")
            if outcome is PayoutOutcome.REFUNDED:
                await asyncio.sleep(self.config.settle_delay_seconds)
                if payout["status"] == "success":
                    self._finish(payout, "refunded")

        task = asyncio.ensure_future(settle_later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _finish(self, payout: dict[str, Any], status: str) -> None:
        payout["status"] = status
        payout["otp_status"] = {"success": "success", "refunded": "success"}.get(status, "failed")
        if status == "success":
            self.statement.record(
                "debit",
                payout["reference_id"],
                payout["id"],
                payout["amount"],
                str(payout["currency"]),
                "SUCCESS",
                major=True,
            )
        self._webhook_cashout(payout)

    async def _get_payout(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
            payout = self.payouts.get(request.path_params["id"])
            if payout is None:
                raise FinanError(404, 404001, "payout not found")
        except FinanError as error:
            return error.response()
        return _envelope(200, 102001, "Thực thi API thành công", self._public(payout))

    async def _list_payouts(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
        except FinanError as error:
            return error.response()
        wanted = request.query_params.get("reference_id")
        items = [
            self._public(p) for p in self.payouts.values() if wanted in (None, p["reference_id"])
        ]
        return _envelope(200, 102001, "Thực thi API thành công", items)

    # -- control ----------------------------------------------------------------------

    async def _add_account(self, request: Request) -> Response:
        doc = await read_json(request)
        bank, account, name = doc.get("bankCode"), doc.get("accountNo"), doc.get("accountName")
        if not all(isinstance(v, str) and v for v in (bank, account, name)):
            return JSONResponse({"error": "bankCode, accountNo and accountName are required"}, 400)
        self.accounts[(str(bank), str(account))] = str(name)
        return JSONResponse({"bankCode": bank, "accountNo": account, "accountName": name}, 201)

    async def _control_pay(self, request: Request) -> Response:
        doc = await read_json(request)
        key = request.path_params["id"]
        payment = self.payments.get(key) or next(
            (p for p in self.payments.values() if p["reference_id"] == key), None
        )
        # A partly paid request takes further payments (the payer sends the rest).
        if payment is None or payment["status"] not in ("unpaid", "partial_paid"):
            return JSONResponse({"error": "no unpaid payment with that id"}, 404)
        if self.read_lag and payment["id"] not in self.stale_payments:
            self.stale_payments[payment["id"]] = dict(payment)
        due = payment["amount"] - payment["paid_amount"]
        magic = deposit_outcome(payment["amount"] * 100) if payment["currency"] == "IDR" else None
        if "amount" not in doc and magic is DepositOutcome.PARTIAL and not payment["paid_amount"]:
            due = payment["amount"] // 2  # the payer sends half first (docs/sandbox.md)
        amount = int(doc.get("amount", due))
        payment["paid_amount"] += amount
        total = payment["paid_amount"]
        currency = str(payment["currency"])
        self.statement.record(
            "credit", payment["reference_id"], payment["id"], amount, currency, "PAID", major=True
        )
        payment["status"] = (
            "paid"
            if total == payment["amount"]
            else "extra_paid"
            if total > payment["amount"]
            else "partial_paid"
        )
        transaction_code = "TRX" + uuid.uuid4().hex[:12].upper()
        if self.config.payment_webhooks in ("create_payment", "both"):
            document = {
                "data": {
                    "payment_id": payment["id"],
                    "amount": amount,
                    "account_receiver_name": doc.get("payerName", "SANDBOX PAYER"),
                    "transaction_code": transaction_code,
                    "transaction_at": int(time.time()),
                    "description": payment["description"],
                    "reference_code": payment["reference_id"],
                },
                "type": "create_payment",
                "client_id": self.config.client_id,
            }
            self._send(document, f"payment:{payment['id']}")
        if self.config.payment_webhooks in ("cashin", "both"):
            self._webhook_cashin(payment, amount, transaction_code)
        return JSONResponse({"status": payment["status"], "paymentId": payment["id"]})

    def _webhook_cashin(self, payment: dict[str, Any], amount: int, transaction_id: str) -> None:
        """The Balance Webhook's `cashin` (finan.readme.io), times zone-less in WIB."""
        now = wib_wall_clock()
        document = {
            "data": {
                "cash_in_type": "payment",
                "status": "Completed",
                "transaction_id": transaction_id,
                "business_id": 30303,
                "payment_method": "bank_transfer",
                "total_amount": amount,
                "net_amount": amount,
                "account_id": self.config.account_id,
                "total_fee": 0,
                "currency_code": payment["currency"],
                "reference_id": payment["reference_id"],
                "request_id": payment["id"],
                "created_at": now,
                "reconciled_at": now,
                "settled_at": now,
                "note": payment["description"],
            },
            "type": "cashin",
            "client_id": self.config.client_id,
        }
        self._send(document, f"cashin:{transaction_id}")

    async def _control_settings(self, request: Request) -> Response:
        doc = await read_json(request)
        webhooks = doc.get("paymentWebhooks", self.config.payment_webhooks)
        if webhooks not in ("create_payment", "cashin", "both"):
            return JSONResponse(
                {"error": "paymentWebhooks must be create_payment, cashin or both"}, 400
            )
        self.config.payment_webhooks = webhooks
        for name, attribute in (
            ("pendingSeconds", "pending_seconds"),
            ("otpExpirySeconds", "otp_expiry_seconds"),
            ("settleDelaySeconds", "settle_delay_seconds"),
        ):
            if name in doc:
                setattr(self.config, attribute, float(doc[name]))
        if "autoSettle" in doc:
            self.config.auto_settle = bool(doc["autoSettle"])
        return JSONResponse(
            {
                "paymentWebhooks": self.config.payment_webhooks,
                "pendingSeconds": self.config.pending_seconds,
                "otpExpirySeconds": self.config.otp_expiry_seconds,
                "settleDelaySeconds": self.config.settle_delay_seconds,
                "autoSettle": self.config.auto_settle,
            }
        )

    async def _control_read_lag(self, request: Request) -> Response:
        doc = await read_json(request)
        self.read_lag = bool(doc.get("lag", True))
        if not self.read_lag:
            self.stale_payments.clear()  # the read side has caught up
        return JSONResponse({"lag": self.read_lag})

    async def _control_payout(self, request: Request) -> Response:
        key = request.path_params["id"]
        payout = self.payouts.get(key) or next(
            (p for p in self.payouts.values() if p["reference_id"] == key), None
        )
        if payout is None:
            return JSONResponse({"error": "unknown payout"}, 404)
        action = request.path_params["action"]
        if action == "hold":
            payout["held"] = True
        elif action == "settle":
            self._finish(payout, "success")
        elif action == "fail":
            self._finish(payout, "failed")
        elif action == "refund":
            self._finish(payout, "refunded")
        else:
            return JSONResponse({"error": "action must be hold, settle, fail or refund"}, 400)
        return JSONResponse({"id": payout["id"], "status": payout["status"]})

    # -- webhooks ---------------------------------------------------------------------

    def _webhook_cashout(self, payout: dict[str, Any]) -> None:
        status = {
            "processing": "Processing",
            "success": "Completed",
            "failed": "Failed",
            "refunded": "Refunded",
        }.get(payout["status"], payout["status"])
        now = wib_wall_clock()
        document = {
            "data": {
                "account_id": self.config.account_id,
                "beneficiary_info": {**payout["beneficiary_info"], "swift_code": ""},
                "business_id": 30303,
                "cash_out_type": "Withdrawal",
                "status": status,
                "amount": payout["amount"],
                "net_amount": payout["amount"],
                "total_fee": 0,
                "currency_code": payout["currency"],
                "provider_payment_number": payout["provider_payment_number"],
                "created_at": now,
                "reconciled_at": None,
                "settled_at": now if status == "Completed" else None,
                "new_balance": 0,
                "note": "",
                "request_id": payout["id"],
                "category_id": 40404,
                "reference_id": payout["reference_id"],
                "is_internal_transfer": False,
            },
            "type": "cashout",
            "client_id": self.config.client_id,
        }
        self._send(document, f"cashout:{payout['reference_id']}:{status}")

    def _send(self, document: dict[str, Any], label: str) -> None:
        url = f"{self.config.callback_base_url.rstrip('/')}/callbacks/finan/webhook"
        callback = OutgoingCallback(
            url, {"Content-Type": "application/json"}, json_bytes(document), label
        )
        self.callbacks.submit(self._sign(callback))

    def _sign(self, callback: OutgoingCallback) -> OutgoingCallback:
        headers = {"Content-Type": "application/json"}
        if self.config.sign_webhooks:
            stamp = str(int(time.time()))
            parts = urlsplit(callback.url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            headers.update(
                {
                    "x-client-id": self.config.client_id,
                    "x-timestamp": stamp,
                    "x-signature": signature(
                        self.config.secret_key, "POST", path, callback.body.decode(), stamp
                    ),
                }
            )
        return OutgoingCallback(callback.url, headers, callback.body, callback.label)
