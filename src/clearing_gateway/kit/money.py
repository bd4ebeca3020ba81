"""Amounts: integers in minor units inside, decimal strings on the wire.

Parsing is strict: a plain decimal string, no sign unless allowed, no exponent, no
more decimals than the currency has, no floats.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 exponents of the currencies the gateway carries.
CURRENCY_EXPONENT: dict[str, int] = {"IDR": 2, "VND": 0, "USD": 2}
DEFAULT_CURRENCY = "IDR"
# The largest amount a BIGINT column holds: anything above is refused, never stored.
MAX_MINOR = 2**63 - 1

# fullmatch, never match + `$`: `$` also matches before a trailing newline.
_AMOUNT = re.compile(r"(?P<int>0|[1-9][0-9]{0,17})(?:\.(?P<frac>[0-9]+))?", re.ASCII)


class AmountError(ValueError):
    """The text is not an acceptable amount; the message says why."""


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENT[currency]
    except KeyError:
        raise AmountError(f"unsupported currency {currency!r}") from None


def parse_amount(text: object, currency: str = DEFAULT_CURRENCY, *, positive: bool = True) -> int:
    """`"10000.00"` → 1000000 (minor units)."""
    if not isinstance(text, str):
        raise AmountError('must be a decimal string such as "10000.00"')
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise AmountError('must be a decimal string such as "10000.00"')
    places = exponent(currency)
    frac = match.group("frac") or ""
    if len(frac) > places:
        raise AmountError(f"has more than {places} decimal places")
    minor = int(match.group("int")) * 10**places + int(frac.ljust(places, "0") or "0")
    if positive and minor <= 0:
        raise AmountError("must be greater than zero")
    return minor


def format_amount(minor: int, currency: str = DEFAULT_CURRENCY) -> str:
    """1000000 → `"10000.00"`."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def from_decimal(value: Decimal, currency: str = DEFAULT_CURRENCY) -> int:
    """A provider's Decimal amount → minor units, refusing fractional residue."""
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{value} has more precision than {currency} allows")
    return int(scaled)


def percent_of(minor: int, basis_points: int) -> int:
    """Fee arithmetic: `basis_points` / 10 000 of `minor`, rounded half up."""
    return int((Decimal(minor) * basis_points / 10_000).quantize(Decimal(1), ROUND_HALF_UP))
