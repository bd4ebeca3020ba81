"""PHP's `json_encode($value)` with default flags, byte for byte.

Finpay signs `json_encode($fields)`; PHP's defaults differ from Python's `json.dumps`:
`/` is escaped as `\\/`, DEL (0x7f) is left alone, every non-ASCII character becomes
`\\uXXXX` (astral characters as a surrogate pair, lowercase hex), and floats use
`serialize_precision = -1` (shortest round-trip digits, `1.0e+25` style exponents, and
no `.0` on whole floats because JSON_PRESERVE_ZERO_FRACTION is off).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class PhpJsonError(ValueError):
    """A value PHP's json_encode would refuse (NaN, infinity, non-string keys)."""


def encode_string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif code < 0x80:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
    out.append('"')
    return "".join(out)


def encode_float(value: float) -> str:
    """php_gcvt(value, 17, '.', 'e') in mode 0, as json_encode calls it."""
    if math.isnan(value) or math.isinf(value):
        raise PhpJsonError("NaN and infinity cannot be encoded")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return f"{sign}0"
    _, digit_tuple, exp = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exp, int)
    decpt = len(digits) + exp  # value = 0.DIGITS * 10^decpt
    if (decpt < -3) if decpt < 0 else (decpt > 17):
        power = decpt - 1
        mantissa = digits[0] + "." + (digits[1:] or "0")
        return f"{sign}{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"
    if decpt < 0:
        return f"{sign}0.{'0' * -decpt}{digits}"
    if decpt == 0:
        return f"{sign}0.{digits}"
    whole = digits[:decpt].ljust(decpt, "0")
    frac = digits[decpt:]
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def php_json_encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, str):
        return encode_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(php_json_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            # An empty PHP array is a list to json_encode.
            return "[]"
        parts = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise PhpJsonError("object keys must be strings")
            parts.append(f"{encode_string(key)}:{php_json_encode(item)}")
        return "{" + ",".join(parts) + "}"
    raise PhpJsonError(f"cannot encode {type(value).__name__}")
