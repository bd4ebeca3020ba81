from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearing_gateway.kit.money import (
    AmountError,
    format_amount,
    from_decimal,
    parse_amount,
    percent_of,
)


@pytest.mark.parametrize(
    ("text", "minor"),
    [("10000.00", 1_000_000), ("10000", 1_000_000), ("0.5", 50), ("20000.1", 2_000_010)],
)
def test_parse(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1e5",
        "-5.00",
        "+5",
        "1.001",
        "01.00",
        " 5",
        "5 ",
        "1,000.00",
        "NaN",
        "0",
        "0.00",
        ".5",
        "5.",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


@pytest.mark.parametrize("value", [5, 5.0, None, Decimal("5")])
def test_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(AmountError):
        parse_amount(value)


def test_zero_allowed_when_not_positive() -> None:
    assert parse_amount("0.00", positive=False) == 0


def test_format() -> None:
    assert format_amount(1_000_000) == "10000.00"
    assert format_amount(5) == "0.05"
    assert format_amount(-150) == "-1.50"
    assert format_amount(6_000_000, "VND") == "6000000"


@given(st.integers(min_value=1, max_value=10**15))
def test_round_trip(minor: int) -> None:
    assert parse_amount(format_amount(minor)) == minor


def test_from_decimal_refuses_residue() -> None:
    assert from_decimal(Decimal("1500.50")) == 150_050
    with pytest.raises(AmountError):
        from_decimal(Decimal("1500.505"))


def test_percent_rounds_half_up() -> None:
    assert percent_of(10_000, 25) == 25  # 0.25 % of 100.00 = 0.25
    assert percent_of(150, 50) == 1  # 0.75 → 1
    assert percent_of(50, 50) == 0  # 0.25 → 0
