"""The Topremit connector: access token, signed SNAP calls, virtual accounts and QRIS."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.money import AmountError, format_amount, parse_amount
from clearing_gateway.providers.banks import normalise_bank_code, short_code
from clearing_gateway.providers.base import Qris, QrisRequest, VirtualAccount, VirtualAccountRequest
from clearing_gateway.providers.callback_kit import timestamp
from clearing_gateway.providers.config import TopremitConfig
from clearing_gateway.providers.errors import ProviderOutcomeUnknown
from clearing_gateway.providers.topremit import NAME
from clearing_gateway.providers.topremit.signing import (
    snap_timestamp,
    token_signature,
    transaction_signature,
)
from clearing_gateway.providers.transport import (
    ProviderResponse,
    operation_name,
    send,
    snap_success,
)

TOKEN_PATH = "/pg/snap/v1/access-token/b2b"  # noqa: S105 (a path, not a secret)
CREATE_VA_PATH = "/pg/snap/v1/transfer-va/create-va"
INQUIRY_VA_PATH = "/pg/snap/v1/transfer-va/inquiry-va"
DELETE_VA_PATH = "/pg/snap/v1/transfer-va/delete-va"
QRIS_GENERATE_PATH = "/pg/snap/v1/qr/qr-mpm-generate"
QRIS_QUERY_PATH = "/pg/snap/v1/qr/qr-mpm-query"
# Renew this long before the provider says the token expires.
TOKEN_REFRESH_MARGIN = dt.timedelta(seconds=60)
QRIS_STATUS = {"00": "PAID", "01": "PENDING", "03": "PENDING", "05": "EXPIRED", "06": "EXPIRED"}


def external_id() -> str:
    """A fresh X-EXTERNAL-ID: 32 digits, unique per request (the UUIDv7 as a number)."""
    return str(new_id().int % 10**32).zfill(32)


class TopremitClient:
    name = NAME

    def __init__(
        self,
        config: TopremitConfig,
        http: httpx.AsyncClient,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.config = config
        self.http = http
        self.clock = clock
        self._token: str | None = None
        self._token_expires_at: dt.datetime | None = None
        self._token_lock = asyncio.Lock()

    # -- access token ---------------------------------------------------------------

    async def access_token(self, *, force: bool = False) -> str:
        async with self._token_lock:
            now = self.clock()
            fresh = self._token_expires_at is not None and now < self._token_expires_at
            if self._token and fresh and not force:
                return self._token
            timestamp = snap_timestamp(now)
            headers = {
                "Content-Type": "application/json",
                "X-CLIENT-KEY": self.config.client_id,
                "X-TIMESTAMP": timestamp,
                "X-SIGNATURE": token_signature(
                    self.config.client_secret,
                    self.config.client_id,
                    timestamp,
                    self.config.signature_encoding,  # type: ignore[arg-type]
                ),
            }
            response = await send(
                self.http,
                NAME,
                "POST",
                self._url(TOKEN_PATH),
                headers=headers,
                content=b"",
                operation=operation_name("POST", TOKEN_PATH),
            )
            body = snap_success(NAME, response, ("200", "202"))
            token = body.get("accessToken")
            if not isinstance(token, str) or not token:
                raise ProviderOutcomeUnknown(NAME, "token answer without accessToken")
            try:
                lifetime = dt.timedelta(seconds=int(str(body.get("expiresIn", "900"))))
            except ValueError:
                lifetime = dt.timedelta(seconds=900)
            margin = min(TOKEN_REFRESH_MARGIN, lifetime / 10)
            self._token, self._token_expires_at = token, now + lifetime - margin
            return token

    # -- signed calls -----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    async def _call(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        response = await self._signed_post(path, body, await self.access_token())
        if response.status_code == 401 and _is_token_problem(response.body):
            # The token expired or was revoked early: renew once and send again (a 401
            # means the provider did nothing with the first attempt).
            response = await self._signed_post(path, body, await self.access_token(force=True))
        return snap_success(NAME, response, ("200", "202"))

    async def _signed_post(self, path: str, body: bytes, token: str) -> ProviderResponse:
        timestamp = snap_timestamp(self.clock())
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": transaction_signature(
                self.config.client_secret,
                "POST",
                path,
                token,
                body,
                timestamp,
                self.config.signature_encoding,  # type: ignore[arg-type]
            ),
            "X-PARTNER-ID": self.config.partner_id,
            "X-EXTERNAL-ID": external_id(),
            "CHANNEL-ID": self.config.channel_id,
        }
        return await send(
            self.http,
            NAME,
            "POST",
            self._url(path),
            headers=headers,
            content=body,
            operation=operation_name("POST", path),
        )

    # -- virtual accounts -------------------------------------------------------------

    async def create_virtual_account(self, request: VirtualAccountRequest) -> VirtualAccount:
        bank = normalise_bank_code(request.bank_code)
        document: dict[str, Any] = {
            "partnerServiceId": self.config.partner_service_id,
            "customerNo": request.customer_no,
            "virtualAccountName": request.name,
            "trxId": request.reference,
        }
        if request.virtual_account_no:
            document["virtualAccountNo"] = request.virtual_account_no
        if request.amount is not None:
            document["totalAmount"] = {
                "value": format_amount(request.amount, request.currency),
                "currency": request.currency,
            }
        if request.expires_at is not None:
            document["expiredDate"] = snap_timestamp(request.expires_at)
        document["additionalInfo"] = {
            "channel": short_code(bank),
            "description": request.description,
        }
        body = await self._call(CREATE_VA_PATH, document)
        return self._virtual_account(body, bank)

    async def inquire_virtual_account(self, account: VirtualAccount) -> VirtualAccount:
        body = await self._call(INQUIRY_VA_PATH, _va_identity(self.config, account))
        return self._virtual_account(body, account.bank_code)

    async def cancel_virtual_account(self, account: VirtualAccount) -> VirtualAccount:
        body = await self._call(DELETE_VA_PATH, _va_identity(self.config, account))
        data = _object(body, "virtualAccountData")
        return VirtualAccount(
            provider=NAME,
            reference=str(data.get("trxId", account.reference)),
            virtual_account_no=str(data.get("virtualAccountNo", account.virtual_account_no)),
            customer_no=str(data.get("customerNo", account.customer_no)),
            bank_code=account.bank_code,
            status=str(data.get("status", "CANCELED")).upper(),
            amount=account.amount,
            currency=account.currency,
            expires_at=account.expires_at,
            provider_payment_id=_str_or_none(data.get("paymentId")),
            raw=body,
        )

    def _virtual_account(self, body: dict[str, Any], bank_code: str) -> VirtualAccount:
        data = _object(body, "virtualAccountData")
        info = data.get("additionalInfo") if isinstance(data.get("additionalInfo"), dict) else {}
        assert isinstance(info, dict)
        amount, currency = _amount(data.get("totalAmount"))
        va_no = data.get("virtualAccountNo")
        if not isinstance(va_no, str) or not va_no:
            raise ProviderOutcomeUnknown(NAME, "answer without virtualAccountNo")
        expires = data.get("expiredDate")
        return VirtualAccount(
            provider=NAME,
            reference=str(data.get("trxId", "")),
            virtual_account_no=va_no,
            customer_no=str(data.get("customerNo", "")),
            bank_code=bank_code,
            status=str(info.get("status", "PENDING")).upper(),
            amount=amount,
            currency=currency,
            # Zone-less → Jakarta time; unreadable → unknown, never a crash after the VA
            # was created upstream.
            expires_at=timestamp(expires) if isinstance(expires, str) else None,
            provider_payment_id=_str_or_none(info.get("paymentId")),
            raw=body,
        )

    # -- QRIS -------------------------------------------------------------------------

    async def create_qris(self, request: QrisRequest) -> Qris:
        document: dict[str, Any] = {
            "partnerReferenceNo": request.reference,
            "amount": {
                "value": format_amount(request.amount, request.currency),
                "currency": request.currency,
            },
        }
        if request.expires_at is not None:
            document["validityPeriod"] = snap_timestamp(request.expires_at)
        document["additionalInfo"] = {"description": request.description}
        body = await self._call(QRIS_GENERATE_PATH, document)
        reference_no, content = body.get("referenceNo"), body.get("qrContent")
        if not isinstance(reference_no, str) or not isinstance(content, str):
            raise ProviderOutcomeUnknown(NAME, "QRIS answer without referenceNo/qrContent")
        return Qris(
            provider=NAME,
            reference=request.reference,
            provider_reference=reference_no,
            qr_content=content,
            status="PENDING",
            amount=request.amount,
            currency=request.currency,
            raw=body,
        )

    async def inquire_qris(self, reference: str, provider_reference: str) -> Qris:
        body = await self._call(
            QRIS_QUERY_PATH,
            {
                "originalPartnerReferenceNo": reference,
                "originalReferenceNo": provider_reference,
                "serviceCode": "47",
            },
        )
        amount, currency = _amount(body.get("amount"))
        info = body.get("additionalInfo") if isinstance(body.get("additionalInfo"), dict) else {}
        assert isinstance(info, dict)
        paid = body.get("paidTime")
        return Qris(
            provider=NAME,
            reference=reference,
            provider_reference=provider_reference,
            qr_content=str(info.get("qrContent", "")),
            status=QRIS_STATUS.get(str(body.get("latestTransactionStatus")), "PENDING"),
            amount=amount or 0,
            currency=currency,
            paid_at=timestamp(paid) if isinstance(paid, str) else None,
            raw=body,
        )


def _va_identity(config: TopremitConfig, account: VirtualAccount) -> dict[str, Any]:
    return {
        "partnerServiceId": config.partner_service_id,
        "customerNo": account.customer_no,
        "virtualAccountNo": account.virtual_account_no,
        "trxId": account.reference,
    }


def _is_token_problem(body: dict[str, Any]) -> bool:
    # SNAP 401xx01 = invalid token, 401xx03 = token not found.
    code = str(body.get("responseCode", ""))
    return len(code) == 7 and code.startswith("401") and code[5:] in ("01", "03")


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise ProviderOutcomeUnknown(NAME, f"answer without {key}")
    return value


def _amount(value: Any) -> tuple[int | None, str]:
    if not isinstance(value, dict):
        return None, "IDR"
    currency = str(value.get("currency", "IDR"))
    try:
        return parse_amount(value.get("value"), currency, positive=False), currency
    except AmountError:
        return None, currency


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
