"""A local Topremit: tokens, SNAP signature checks, VAs, QRIS and signed callbacks.

Every header and signature the real API documents is checked, and rejected with the
SNAP response code the real provider would most plausibly use (docs/providers/topremit.md
lists the codes and every assumption).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.money import AmountError, format_amount, parse_amount
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
from clearing_gateway.providers.sandbox_magic import DepositOutcome, deposit_outcome
from clearing_gateway.providers.statement_kit import StatementBook
from clearing_gateway.providers.topremit.signing import (
    bearer_token,
    parse_snap_timestamp,
    signatures_match,
    snap_timestamp,
    token_signature,
    transaction_signature,
)

CHANNELS = {"BRI", "BCA", "NOBU"}


@dataclass
class TopremitSandboxConfig:
    client_id: str
    client_secret: str
    partner_service_id: str
    callback_base_url: str
    signature_encoding: str = "base64"
    callback_secret: str | None = None
    window_seconds: int = 300
    token_lifetime_seconds: int = 900
    partner_id: str | None = None  # X-PARTNER-ID; defaults to the client id
    retry_schedule: tuple[float, ...] = ()
    # The VA callback body: the docs' field table or the page's example (both documented).
    callback_shape: str = "table"
    # How long the magic "late callback" payment waits (docs/sandbox.md).
    late_callback_seconds: float = 30.0

    @property
    def partner(self) -> str:
        return self.partner_id or self.client_id


class SnapError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return JSONResponse(
            {"responseCode": self.code, "responseMessage": self.message}, self.status
        )


@dataclass
class SandboxVa:
    partner_service_id: str
    customer_no: str
    virtual_account_no: str
    name: str
    trx_id: str
    channel: str
    amount: int | None
    currency: str
    expires_at: dt.datetime | None
    payment_id: str
    created_at: dt.datetime
    status: str = "PENDING"
    paid_amount: int | None = None
    paid_at: dt.datetime | None = None
    payer_name: str | None = None

    def data(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "partnerServiceId": self.partner_service_id,
            "customerNo": self.customer_no,
            "virtualAccountNo": self.virtual_account_no,
            "virtualAccountName": self.name,
            "trxId": self.trx_id,
        }
        if self.amount is not None:
            document["totalAmount"] = {
                "value": format_amount(self.amount, self.currency),
                "currency": self.currency,
            }
        if self.expires_at is not None:
            document["expiredDate"] = snap_timestamp(self.expires_at)
        document["additionalInfo"] = {
            "paymentId": self.payment_id,
            "channelCode": self.channel,
            "status": self.status,
            "created_at": snap_timestamp(self.created_at),
        }
        return document


@dataclass
class SandboxQris:
    partner_reference_no: str
    reference_no: str
    amount: int
    currency: str
    expires_at: dt.datetime | None
    qr_content: str
    created_at: dt.datetime
    status: str = "PENDING"
    paid_at: dt.datetime | None = None
    payer_name: str | None = None
    payment_id: str = field(default_factory=lambda: "QP" + secrets.token_hex(8).upper())


class TopremitSandbox:
    def __init__(self, config: TopremitSandboxConfig) -> None:
        self.config = config
        self.tokens: dict[str, dt.datetime] = {}
        self.external_ids: set[str] = set()
        self.vas: dict[str, SandboxVa] = {}  # by trxId
        self.qris: dict[str, SandboxQris] = {}  # by referenceNo
        self.statement = StatementBook()
        self.faults = FaultInjector()
        self.callbacks = CallbackSender(resign=self._resign, retry_schedule=config.retry_schedule)
        self.app = FaultMiddleware(self._build(), self.faults)

    async def aclose(self) -> None:
        await self.callbacks.aclose()

    # -- HTTP -------------------------------------------------------------------------

    def _build(self) -> Starlette:
        routes = [
            Route("/pg/snap/v1/access-token/b2b", self._token, methods=["POST"]),
            Route("/pg/snap/v1/transfer-va/create-va", self._create_va, methods=["POST"]),
            Route("/pg/snap/v1/transfer-va/inquiry-va", self._inquiry_va, methods=["POST"]),
            Route("/pg/snap/v1/transfer-va/delete-va", self._delete_va, methods=["POST"]),
            Route("/pg/snap/v1/transfer-va/{id}/pay-va", self._simulate_pay_va, methods=["POST"]),
            Route("/pg/snap/v1/qr/qr-mpm-generate", self._create_qris, methods=["POST"]),
            Route("/pg/snap/v1/qr/qr-mpm-query", self._query_qris, methods=["POST"]),
            Route("/control/va/{id}/pay", self._control_pay_va, methods=["POST"]),
            Route("/control/qris/{id}/pay", self._control_pay_qris, methods=["POST"]),
            Route("/control/settings", self._control_settings, methods=["POST"]),
            *self.statement.routes(),
            *control_routes(self.faults, self.callbacks),
        ]
        return Starlette(routes=routes)

    def _fresh(self, timestamp: str | None, service: str) -> None:
        moment = parse_snap_timestamp(timestamp or "")
        if moment is None:
            raise SnapError(400, f"400{service}01", "Invalid Field Format [X-TIMESTAMP]")
        if abs((utcnow() - moment).total_seconds()) > self.config.window_seconds:
            raise SnapError(401, f"401{service}00", "Unauthorized. [X-TIMESTAMP out of range]")

    async def _token(self, request: Request) -> Response:
        try:
            headers = request.headers
            # The documented headers: JSON only, and each one present (SNAP's "mandatory").
            if not headers.get("content-type", "").startswith("application/json"):
                raise SnapError(400, "4007300", "Bad Request. [Content-Type]")
            for name in ("x-client-key", "x-timestamp", "x-signature"):
                if not headers.get(name):
                    raise SnapError(400, "4007302", f"Invalid Mandatory Field [{name.upper()}]")
            if headers.get("x-client-key") != self.config.client_id:
                raise SnapError(401, "4017300", "Unauthorized. [Unknown client]")
            self._fresh(headers.get("x-timestamp"), "73")
            expected = token_signature(
                self.config.client_secret,
                self.config.client_id,
                headers["x-timestamp"],
                self.config.signature_encoding,  # type: ignore[arg-type]
            )
            if not signatures_match(expected, headers.get("x-signature", "")):
                raise SnapError(401, "4017300", "Unauthorized. [Signature]")
        except SnapError as error:
            return error.response()
        token = secrets.token_urlsafe(32)
        lifetime = self.config.token_lifetime_seconds
        self.tokens[token] = utcnow() + dt.timedelta(seconds=lifetime)
        return JSONResponse(
            {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": token,
                "tokenType": "Bearer",
                "expiresIn": str(lifetime),
                "additionalInfo": {},
            }
        )

    async def _authenticate(
        self, request: Request, service: str, *, idempotent: bool = True
    ) -> dict[str, Any]:
        """Check a transactional call as Topremit would; returns the JSON body."""
        headers = request.headers
        body = await request.body()
        if not headers.get("content-type", "").startswith("application/json"):
            raise SnapError(400, f"400{service}00", "Bad Request. [Content-Type]")
        token = bearer_token(headers.get("authorization"))
        expiry = self.tokens.get(token or "")
        if token is None or expiry is None:
            raise SnapError(401, f"401{service}01", "Invalid Token (B2B)")
        if expiry <= utcnow():
            self.tokens.pop(token, None)
            raise SnapError(401, f"401{service}01", "Invalid Token (B2B) [expired]")
        if headers.get("x-partner-id") != self.config.partner:
            raise SnapError(401, f"401{service}00", "Unauthorized. [X-PARTNER-ID]")
        required = ("x-signature",) + (("x-external-id", "channel-id") if idempotent else ())
        for name in required:
            if not headers.get(name):
                raise SnapError(400, f"400{service}02", f"Invalid Mandatory Field [{name.upper()}]")
        self._fresh(headers.get("x-timestamp"), service)
        expected = transaction_signature(
            self.config.client_secret,
            request.method,
            route_path(request),
            token,
            body,
            headers["x-timestamp"],
            self.config.signature_encoding,  # type: ignore[arg-type]
        )
        if not signatures_match(expected, headers["x-signature"]):
            raise SnapError(401, f"401{service}00", "Unauthorized. [Signature]")
        if idempotent:
            external_id = headers["x-external-id"]
            if external_id in self.external_ids:
                raise SnapError(409, f"409{service}00", "Conflict. [Duplicate X-EXTERNAL-ID]")
            self.external_ids.add(external_id)
        document = await read_json(request)
        if not document and body.strip() not in (b"", b"{}"):
            raise SnapError(400, f"400{service}00", "Bad Request. [body is not a JSON object]")
        return document

    @staticmethod
    def _require(document: dict[str, Any], service: str, *names: str) -> None:
        for name in names:
            if document.get(name) in (None, ""):
                raise SnapError(400, f"400{service}02", f"Invalid Mandatory Field [{name}]")

    async def _create_va(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request, "27")
            self._require(
                doc, "27", "partnerServiceId", "customerNo", "virtualAccountName", "trxId"
            )
            if doc["partnerServiceId"] != self.config.partner_service_id:
                raise SnapError(400, "4002701", "Invalid Field Format [partnerServiceId]")
            info = doc.get("additionalInfo")
            info = info if isinstance(info, dict) else {}
            channel = str(info.get("channel", "")).upper()
            if channel not in CHANNELS:
                raise SnapError(400, "4002701", "Invalid Field Format [additionalInfo.channel]")
            trx_id = str(doc["trxId"])
            if trx_id in self.vas:
                raise SnapError(409, "4092701", "Conflict. [Duplicate trxId]")
            amount, currency = self._amount(doc.get("totalAmount"), "27", "totalAmount")
            prefix = self.config.partner_service_id.strip()
            number = prefix + str(doc.get("virtualAccountNo") or doc["customerNo"])
            if any(
                v.virtual_account_no == number and v.status == "PENDING" for v in self.vas.values()
            ):
                raise SnapError(409, "4092700", "Conflict. [virtualAccountNo in use]")
            expires = doc.get("expiredDate")
            expires_at = parse_snap_timestamp(expires) if isinstance(expires, str) else None
            if expires is not None and expires_at is None:
                raise SnapError(400, "4002701", "Invalid Field Format [expiredDate]")
        except SnapError as error:
            return error.response()
        va = SandboxVa(
            partner_service_id=self.config.partner_service_id,
            customer_no=str(doc["customerNo"]),
            virtual_account_no=number,
            name=str(doc["virtualAccountName"]),
            trx_id=trx_id,
            channel=channel,
            amount=amount,
            currency=currency,
            expires_at=expires_at,
            payment_id="VP" + secrets.token_hex(8).upper(),
            created_at=utcnow(),
        )
        self.vas[trx_id] = va
        return self._va_answer("2002700", va)

    def _amount(self, value: Any, service: str, name: str) -> tuple[int | None, str]:
        if value is None:
            return None, "IDR"
        if not isinstance(value, dict):
            raise SnapError(400, f"400{service}01", f"Invalid Field Format [{name}]")
        currency = str(value.get("currency", ""))
        if currency != "IDR":
            raise SnapError(400, f"400{service}01", f"Invalid Field Format [{name}.currency]")
        try:
            return parse_amount(value.get("value"), currency), currency
        except AmountError:
            raise SnapError(
                400, f"400{service}01", f"Invalid Field Format [{name}.value]"
            ) from None

    def _va_answer(self, code: str, va: SandboxVa) -> Response:
        return JSONResponse(
            {"responseCode": code, "responseMessage": "Successful", "virtualAccountData": va.data()}
        )

    def _find_va(self, doc: dict[str, Any], service: str) -> SandboxVa:
        self._require(doc, service, "trxId", "virtualAccountNo")
        va = self.vas.get(str(doc["trxId"]))
        if va is None or va.virtual_account_no != str(doc["virtualAccountNo"]):
            raise SnapError(404, f"404{service}12", "Invalid Bill/Virtual Account [Not Found]")
        self._expire(va)
        return va

    @staticmethod
    def _expire(va: SandboxVa) -> None:
        if va.status == "PENDING" and va.expires_at is not None and va.expires_at <= utcnow():
            va.status = "EXPIRED"

    async def _inquiry_va(self, request: Request) -> Response:
        try:
            va = self._find_va(await self._authenticate(request, "26"), "26")
        except SnapError as error:
            return error.response()
        return self._va_answer("2002600", va)

    async def _delete_va(self, request: Request) -> Response:
        try:
            va = self._find_va(await self._authenticate(request, "31"), "31")
            if va.status != "PENDING":
                raise SnapError(404, "4043112", f"Invalid Bill/Virtual Account [{va.status}]")
        except SnapError as error:
            return error.response()
        va.status = "CANCELED"
        data = va.data()
        info = data.pop("additionalInfo")
        data.update(
            {
                "additionalInfo": {},
                "paymentId": info["paymentId"],
                "channelCode": va.channel,
                "status": va.status,
                "created_at": info["created_at"],
            }
        )
        return JSONResponse(
            {"responseCode": "2003100", "responseMessage": "Successful", "virtualAccountData": data}
        )

    # -- paying -----------------------------------------------------------------------

    def pay_va(self, key: str, amount_text: str | None, payer_name: str | None) -> SandboxVa:
        va = self.vas.get(key) or next(
            (v for v in self.vas.values() if v.virtual_account_no == key), None
        )
        if va is None:
            raise SnapError(404, "4042512", "Invalid Bill/Virtual Account [Not Found]")
        self._expire(va)
        if va.status != "PENDING":
            raise SnapError(404, "4042512", f"Invalid Bill/Virtual Account [{va.status}]")
        if amount_text is None:
            if va.amount is None:
                raise SnapError(400, "4002502", "Invalid Mandatory Field [amount]")
            amount = va.amount
        else:
            try:
                amount = parse_amount(amount_text, va.currency)
            except AmountError:
                raise SnapError(400, "4002501", "Invalid Field Format [amount]") from None
            if va.amount is not None and amount != va.amount:
                raise SnapError(404, "4042513", "Invalid Amount")
        outcome = deposit_outcome(amount) if va.currency == "IDR" else None
        if outcome is DepositOutcome.FAILED:
            # The payer's bank declined: Topremit reports it, no money arrived, the VA
            # stays payable (docs/sandbox.md).
            self._send_va_callback(
                va,
                status="FAILED",
                amount=amount,
                payer_name=payer_name,
                # An attempt of its own: never the id a later, real payment will carry.
                payment_id="VF" + secrets.token_hex(8).upper(),
            )
            return va
        if va.amount is None:
            # An open-amount VA stays open: every payment is a new payment with its own id.
            if va.paid_at is not None:
                va.payment_id = "VP" + secrets.token_hex(8).upper()
        else:
            va.status = "PAID"
        va.paid_amount, va.paid_at = amount, utcnow()
        va.payer_name = payer_name or va.name
        self.statement.record("credit", va.trx_id, va.payment_id, amount, va.currency, "PAID")
        delay = self.config.late_callback_seconds if outcome is DepositOutcome.LATE_CALLBACK else 0
        self._send_va_callback(va, delay=delay)
        if outcome is DepositOutcome.DUPLICATE_CALLBACK:
            self._send_va_callback(va)  # the same payment, notified twice
        return va

    async def _simulate_pay_va(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request, "25", idempotent=False)
            va = self.pay_va(request.path_params["id"], doc.get("amount"), None)
        except SnapError as error:
            return error.response()
        return JSONResponse({"status": va.status})

    async def _control_pay_va(self, request: Request) -> Response:
        doc = await read_json(request)
        try:
            va = self.pay_va(request.path_params["id"], doc.get("amount"), doc.get("payerName"))
        except SnapError as error:
            return error.response()
        return JSONResponse({"status": va.status, "paymentId": va.payment_id, "trxId": va.trx_id})

    def _send_va_callback(
        self,
        va: SandboxVa,
        *,
        status: str = "PAID",
        amount: int | None = None,
        payer_name: str | None = None,
        delay: float = 0,
        payment_id: str | None = None,
    ) -> None:
        paid = amount if amount is not None else va.paid_amount
        payment_id = payment_id or va.payment_id
        paid_at = va.paid_at if status == "PAID" and va.paid_at is not None else utcnow()
        assert paid is not None
        if self.config.callback_shape == "example":
            document = self._example_shape(va, status, payment_id)
        else:
            document = {
                "partnerServiceId": va.partner_service_id,
                "customerNo": va.customer_no,
                "virtualAccountNo": va.virtual_account_no,
                "virtualAccountName": va.name,
                "trxId": va.trx_id,
                "paidAmount": {"value": format_amount(paid, va.currency), "currency": va.currency},
                "trxDateTime": snap_timestamp(paid_at),
                "referenceNo": payment_id,
                "additionalInfo": {
                    "paymentId": payment_id,
                    "status": status,
                    "paidAt": snap_timestamp(paid_at),
                    "createdAt": snap_timestamp(va.created_at),
                    "type": "VIRTUAL_ACCOUNT",
                    "payerName": payer_name or va.payer_name or va.name,
                },
            }
        callback = self._signed("va", json_bytes(document), f"va:{va.trx_id}:{status}")
        if delay > 0:
            self.callbacks.submit_later(callback, delay)
        else:
            self.callbacks.submit(callback)

    def _example_shape(self, va: SandboxVa, status: str, payment_id: str) -> dict[str, Any]:
        """The callback page's example: no amount (the gateway reads it from inquiry-va)."""
        return {
            "responseCode": "2002500",
            "responseMessage": "Successful",
            "virtualAccountData": {
                "partnerServiceId": va.partner_service_id,
                "customerNo": va.customer_no,
                "virtualAccountNo": va.virtual_account_no,
                "virtualAccountName": va.name,
                "trxId": va.trx_id,
                "additionalInfo": {"payerName": va.payer_name or va.name},
                "paymentId": payment_id,
                "channelCode": va.channel,
                "status": status,
                "created_at": snap_timestamp(va.created_at),
            },
        }

    async def _control_settings(self, request: Request) -> Response:
        doc = await read_json(request)
        shape = doc.get("callbackShape", self.config.callback_shape)
        if shape not in ("table", "example"):
            return JSONResponse({"error": "callbackShape must be table or example"}, 400)
        self.config.callback_shape = shape
        if "lateCallbackSeconds" in doc:
            self.config.late_callback_seconds = float(doc["lateCallbackSeconds"])
        return JSONResponse(
            {
                "callbackShape": self.config.callback_shape,
                "lateCallbackSeconds": self.config.late_callback_seconds,
            }
        )

    # -- QRIS -------------------------------------------------------------------------

    async def _create_qris(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request, "47")
            self._require(doc, "47", "partnerReferenceNo", "amount")
            reference = str(doc["partnerReferenceNo"])
            if any(q.partner_reference_no == reference for q in self.qris.values()):
                raise SnapError(409, "4094701", "Conflict. [Duplicate partnerReferenceNo]")
            amount, currency = self._amount(doc["amount"], "47", "amount")
            assert amount is not None
            validity = doc.get("validityPeriod")
            expires_at = parse_snap_timestamp(validity) if isinstance(validity, str) else None
        except SnapError as error:
            return error.response()
        reference_no = "QR" + secrets.token_hex(10).upper()
        qris = SandboxQris(
            partner_reference_no=reference,
            reference_no=reference_no,
            amount=amount,
            currency=currency,
            expires_at=expires_at,
            qr_content=f"00020101021226SANDBOX{reference_no}5303360540{format_amount(amount)}6304",
            created_at=utcnow(),
        )
        self.qris[reference_no] = qris
        return JSONResponse(
            {
                "responseCode": "2004700",
                "responseMessage": "Successful",
                "referenceNo": reference_no,
                "partnerReferenceNo": reference,
                "qrContent": qris.qr_content,
            }
        )

    async def _query_qris(self, request: Request) -> Response:
        try:
            doc = await self._authenticate(request, "51")
            self._require(doc, "51", "originalReferenceNo")
            qris = self.qris.get(str(doc["originalReferenceNo"]))
            if qris is None:
                raise SnapError(404, "4045101", "Transaction Not Found")
        except SnapError as error:
            return error.response()
        if qris.status == "PENDING" and qris.expires_at and qris.expires_at <= utcnow():
            qris.status = "EXPIRED"
        code = {"PAID": "00", "PENDING": "03", "EXPIRED": "06"}[qris.status]
        return JSONResponse(
            {
                "responseCode": "2005100",
                "responseMessage": "Successful",
                "originalPartnerReferenceNo": qris.partner_reference_no,
                "originalReferenceNo": qris.reference_no,
                "serviceCode": "47",
                "latestTransactionStatus": code,
                "paidTime": snap_timestamp(qris.paid_at) if qris.paid_at else "",
                "amount": {"value": format_amount(qris.amount), "currency": qris.currency},
                "additionalInfo": {
                    "paymentId": qris.payment_id,
                    "qrisInvoiceId": qris.reference_no,
                    "status": qris.status,
                    "expiredDate": snap_timestamp(qris.expires_at) if qris.expires_at else "",
                    "description": "",
                    "createdAt": snap_timestamp(qris.created_at),
                    "qrContent": qris.qr_content,
                },
            }
        )

    async def _control_pay_qris(self, request: Request) -> Response:
        doc = await read_json(request)
        key = request.path_params["id"]
        qris = self.qris.get(key) or next(
            (q for q in self.qris.values() if q.partner_reference_no == key), None
        )
        if qris is None or qris.status != "PENDING":
            return SnapError(404, "4045101", "Transaction Not Found").response()
        if doc.get("amount") is not None and doc["amount"] != format_amount(qris.amount):
            return SnapError(404, "4045213", "Invalid Amount").response()
        qris.status, qris.paid_at = "PAID", utcnow()
        qris.payer_name = doc.get("payerName") or "QRIS PAYER"
        self.statement.record(
            "credit", qris.partner_reference_no, qris.payment_id, qris.amount, qris.currency, "PAID"
        )
        document = {
            "originalReferenceNo": qris.reference_no,
            "originalPartnerReferenceNo": qris.partner_reference_no,
            "latestTransactionStatus": "00",
            "transactionStatusDesc": "Success",
            "amount": {"value": format_amount(qris.amount), "currency": qris.currency},
            "paidTime": snap_timestamp(qris.paid_at),
            "additionalInfo": {
                "paymentId": qris.payment_id,
                "payerName": qris.payer_name,
                "type": "QRIS",
            },
        }
        self.callbacks.submit(
            self._signed("qris", json_bytes(document), f"qris:{qris.reference_no}")
        )
        return JSONResponse({"status": qris.status, "referenceNo": qris.reference_no})

    # -- outgoing callbacks -----------------------------------------------------------

    def _signed(self, kind: str, body: bytes, label: str) -> OutgoingCallback:
        url = f"{self.config.callback_base_url.rstrip('/')}/callbacks/topremit/{kind}"
        return self._sign(OutgoingCallback(url=url, headers={}, body=body, label=label))

    def _sign(self, callback: OutgoingCallback) -> OutgoingCallback:
        from urllib.parse import urlsplit

        parts = urlsplit(callback.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        token = secrets.token_urlsafe(24)
        timestamp = snap_timestamp(utcnow())
        signature = transaction_signature(
            self.config.callback_secret or self.config.client_secret,
            "POST",
            path,
            token,
            callback.body,
            timestamp,
            self.config.signature_encoding,  # type: ignore[arg-type]
        )
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "CHANNEL-ID": "95221",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": signature,
            "X-PARTNER-ID": self.config.partner,
            "X-EXTERNAL-ID": str(secrets.randbelow(10**20)).zfill(20),
        }
        return OutgoingCallback(callback.url, headers, callback.body, callback.label)

    def _resign(self, callback: OutgoingCallback) -> OutgoingCallback:
        return self._sign(callback)
