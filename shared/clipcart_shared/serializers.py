"""Serializer fields every service's API uses."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clipcart_shared.money import KNOWN_CURRENCIES, UnknownCurrency, normalize_currency


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
class CurrencyField(serializers.CharField):
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
