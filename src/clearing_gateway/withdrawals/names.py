"""Does the bank's account-holder name belong to the user? (docs/withdrawals.md)

Both names are normalised before comparing: accents folded, case folded, punctuation
removed, honorifics and academic titles dropped before and after the name, never inside it
(Indonesian and English: "Bpk.", "Ibu", "Hj.", "Dr.", "S.Kom", "M.M." …; a title of one or
two letters only when written with a dot or when two other words remain), and the
remaining words compared as a multiset, so word order does not matter ("DOE JHON"
matches "Jhon Doe"). Nothing fuzzier: a different spelling is a mismatch, because
paying the wrong person cannot be undone.
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


def _words(name: str) -> list[tuple[str, bool]]:
    """Each word, and whether it was written with a dot ("S.Kom" → ("skom", True))."""
    words = []
    for raw in _fold(name).split():
        dotted = "." in raw
        for word in _PUNCTUATION.sub(" ", raw.replace(".", "")).split():
            words.append((word, dotted))
    return words


def _is_title(word: str, dotted: bool, others: int) -> bool:
    # A one- or two-letter title without a dot ("MA", "SE", "BU", "H") is also a given
    # name: drop it only when at least two other words remain ("MA LI" is not "Li").
    return word in TITLES and (dotted or len(word) > 2 or others >= 2)


def name_tokens(name: str) -> Counter[str]:
    """The words of a name without the titles before and after it (never in between)."""
    words = _words(name)
    start, end = 0, len(words)
    while start < end and _is_title(*words[start], others=end - start - 1):
        start += 1
    while end > start and _is_title(*words[end - 1], others=end - 1 - start):
        end -= 1
    return Counter(word for word, _ in words[start:end])


def names_match(holder: str, candidates: Iterable[str]) -> bool:
    tokens = name_tokens(holder)
    if not tokens:
        return False
    return any(tokens == name_tokens(candidate) for candidate in candidates)
