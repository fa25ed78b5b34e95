from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.money import Money, MoneyView


def test_from_decimal_keeps_exact_minor_units() -> None:
    assert Money.from_decimal("123.45", "USD") == Money(
        amount_minor=12345, currency="USD"
    )
    assert Money.from_decimal(Decimal("0.10"), "EUR").amount_minor == 10
    assert Money.from_decimal("1500", "JPY").amount_minor == 1500


@pytest.mark.parametrize("value", ["1.234", "abc", "NaN", "Infinity", ""])
def test_from_decimal_refuses_what_is_not_an_exact_amount(value: str) -> None:
    with pytest.raises(ValueError):
        Money.from_decimal(value, "USD")


def test_yen_has_no_decimals() -> None:
    with pytest.raises(ValueError, match="0 decimal places"):
        Money.from_decimal("10.5", "JPY")


def test_value_is_a_plain_decimal_string() -> None:
    assert Money(amount_minor=5, currency="USD").value == "0.05"
    assert Money(amount_minor=100000000, currency="USD").value == "1000000.00"
    assert str(Money(amount_minor=1999, currency="GBP")) == "19.99 GBP"
    assert MoneyView.of(Money(amount_minor=1999, currency="GBP")).value == "19.99"


def test_comparison_refuses_mixed_currencies() -> None:
    assert Money(amount_minor=1, currency="USD") < Money(amount_minor=2, currency="USD")
    with pytest.raises(ValueError):
        _ = Money(amount_minor=1, currency="USD") < Money(
            amount_minor=2, currency="EUR"
        )


@given(st.integers(min_value=0, max_value=10**12))
def test_round_trip_through_decimal(minor: int) -> None:
    money = Money(amount_minor=minor, currency="USD")
    assert Money.from_decimal(money.to_decimal(), "USD") == money
    assert Money.from_decimal(money.value, "USD") == money
