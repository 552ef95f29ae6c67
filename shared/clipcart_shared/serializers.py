"""Serializer fields every service's API uses.

A request body is JSON, so each of its fields takes only its own JSON type, as the schema
says: `CharField` a string, `IntegerField` and `FloatField` a number (not a string or a
boolean), `UUIDField` a string. DRF's own fields would take `5` as the text "5" and "5" as
the number 5. Query parameters are text: `QuerySerializer` reads them."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clipcart_shared.money import KNOWN_CURRENCIES, UnknownCurrency, normalize_currency


class CharField(serializers.CharField):
    """A string; DRF's would also take a number as its text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class RegexField(serializers.RegexField):
    """A string matching the pattern; never a number's text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class EmailField(serializers.EmailField):
    """An email address, as a string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class IntegerField(serializers.IntegerField):
    """A JSON number that is whole; DRF's would also take "5" or `true`."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class FloatField(serializers.FloatField):
    """A JSON number; DRF's would also take "0.5" or `true`."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class BooleanField(serializers.BooleanField):
    """A JSON `true` or `false`; DRF's would also take "yes", "1" or 0."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class QuerySerializer(serializers.Serializer):
    """Query parameters, read as the schema declares them. DRF's form handling takes an
    empty optional parameter (`?merchant=`) as absent; here it is a value like any other,
    so a 400 naming the parameter unless its field allows blank (`allow_blank=True`, e.g.
    a search that may be empty). A parameter given twice is a 400 too (the schema declares
    one value)."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        for name, field in self.fields.items():
            values = data.getlist(name) if hasattr(data, "getlist") else []
            if len(values) > 1:
                errors[name] = ["Give this parameter once."]
            elif values == [""] and not getattr(field, "allow_blank", False):
                try:
                    field.run_validation("")
                except serializers.ValidationError as error:
                    errors[name] = error.detail
                else:
                    errors[name] = ["This parameter may not be empty."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class UUIDField(serializers.UUIDField):
    """Ids are UUID strings. DRF would also take an integer as a UUID; we do not."""

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "enum": sorted(KNOWN_CURRENCIES),
        "description": "An ISO 4217 code, upper case.",
    }
)
class CurrencyField(CharField):
    """An ISO 4217 code, upper case, as the schema lists them; anything else fails with the
    code `unknown_currency`."""

    default_error_messages = {"unknown_currency": "{value!r} is not an ISO 4217 currency code."}

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            if text != text.upper():  # "eur": the schema lists upper-case codes only
                raise UnknownCurrency(text)
            return normalize_currency(text)
        except UnknownCurrency:
            self.fail("unknown_currency", value=text)
            raise  # fail() always raises; this keeps type checkers content


class MoneySerializer(serializers.Serializer):
    """`{"amount": 1999, "currency": "EUR"}`: integer minor units and an ISO 4217 code."""

    amount = serializers.IntegerField(help_text="Integer minor units.")
    currency = serializers.CharField(help_text="ISO 4217 code.")
