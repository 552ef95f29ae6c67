"""The admin's variant form: the variant's own fields, and its stock as adjustments.

Stock is never written back from the form. A merchant records one change at a time —
a receipt (+N), a write-off (-N), or a count typed over "on hand" — and it is applied
as a delta under the variant's row lock, logged as a stock movement (ADR 13). A count
is checked against the level the form was opened with (a hidden field), so a form
opened before a sale cannot put the sold units back; a save that changes only the
price or title leaves on-hand alone.

The checks run in `clean()` on the rows locked for the admin's transaction, so a change
that would be refused is a form error (nothing saved), never a database error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import BaseInlineFormSet
from django.http import QueryDict

from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode
from inventory.models import StockMovement
from inventory.services import (
    stock_change_check,
    stock_count,
    stock_receive,
    stock_write_off,
    variants_lock,
)
from products.models import Variant

# What the admin saves on a variant; on-hand moves only through the stock services,
# `merchant` follows the product and `quantity_reserved` belongs to the reservations.
VARIANT_SAVED_FIELDS = ["sku", "title", "options", "price_amount", "position"]
VARIANT_FORM_FIELDS = ["sku", "title", "options", "price_amount", "quantity_on_hand", "position"]
STOCK_FORM_FIELDS = ["stock_received", "stock_written_off", "stock_note", "on_hand_when_opened"]
MAX_UNITS_PER_CHANGE = 1_000_000

Kind = StockMovement.Kind
_ERROR_FIELD = {
    Kind.COUNTED: "quantity_on_hand",
    Kind.RECEIVED: "stock_received",
    Kind.WRITTEN_OFF: "stock_written_off",
}


class VariantForm(forms.ModelForm):
    """Checks what the database would refuse, as form errors instead of a crash: a SKU
    already used by the merchant, a stock change below what is reserved, a stale count."""

    on_hand_when_opened = forms.IntegerField(widget=forms.HiddenInput, required=False)
    stock_received = forms.IntegerField(
        label="Receive",
        min_value=1,
        max_value=MAX_UNITS_PER_CHANGE,
        required=False,
        help_text="Units that arrived: added to what is on hand now.",
    )
    stock_written_off = forms.IntegerField(
        label="Write off",
        min_value=1,
        max_value=MAX_UNITS_PER_CHANGE,
        required=False,
        help_text="Units lost or broken: taken from what is on hand now.",
    )
    stock_note = forms.CharField(label="Reason", max_length=200, required=False)

    class Meta:
        model = Variant
        fields = ["product", *VARIANT_FORM_FIELDS]
        labels = {"quantity_on_hand": "On hand (count)"}
        help_texts = {
            "quantity_on_hand": "Type a new number only to record a count; it is refused "
            "if stock moved since this page was opened."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (kind, quantity, expected on hand): the one stock change `clean()` accepted.
        self.stock_change: tuple[str, int, int | None] | None = None
        if not self.instance._state.adding:
            self.fields["on_hand_when_opened"].initial = self.instance.quantity_on_hand

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # In the product page's inline, `product` is the parent product (Django's inline
        # foreign key field), with the merchant its own form just cleaned.
        product = cleaned.get("product")
        sku = cleaned.get("sku")
        if product is not None and product.merchant_id is not None and sku:
            taken = (
                Variant.objects.filter(merchant_id=product.merchant_id, sku=sku)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if taken:
                self.add_error("sku", f"{product.merchant} already has a variant with this SKU.")
        if not cleaned.get("DELETE"):
            self._clean_stock(cleaned)
        return cleaned

    def _clean_stock(self, cleaned: dict[str, Any]) -> None:
        variant = self._locked_variant()
        if variant is None:
            self.add_error(None, "This variant was deleted meanwhile; reload the page.")
            return
        current = variant.quantity_on_hand
        opened = 0 if self.instance._state.adding else cleaned.get("on_hand_when_opened")
        count = cleaned.get("quantity_on_hand")
        # A count is a number typed over the level shown when the form was opened (a form
        # that does not say which level that was is checked against the current one).
        if count == (current if opened is None else opened):
            count = None
        requested = [
            (kind, quantity)
            for kind, quantity in (
                (Kind.COUNTED, count),
                (Kind.RECEIVED, cleaned.get("stock_received")),
                (Kind.WRITTEN_OFF, cleaned.get("stock_written_off")),
            )
            if quantity is not None
        ]
        # Until a change is accepted, the instance keeps the level it has under the lock,
        # so the model's own constraint checks look at the truth, not at the form.
        cleaned["quantity_on_hand"] = current
        if len(requested) > 1:
            self.add_error(
                None, "Record one stock change at a time: a count, a receipt or a write-off."
            )
            return
        if not requested:
            return
        [(kind, quantity)] = requested
        try:
            delta = stock_change_check(
                variant=variant, kind=kind, quantity=quantity, expected_on_hand=opened
            )
        except ApplicationError as error:
            self.add_error(_ERROR_FIELD[kind], self._refusal(error, opened))
            return
        self.stock_change = (kind, quantity, opened)
        cleaned["quantity_on_hand"] = current + delta

    def _locked_variant(self) -> Variant | None:
        """The variant as it is now, its row locked until the admin's transaction ends (a
        new variant: empty; None if it was deleted meanwhile). The instance's reserved
        count is refreshed from it: checkouts may have moved it since the page was read."""
        if self.instance._state.adding:
            return Variant(quantity_on_hand=0, quantity_reserved=0)
        locked = variants_lock(variant_ids=[self.instance.pk]).get(self.instance.pk)
        if locked is not None:
            self.instance.quantity_reserved = locked.quantity_reserved
        return locked

    def _refusal(self, error: ApplicationError, opened: int | None) -> str:
        if error.code != CatalogErrorCode.STOCK_COUNT_STALE:
            return error.detail
        current = error.extra["on_hand"]
        # Saving again after reading this counts against the level it names.
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        data[self.add_prefix("on_hand_when_opened")] = str(current)
        self.data = data
        if opened is None:
            return (
                f"On hand is now {current}, and this form did not say which level it was "
                "opened with. Nothing was saved; check your count and save again."
            )
        return (
            f"On hand is now {current}, not the {opened} this form was opened with: stock "
            "moved meanwhile. Nothing was saved; check your count and save again."
        )

    def stock_change_save(self, *, actor: str, user_id: int | None) -> StockMovement | None:
        """Apply the stock change `clean()` accepted (after the variant itself is saved);
        the services check it again under the lock this transaction still holds."""
        if self.stock_change is None:
            return None
        kind, quantity, opened = self.stock_change
        who: dict[str, Any] = {"actor": actor, "user_id": user_id}
        note = self.cleaned_data.get("stock_note", "")
        if kind == Kind.COUNTED:
            assert opened is not None  # `clean()` accepted the count against it
            return stock_count(
                variant_id=self.instance.pk,
                counted=quantity,
                expected_on_hand=opened,
                note=note,
                **who,
            )
        adjust = stock_receive if kind == Kind.RECEIVED else stock_write_off
        return adjust(variant_id=self.instance.pk, quantity=quantity, note=note, **who)


class VariantInlineFormSet(BaseInlineFormSet):
    def full_clean(self) -> None:
        # Lock every variant on the page in id order before any form reads its stock: the
        # lock order of ADR 4, so this save and a checkout queue rather than deadlock.
        if self.is_bound:
            variants_lock(variant_ids=[form.instance.pk for form in self.initial_forms])
        super().full_clean()

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            sku = form.cleaned_data.get("sku")
            if sku in seen:
                form.add_error("sku", "Two variants of this product have this SKU.")
            elif sku:
                seen.add(sku)


def variant_form_save(form: VariantForm, *, actor: str, user_id: int | None) -> Variant:
    """Save the variant's own fields (never its counters), then its stock change."""
    variant: Variant = form.instance
    variant.merchant_id = variant.product.merchant_id
    if variant._state.adding:
        variant.quantity_on_hand = 0  # a new variant's stock arrives as a `counted` movement
        variant.save()
    else:
        variant.save(update_fields=[*VARIANT_SAVED_FIELDS, "product", "merchant"])
    form.stock_change_save(actor=actor, user_id=user_id)
    return variant
