"""A local Finpay disbursement service: Basic auth, account registry, transfers that
settle after a delay through Finpay's intermediate statuses, Check Status, signed
notifications re-sent on Finpay's (assumed) schedule, and the magic account numbers of
docs/sandbox.md (docs/providers/finpay.md)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.money import format_amount
from clearing_gateway.providers.finpay.client import STATUS_TEXT
from clearing_gateway.providers.finpay.phpjson import php_json_encode
from clearing_gateway.providers.finpay.signing import basic_authorization, notification_signature
from clearing_gateway.providers.sandbox_kit import (
    CallbackSender,
    FaultInjector,
    FaultMiddleware,
    OutgoingCallback,
    control_routes,
    read_json,
)
from clearing_gateway.providers.sandbox_magic import (
    HOLDER_HINT_HEADER,
    PayoutOutcome,
    decode_hint,
    holder_for,
    payout_outcome,
)
from clearing_gateway.providers.statement_kit import StatementBook
from clearing_gateway.providers.topremit.signing import snap_timestamp

PREFIX = "/pg/payment/card/disbursement"
FEE_RUPIAH = 2500


@dataclass
class FinpaySandboxConfig:
    merchant_id: str
    merchant_key: str
    callback_base_url: str
    settle_delay_seconds: float = 0.5
    auto_settle: bool = True
    signature_field: str = "signature"
    # 01 → 03 → final notifications, as Finpay reports a transfer; off: the final one.
    intermediate_statuses: bool = True
    retry_schedule: tuple[float, ...] = ()
    # How long a magic "pending" transfer stays 03 (docs/sandbox.md).
    pending_seconds: float = 30.0
    # Refuse a transfer the funds placed with the sandbox cannot cover (`403 4030014`).
    enforce_balance: bool = False


@dataclass
class SandboxTransfer:
    order_id: str
    reference_no: str
    ref_code: str
    amount: int  # whole rupiah
    bank_code: str
    account_no: str
    account_name: str
    status: str = "01"
    held: bool = False
    outcome: PayoutOutcome | None = None
    created_at: Any = field(default_factory=utcnow)


def _answer(status: int, code: str, message: str, **extra: Any) -> Response:
    return JSONResponse({"responseCode": code, "responseMessage": message, **extra}, status)


def _accepted(status: int, reply: str) -> bool:
    return 200 <= status < 300 and '"2000000"' in reply


def _json_headers(request: Request) -> Response | None:
    """Finpay documents `Content-Type` and `Accept: application/json` on every call."""
    for name in ("content-type", "accept"):
        value = request.headers.get(name, "")
        if value.split(";")[0].strip().lower() != "application/json":
            return _answer(400, "4000000", f"Bad Request [{name.title()}]")
    return None


class FinpaySandbox:
    def __init__(self, config: FinpaySandboxConfig) -> None:
        self.config = config
        self.accounts: dict[tuple[str, str], str] = {}
        # refCode → (bank, account, holder), single use
        self.inquiries: dict[str, tuple[str, str, str]] = {}
        self.transfers: dict[str, SandboxTransfer] = {}  # by order id
        self.statement = StatementBook()
        self.funds = 0  # whole rupiah placed with us (`/control/balance`)
        self.faults = FaultInjector()
        # Finpay re-sends until it gets a 2xx with its own success code (assumed).
        self.callbacks = CallbackSender(
            resign=None, retry_schedule=config.retry_schedule, accepts=_accepted
        )
        self._timers: set[asyncio.Task[None]] = set()
        self.app = FaultMiddleware(self._build(), self.faults)

    async def aclose(self) -> None:
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        await self.callbacks.aclose()

    def _build(self) -> Starlette:
        routes = [
            Route(PREFIX + "/inquiry/{bank}/{account}", self._inquiry, methods=["GET"]),
            Route(PREFIX + "/transfer", self._transfer, methods=["POST"]),
            Route(PREFIX + "/check/{order}", self._check, methods=["GET"]),
            Route(PREFIX + "/balance", self._balance, methods=["GET"]),
            Route("/control/balance", self._control_balance, methods=["POST"]),
            Route("/control/accounts", self._add_account, methods=["POST"]),
            Route("/control/transfers", self._control_transfers, methods=["GET"]),
            Route("/control/transfers/{order}/{action}", self._control_transfer, methods=["POST"]),
            Route("/control/settings", self._control_settings, methods=["POST"]),
            *self.statement.routes(),
            *control_routes(self.faults, self.callbacks),
        ]
        return Starlette(routes=routes)

    def _refusal(self, request: Request) -> Response | None:
        """Basic auth, then the documented headers: what every API call must pass."""
        if not self._authorised(request):
            return _answer(401, "4010000", "Unauthorized")
        return _json_headers(request)

    def _authorised(self, request: Request) -> bool:
        import hmac

        expected = basic_authorization(self.config.merchant_id, self.config.merchant_key)
        return hmac.compare_digest(
            expected.encode(), request.headers.get("authorization", "").encode()
        )

    async def _inquiry(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return refused
        bank, account = request.path_params["bank"], request.path_params["account"]
        if len(bank) > 6 or not bank.isdigit():
            return _answer(400, "4000001", "Invalid Field Format [destBankCode]")
        # A registered account keeps its name; any other well-formed one exists, held by
        # the name the gateway expects (docs/sandbox.md).
        name = self.accounts.get((bank, account)) or holder_for(
            account, decode_hint(request.headers.get(HOLDER_HINT_HEADER))
        )
        if name is None:
            return _answer(404, "4040011", "Invalid Account")
        ref_code = str(uuid.uuid4())
        self.inquiries[ref_code] = (bank, account, name)
        return _answer(
            200,
            "2000000",
            "Success",
            refCode=ref_code,
            destAccName=name,
            feeAmount=FEE_RUPIAH,
            processingTime=0.05,
        )

    async def _transfer(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return refused
        doc = await read_json(request)
        order = doc.get("order") if isinstance(doc.get("order"), dict) else None
        disb = doc.get("disbursement") if isinstance(doc.get("disbursement"), dict) else None
        if order is None or disb is None or not order.get("id"):
            return _answer(400, "4000002", "Invalid Mandatory Field [order/disbursement]")
        order_id = str(order["id"])
        if order_id in self.transfers:
            return _answer(409, "4090001", "Duplicate order id")
        amount = disb.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return _answer(400, "4000001", "Invalid Field Format [amount]")
        target = self.inquiries.pop(str(disb.get("refCode", "")), None)
        bank, account = str(disb.get("destBankCode", "")), str(disb.get("destAccNumber", ""))
        if target is None or target[:2] != (bank, account):
            return _answer(400, "4000001", "Invalid Field Format [refCode]")
        outcome = payout_outcome(account)
        if outcome is PayoutOutcome.INSUFFICIENT_BALANCE or (
            self.config.enforce_balance and self.balance() < amount + FEE_RUPIAH
        ):
            return _answer(403, "4030014", "Insufficient Funds")
        transfer = SandboxTransfer(
            order_id=order_id,
            reference_no=utcnow().strftime("%Y%m%d%H%M%S") + str(secrets.randbelow(10**6)).zfill(6),
            ref_code=str(disb["refCode"]),
            amount=amount,
            bank_code=bank,
            account_no=account,
            account_name=target[2],
            outcome=outcome,
        )
        self.transfers[order_id] = transfer
        if self.config.auto_settle:
            self._schedule(transfer)
        if outcome is PayoutOutcome.TIMEOUT:
            # Carried out, but the answer is lost on the way: an unknown outcome for the
            # caller, which Check Status resolves.
            return _answer(504, "5040000", "Gateway Timeout")
        return _answer(
            200,
            "2000000",
            "Success",
            refCode=transfer.ref_code,
            referenceNo=transfer.reference_no,
            latestTransactionStatus=transfer.status,
            destAccName=transfer.account_name,
            feeAmount=FEE_RUPIAH,
            processingTime=0.05,
        )

    def _schedule(self, transfer: SandboxTransfer) -> None:
        async def settle_later() -> None:
            delay = self.config.settle_delay_seconds
            if self.config.intermediate_statuses:
                # Finpay reports each step: initiated, pending at the bank, then final.
                await asyncio.sleep(delay / 3)
                if transfer.held or transfer.status != "01":
                    return
                self.notify(transfer)
                await asyncio.sleep(delay / 3)
                if transfer.held or transfer.status != "01":
                    return
                transfer.status = "03"
                self.notify(transfer)
                await asyncio.sleep(delay / 3)
            else:
                await asyncio.sleep(delay)
            if transfer.outcome is PayoutOutcome.PENDING:
                transfer.status = "03"
                await asyncio.sleep(self.config.pending_seconds)
            if transfer.held or transfer.status not in ("01", "02", "03"):
                return
            if transfer.outcome is PayoutOutcome.FAILED:
                self.finish(transfer, "06")
                return
            self.finish(transfer, "00")
            if transfer.outcome is PayoutOutcome.REFUNDED:
                # The beneficiary bank returns the money after the success.
                await asyncio.sleep(delay)
                if transfer.status == "00":
                    self.finish(transfer, "04")

        task = asyncio.ensure_future(settle_later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def finish(self, transfer: SandboxTransfer, status: str) -> None:
        transfer.status = status
        if status in ("00", "04"):
            self.statement.record(
                "debit" if status == "00" else "refund",
                transfer.order_id,
                transfer.reference_no,
                transfer.amount,
                "IDR",
                "SUCCESS" if status == "00" else "REFUNDED",
                major=True,
            )
        self.notify(transfer)

    def notification(self, transfer: SandboxTransfer) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "transactionDate": snap_timestamp(transfer.created_at),
            "transferDateTime": snap_timestamp(utcnow()),
            "amount": {"currency": "IDR", "value": format_amount(transfer.amount * 100)},
            "originalReferenceNo": transfer.reference_no,
            "beneficiaryAccountNo": transfer.account_no,
            "originalPartnerReferenceNo": transfer.order_id,
            "latestTransactionStatus": transfer.status,
            "beneficiaryAccountName": transfer.account_name,
            "beneficiaryBankCode": transfer.bank_code,
            "triggerType": "automatic",
            "additionalInfo": {"notes": None},
        }
        fields[self.config.signature_field] = notification_signature(
            fields, self.config.merchant_key
        )
        return fields

    def notify(self, transfer: SandboxTransfer) -> None:
        # Sent as PHP would send it: json_encode of the signed fields.
        body = php_json_encode(self.notification(transfer)).encode("utf-8")
        url = f"{self.config.callback_base_url.rstrip('/')}/callbacks/finpay/disbursement"
        self.callbacks.submit(
            OutgoingCallback(
                url,
                {"Content-Type": "application/json"},
                body,
                f"transfer:{transfer.order_id}:{transfer.status}",
            )
        )

    async def _check(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return refused
        transfer = self.transfers.get(request.path_params["order"])
        if transfer is None:
            return _answer(404, "4040001", "Transaction Not Found", latestTransactionStatus="07")
        return _answer(
            200,
            "2000000",
            "Success",
            orderId=transfer.order_id,
            referenceNo=transfer.reference_no,
            refCode=transfer.ref_code,
            latestTransactionStatus=transfer.status,
            # A status outside 00-07 (set by hand: SNAP's 08, 09...) is reported as is.
            transactionStatusDesc=STATUS_TEXT.get(transfer.status, "Unknown"),
            amount={"currency": "IDR", "value": format_amount(transfer.amount * 100)},
            destAccName=transfer.account_name,
            destAccNumber=transfer.account_no,
            destBankCode=transfer.bank_code,
            feeAmount=FEE_RUPIAH,
        )

    def balance(self) -> int:
        """Whole rupiah: funds less every accepted transfer and its fee; a failed transfer
        gives both back, a refunded one its amount (the fee stays charged)."""
        spent = 0
        for transfer in self.transfers.values():
            if transfer.status in ("00", "01", "02", "03"):
                spent += transfer.amount + FEE_RUPIAH
            elif transfer.status == "04":
                spent += FEE_RUPIAH
        return self.funds - spent

    async def _balance(self, request: Request) -> Response:
        # Finpay's balance page was not retrievable: an assumed SNAP-like shape
        # (docs/providers/finpay.md).
        if refused := self._refusal(request):
            return refused
        return _answer(
            200,
            "2000000",
            "Success",
            balance={"currency": "IDR", "value": format_amount(self.balance() * 100)},
        )

    async def _control_balance(self, request: Request) -> Response:
        body = await read_json(request)
        add = body.get("add")
        if isinstance(add, bool) or not isinstance(add, int):
            return JSONResponse({"error": "add must be an integer number of rupiah"}, 400)
        self.funds += add
        return JSONResponse({"funds": self.funds, "balance": self.balance()})

    async def _add_account(self, request: Request) -> Response:
        doc = await read_json(request)
        bank, account, name = doc.get("bankCode"), doc.get("accountNo"), doc.get("accountName")
        if not all(isinstance(v, str) and v for v in (bank, account, name)):
            return JSONResponse({"error": "bankCode, accountNo and accountName are required"}, 400)
        self.accounts[(str(bank), str(account))] = str(name)
        return JSONResponse({"bankCode": bank, "accountNo": account, "accountName": name}, 201)

    async def _control_transfers(self, _request: Request) -> Response:
        # Every disbursement the sandbox accepted: what a test counts to prove "once".
        return JSONResponse(
            [
                {
                    "orderId": t.order_id,
                    "amount": t.amount,
                    "latestTransactionStatus": t.status,
                    "destBankCode": t.bank_code,
                    "destAccNumber": t.account_no,
                }
                for t in self.transfers.values()
            ]
        )

    async def _control_transfer(self, request: Request) -> Response:
        transfer = self.transfers.get(request.path_params["order"])
        if transfer is None:
            return JSONResponse({"error": "unknown order"}, 404)
        body = await read_json(request)
        action = request.path_params["action"]
        if action == "hold":
            transfer.held = True
            transfer.status = "03"
        elif action == "settle":
            self.finish(transfer, "00")
        elif action == "fail":
            self.finish(transfer, str(body.get("status", "06")))
        elif action == "status":
            # Any code, final or not, known or not (SNAP's 08 Expiry, 09 Rejected...).
            self.finish(transfer, str(body.get("status", "03")))
        elif action == "refund":
            self.finish(transfer, "04")
        elif action == "notify":
            self.notify(transfer)
        else:
            return JSONResponse(
                {"error": "action must be hold, settle, fail, refund, status or notify"}, 400
            )
        return JSONResponse(
            {"orderId": transfer.order_id, "latestTransactionStatus": transfer.status}
        )

    async def _control_settings(self, request: Request) -> Response:
        body = await read_json(request)
        if "settleDelaySeconds" in body:
            self.config.settle_delay_seconds = float(body["settleDelaySeconds"])
        if "autoSettle" in body:
            self.config.auto_settle = bool(body["autoSettle"])
        if "intermediateStatuses" in body:
            self.config.intermediate_statuses = bool(body["intermediateStatuses"])
        if "pendingSeconds" in body:
            self.config.pending_seconds = float(body["pendingSeconds"])
        if "enforceBalance" in body:
            self.config.enforce_balance = bool(body["enforceBalance"])
        return JSONResponse(
            {
                "settleDelaySeconds": self.config.settle_delay_seconds,
                "autoSettle": self.config.auto_settle,
                "intermediateStatuses": self.config.intermediate_statuses,
                "pendingSeconds": self.config.pending_seconds,
                "enforceBalance": self.config.enforce_balance,
            }
        )
