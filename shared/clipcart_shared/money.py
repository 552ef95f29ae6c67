"""Money is integer minor units plus an ISO 4217 currency; converted for display only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

# Babel knows every ISO 4217 code, including the historical ones; keep only codes that
# have a precision entry so that a typo never passes as a currency.
KNOWN_CURRENCIES: frozenset[str] = frozenset(list_currencies())


class UnknownCurrency(ValueError):
    """The text is not an ISO 4217 currency code."""


def normalize_currency(code: object) -> str:
    """Return the upper-case ISO 4217 code, or raise `UnknownCurrency`."""
    if not isinstance(code, str) or code.upper() not in KNOWN_CURRENCIES or len(code) != 3:
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code.")
    return code.upper()


def currency_exponent(currency: str) -> int:
    """How many minor-unit digits the currency has: 2 for EUR, 0 for JPY, 3 for KWD."""
    return int(get_currency_precision(normalize_currency(currency)))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency. Arithmetic refuses to mix currencies."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money amounts are whole minor units (int).")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("Money is multiplied by whole quantities only.")
        return Money(self.amount * factor, self.currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exact (for display and for providers that want it)."""
        return Decimal(self.amount).scaleb(-currency_exponent(self.currency))

    def format(self, locale: str | Locale = "en") -> str:
        """Human-readable text such as `€19.99` or `¥500`; never feed it back into arithmetic."""
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))

    def to_dict(self) -> dict[str, Any]:
        """The API shape: `{"amount": 1999, "currency": "EUR"}`."""
        return {"amount": self.amount, "currency": self.currency}


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` into whole units that add up to it
    exactly (largest remainder): each part gets the floor of its exact share, and the
    units left over go one each to the largest remainders, ties to the earlier weight.

    A zero weight never gets a unit. Nothing (0) splits over weights that add up to
    nothing, as zeros; any other amount over them is a caller's mistake (ValueError), as
    are negative weights.
    """
    if any(weight < 0 for weight in weights):
        raise ValueError("Weights are never negative.")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if amount == 0:
            return [0] * len(weights)
        raise ValueError("Only nothing splits over weights that add up to nothing.")
    parts, remainders = [], []
    for weight in weights:
        part, remainder = divmod(amount * weight, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    by_remainder = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[: amount - sum(parts)]:
        parts[index] += 1
    return parts
