import pytest

from clipcart_shared.money import Money, UnknownCurrency, currency_exponent, normalize_currency


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
