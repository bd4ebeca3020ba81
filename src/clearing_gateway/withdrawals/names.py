"""Does the bank's account-holder name belong to the user? (docs/withdrawals.md)

Both names are normalised before comparing: accents folded, case folded, punctuation
removed, honorifics and academic titles dropped (Indonesian and English: "Bpk.", "Ibu",
"Hj.", "Dr.", "S.Kom", "M.M." …), and the remaining words compared as a multiset, so word
order does not matter ("DOE JHON" matches "Jhon Doe"). Nothing fuzzier: a different
spelling is a mismatch, because paying the wrong person cannot be undone.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

TITLES = frozenset(
    [
        "bapak",
        "bpk",
        "bp",
        "pak",
        "ibu",
        "bu",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "tn",
        "tuan",
        "ny",
        "nyonya",
        "nn",
        "nona",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "sir",
        "madam",
        "dr",
        "drs",
        "dra",
        "ir",
        "prof",
        "h",
        "hj",
        "haji",
        "hajjah",
        "kh",
        "ust",
        "ustadz",
        "se",
        "sh",
        "skom",
        "st",
        "sked",
        "spd",
        "ssi",
        "sp",
        "sos",
        "sag",
        "mm",
        "mba",
        "msc",
        "ma",
        "mkom",
        "mh",
        "mt",
        "mpd",
        "phd",
        "amd",
        "ak",
        "cpa",
    ]
)
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_tokens(name: str) -> Counter[str]:
    # "S.Kom" → "skom", "Hj." → "hj": drop dots inside titles before splitting on the rest.
    words = _PUNCTUATION.sub(" ", _fold(name).replace(".", "")).split()
    return Counter(word for word in words if word not in TITLES)


def names_match(holder: str, candidates: Iterable[str]) -> bool:
    tokens = name_tokens(holder)
    if not tokens:
        return False
    return any(tokens == name_tokens(candidate) for candidate in candidates)
