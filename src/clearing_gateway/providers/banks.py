"""Bank codes: BI numeric codes ("014") inside the gateway, provider codes at the edges."""

from __future__ import annotations

# BI "sandi bank" of the banks the gateway names, with the short codes providers use.
BANK_ALIASES: dict[str, str] = {
    "BRI": "002",
    "MANDIRI": "008",
    "BNI": "009",
    "DANAMON": "011",
    "PERMATA": "013",
    "BCA": "014",
    "MAYBANK": "016",
    "PANIN": "019",
    "CIMB": "022",
    "OCBC": "028",
    "MUAMALAT": "147",
    "SINARMAS": "153",
    "BTN": "200",
    "BSI": "451",
    "BLU": "501",
    "NOBU": "503",
    "JAGO": "542",
}
SHORT_CODE = {code: alias for alias, code in BANK_ALIASES.items()}


class UnknownBank(ValueError):
    pass


def normalise_bank_code(code: str) -> str:
    """`"014"`, `"14"` or `"BCA"` → `"014"`."""
    text = code.strip().upper()
    if text.isdigit() and 1 <= len(text) <= 3:
        return text.zfill(3)
    if text in BANK_ALIASES:
        return BANK_ALIASES[text]
    raise UnknownBank(f"unknown bank code {code!r}")


def short_code(bi_code: str) -> str:
    """`"014"` → `"BCA"` (Topremit's VA channel names)."""
    try:
        return SHORT_CODE[normalise_bank_code(bi_code)]
    except KeyError:
        raise UnknownBank(f"no short code for bank {bi_code!r}") from None
