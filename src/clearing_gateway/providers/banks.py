"""Bank codes: BI numeric codes ("014") inside the gateway, provider codes at the edges."""

from __future__ import annotations

# Every bank that clears through Bank Indonesia's transfer systems (SKNBI, BI-FAST), by
# its three-digit BI "sandi bank", the code the API's "(BI SNAP)" bank fields carry.
# A withdrawal may name any of them; whether a provider can pay it is the routing's
# question (docs/withdrawals.md, "Banks"). Merged or closed banks are left out: a code
# that no longer clears would only fail at the provider.
BANKS: dict[str, str] = {
    "002": "Bank Rakyat Indonesia (BRI)",
    "008": "Bank Mandiri",
    "009": "Bank Negara Indonesia (BNI)",
    "011": "Bank Danamon Indonesia",
    "013": "Bank Permata",
    "014": "Bank Central Asia (BCA)",
    "016": "Bank Maybank Indonesia",
    "019": "Bank Panin",
    "022": "Bank CIMB Niaga",
    "023": "Bank UOB Indonesia",
    "028": "Bank OCBC NISP",
    "031": "Citibank N.A.",
    "032": "JPMorgan Chase Bank N.A.",
    "033": "Bank of America N.A.",
    "036": "Bank China Construction Bank Indonesia",
    "037": "Bank Artha Graha Internasional",
    "040": "Bangkok Bank",
    "041": "The Hongkong and Shanghai Banking Corporation",
    "042": "MUFG Bank",
    "046": "Bank DBS Indonesia",
    "047": "Bank Resona Perdania",
    "048": "Bank Mizuho Indonesia",
    "050": "Standard Chartered Bank",
    "054": "Bank Capital Indonesia",
    "061": "Bank ANZ Indonesia",
    "067": "Deutsche Bank AG",
    "069": "Bank of China (Hong Kong)",
    "076": "Bank Bumi Arta",
    "087": "Bank HSBC Indonesia",
    "095": "Bank JTrust Indonesia",
    "097": "Bank Mayapada Internasional",
    "110": "Bank BJB (BPD Jawa Barat dan Banten)",
    "111": "Bank DKI",
    "112": "BPD Daerah Istimewa Yogyakarta",
    "113": "Bank Jateng (BPD Jawa Tengah)",
    "114": "Bank Jatim (BPD Jawa Timur)",
    "115": "Bank Jambi",
    "116": "Bank Aceh Syariah",
    "117": "Bank Sumut",
    "118": "Bank Nagari (BPD Sumatera Barat)",
    "119": "Bank Riau Kepri Syariah",
    "120": "Bank Sumsel Babel",
    "121": "Bank Lampung",
    "122": "Bank Kalsel",
    "123": "Bank Kalbar",
    "124": "Bank Kaltimtara",
    "125": "Bank Kalteng",
    "126": "Bank Sulselbar",
    "127": "Bank SulutGo",
    "128": "Bank NTB Syariah",
    "129": "Bank BPD Bali",
    "130": "Bank NTT",
    "131": "Bank Maluku Malut",
    "132": "Bank Papua",
    "133": "Bank Bengkulu",
    "134": "Bank Sulteng",
    "135": "Bank Sultra",
    "137": "Bank Banten",
    "146": "Bank of India Indonesia",
    "147": "Bank Muamalat Indonesia",
    "151": "Bank Mestika Dharma",
    "152": "Bank Shinhan Indonesia",
    "153": "Bank Sinarmas",
    "157": "Bank Maspion Indonesia",
    "161": "Bank Ganesha",
    "164": "Bank ICBC Indonesia",
    "167": "Bank QNB Indonesia",
    "200": "Bank Tabungan Negara (BTN)",
    "212": "Bank Woori Saudara Indonesia 1906",
    "213": "Bank SMBC Indonesia",
    "405": "Bank Victoria Syariah",
    "425": "Bank BJB Syariah",
    "426": "Bank Mega",
    "441": "KB Bank (KB Bukopin)",
    "451": "Bank Syariah Indonesia (BSI)",
    "459": "Krom Bank Indonesia",
    "466": "Bank Oke Indonesia",
    "484": "Bank KEB Hana Indonesia",
    "485": "Bank MNC Internasional",
    "490": "Bank Neo Commerce",
    "494": "Bank Raya Indonesia",
    "498": "Bank SBI Indonesia",
    "501": "Bank Digital BCA (blu)",
    "503": "Bank Nationalnobu (Nobu)",
    "506": "Bank Mega Syariah",
    "513": "Bank Ina Perdana",
    "517": "Bank Panin Dubai Syariah",
    "521": "Bank KB Bukopin Syariah",
    "523": "Bank Sahabat Sampoerna",
    "531": "Bank Amar Indonesia",
    "535": "SeaBank Indonesia",
    "536": "Bank BCA Syariah",
    "542": "Bank Jago",
    "547": "Bank BTPN Syariah",
    "548": "Bank Multiarta Sentosa",
    "553": "Bank Mayora (hibank)",
    "555": "Bank Index Selindo",
    "564": "Bank Mandiri Taspen",
    "566": "Bank Victoria International",
    "567": "Allo Bank Indonesia",
    "945": "Bank IBK Indonesia",
    "947": "Bank Aladin Syariah",
    "949": "Bank CTBC Indonesia",
}

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


def is_clearing_member(bi_code: str) -> bool:
    """`"535"` → True: a bank a withdrawal may be sent to."""
    return bi_code in BANKS


def bank_name(bi_code: str) -> str:
    return BANKS.get(bi_code, bi_code)


def short_code(bi_code: str) -> str:
    """`"014"` → `"BCA"` (Topremit's VA channel names)."""
    try:
        return SHORT_CODE[normalise_bank_code(bi_code)]
    except KeyError:
        raise UnknownBank(f"no short code for bank {bi_code!r}") from None
