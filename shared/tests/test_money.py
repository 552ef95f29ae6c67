import pytest

from clipcart_shared.money import (
    Money,
    UnknownCurrency,
    allocate,
    currency_exponent,
    normalize_currency,
)


@pytest.mark.parametrize(("currency", "exponent"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("usd", 2)])
def test_currency_exponents_follow_iso_4217(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["EUX", "", "EURO", None, 978, "€"])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(UnknownCurrency):
        normalize_currency(code)


def test_money_is_minor_units_and_formats_per_currency_only_for_display():
    assert Money(1999, "eur").to_dict() == {"amount": 1999, "currency": "EUR"}
    assert Money(1999, "EUR").format("en") == "€19.99"
    assert Money(500, "JPY").format("en") == "¥500"
    assert str(Money(1234, "KWD").to_decimal()) == "1.234"


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(19.99, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Cannot combine"):
        Money(1, "EUR") + Money(1, "USD")
    assert Money(250, "EUR") * 3 + Money(1, "EUR") == Money(751, "EUR")


def test_allocate_splits_exactly_ties_to_the_earlier_part():
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(5, [4, 4, 4]) == [2, 2, 1]
    assert allocate(100, [1, 2]) == [33, 67]
    assert allocate(7, [5]) == [7]


def test_allocate_never_gives_a_zero_weight_a_unit():
    assert allocate(10, [3, 0, 7]) == [3, 0, 7]
    assert allocate(1, [0, 1, 1]) == [0, 1, 0]


def test_allocate_splits_nothing_over_weights_that_add_up_to_nothing():
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(0, []) == []


def test_allocate_refuses_an_amount_over_weights_that_add_up_to_nothing():
    with pytest.raises(ValueError):
        allocate(10, [0, 0])
    with pytest.raises(ValueError):
        allocate(10, [])


def test_allocate_refuses_negative_weights():
    with pytest.raises(ValueError):
        allocate(10, [3, -1])
