from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from clipcart_shared.money import UnknownCurrency, normalize_currency


def validate_currency(value: str) -> None:
    try:
        if normalize_currency(value) != value:
            raise ValidationError("Use the upper-case ISO 4217 code, e.g. EUR.")
    except UnknownCurrency as error:
        raise ValidationError(str(error), code="unknown_currency") from error


class Merchant(models.Model):
    """A shop selling through clipcart. Its staff manage its products in the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    currency = models.CharField(
        max_length=3, validators=[validate_currency], help_text="ISO 4217, e.g. EUR"
    )
    shipping_fee_amount = models.PositiveIntegerField(
        default=0, help_text="Flat shipping fee per order, in minor units of the currency."
    )
    max_units_per_buyer = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="Most units of one variant a buyer may hold in unpaid checkouts at once "
        "(a hoarder cannot keep a product out of stock).",
    )
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="merchants", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="merchant_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(max_units_per_buyer__gte=1),
                name="merchant_max_units_per_buyer_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name
