"""Small helpers the provider callback adapters share."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from clearing_gateway.kit import jsonguard
from clearing_gateway.kit.clock import in_wib
from clearing_gateway.kit.money import MAX_MINOR, AmountError, from_decimal, parse_amount
from clearing_gateway.providers.errors import CallbackRejected


def compact_json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_object(body: bytes) -> dict[str, Any]:
    try:
        document = jsonguard.loads(body)
    except jsonguard.HostileJson as exc:
        raise CallbackRejected(f"body: {exc}", malformed=True) from None
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected("body is not JSON", malformed=True) from None
    if not isinstance(document, dict):
        raise CallbackRejected("body is not a JSON object", malformed=True)
    return document


def field(document: dict[str, Any], *path: str) -> Any:
    value: Any = document
    for name in path:
        if not isinstance(value, dict) or value.get(name) in (None, ""):
            raise CallbackRejected(f"missing field {'.'.join(path)}", malformed=True)
        value = value[name]
    return value


def text(document: dict[str, Any], *path: str) -> str:
    value = field(document, *path)
    if not isinstance(value, str | int):
        raise CallbackRejected(f"field {'.'.join(path)} is not a string", malformed=True)
    return str(value)


def optional_text(document: dict[str, Any], *path: str) -> str | None:
    try:
        return text(document, *path)
    except CallbackRejected:
        return None


def decimal_string_amount(value: Any, currency: str, name: str) -> int:
    try:
        minor = parse_amount(value, currency)
    except AmountError as exc:
        raise CallbackRejected(f"{name}: {exc}", malformed=True) from None
    if minor > MAX_MINOR:
        raise CallbackRejected(f"{name}: too large", malformed=True)
    return minor


# A plain decimal written as a string: no sign, no exponent, no padding.
_PLAIN_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
# Above 2**53 a JSON number parsed as a double is no longer exact (12345678901234567.89
# arrives as 12345678901234568): refuse rather than credit a rounded amount.
_EXACT_FLOAT = 2**53


def strict_number(value: Any, currency: str) -> int:
    """A provider's positive JSON number → minor units; `AmountError` says why not."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AmountError("not a number")
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) >= _EXACT_FLOAT):
        raise AmountError("not a finite number a double carries exactly")
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        raise AmountError("not a plain decimal number")
    try:
        minor = from_decimal(Decimal(str(value)), currency)
    except InvalidOperation:
        raise AmountError("not a number") from None
    if minor <= 0:
        raise AmountError("must be greater than zero")
    if minor > MAX_MINOR:
        raise AmountError("too large")
    return minor


def number_amount(value: Any, currency: str, name: str) -> int:
    """A JSON number (Finan sends 1500.5) → minor units, refusing excess precision,
    zero, negatives, exponents, non-finite values and amounts beyond int64."""
    try:
        return strict_number(value, currency)
    except AmountError as exc:
        raise CallbackRejected(f"{name}: {exc}", malformed=True) from None


def timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Zone-less provider times are Jakarta time (docs/providers/).
    return in_wib(moment)


def within_window(moment: dt.datetime, now: dt.datetime, window_seconds: int) -> bool:
    return abs((now - moment).total_seconds()) <= window_seconds
