from __future__ import annotations

import pytest

from clearing_gateway.withdrawals.names import names_match


@pytest.mark.parametrize(
    ("holder", "candidate"),
    [
        ("JHON DOE", "Jhon Doe"),
        ("Doe, Jhon", "Jhon Doe"),
        ("BPK. JHON DOE", "Jhon Doe"),
        ("Jhon Doe S.Kom", "Jhon Doe"),
        ("Hj. Siti Aminah, S.E., M.M.", "Siti Aminah"),
        ("José Álvarez", "Jose Alvarez"),
        ("  jhon   doe ", "Jhon Doe"),
        ("H. BUDI", "Budi"),  # written with a dot, it is a title
        ("Ibu Siti", "Siti"),
        ("BU SITI AMINAH", "Siti Aminah"),
    ],
)
def test_matches(holder: str, candidate: str) -> None:
    assert names_match(holder, [candidate])


@pytest.mark.parametrize(
    ("holder", "candidate"),
    [
        ("JOHN DOE", "Jhon Doe"),  # a different spelling is a different person
        ("JHON DOE", "Jhon"),  # a partial name is not enough
        ("JHON DOE DOE", "Jhon Doe"),
        ("Mr.", "Mr."),  # nothing left after titles
        ("MA LI", "Li"),  # short title words are given names too
        ("SE LIN", "Lin"),
        ("BU DI", "Di"),
        ("H BUDI", "Budi"),
        ("JHON DR DOE", "Jhon Doe"),  # a title inside the name is part of it
        ("", "Jhon Doe"),
    ],
)
def test_mismatches(holder: str, candidate: str) -> None:
    assert not names_match(holder, [candidate])


def test_any_whitelisted_name_counts() -> None:
    assert names_match("PT ACME INDONESIA", ["Jhon Doe", "PT Acme Indonesia"])
