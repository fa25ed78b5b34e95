"""Money as integer minor units plus an ISO 4217 currency code.

Decimal appears only at the eBay boundary (``Money.from_decimal`` / ``to_decimal``);
floats never do.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

# Currencies whose minor unit is not 1/100 (ISO 4217). eBay's marketplaces use
# two-decimal currencies; the table keeps the conversion honest for the rest.
_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "HUF": 2, "BHD": 3, "KWD": 3}

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


def currencies_by_exponent() -> dict[int, list[str]]:
    """The currencies whose minor unit is not 1/100, by decimal places."""
    by_exponent: dict[int, list[str]] = {}
    for currency, exponent in sorted(_EXPONENTS.items()):
        if exponent != 2:
            by_exponent.setdefault(exponent, []).append(currency)
    return by_exponent


def minor_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return _EXPONENTS.get(currency, 2)


class Money(BaseModel):
    """An exact amount: ``amount_minor`` units of 1/10^exponent of ``currency``."""

    model_config = ConfigDict(frozen=True)

    amount_minor: int = Field(ge=0)
    currency: CurrencyCode

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str) -> Self:
        """Parse an eBay-style decimal string. Refuses sub-minor-unit precision."""
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not a decimal amount: {value!r}") from exc
        if not amount.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        exponent = minor_exponent(currency)
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(
                f"{currency} amounts have at most {exponent} decimal places: {value}"
            )
        return cls(amount_minor=int(scaled), currency=currency)

    def to_decimal(self) -> Decimal:
        exponent = minor_exponent(self.currency)
        return (
            Decimal(self.amount_minor)
            .scaleb(-exponent)
            .quantize(Decimal(1).scaleb(-exponent))
        )

    @property
    def value(self) -> str:
        """The amount as a plain decimal string, e.g. ``"123.45"``."""
        return f"{self.to_decimal():f}"

    def __str__(self) -> str:
        return f"{self.value} {self.currency}"

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot compare {self.currency} with {other.currency}")


class MoneyView(BaseModel):
    """Public JSON shape of an amount: ``{"value": "123.45", "currency": "USD"}``."""

    model_config = ConfigDict(frozen=True)

    value: str
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyView:
        return cls(value=money.value, currency=money.currency)
