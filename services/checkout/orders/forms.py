"""The order admin's refund form: which lines, how much, and why.

What may be refunded, and how much, is `orders.services.order_refund`'s to decide: it
refuses an unpaid order or too large an amount before anything reaches Stripe, and the
admin shows its refusal. The form only offers the lines the signed-in user may touch
(a merchant's staff: their own), turns the amount typed in major units (12.50) into the
order currency's minor units (1250), and notices when the order was refunded since the
page was opened, so that a second click or a stale tab does not refund twice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import F

from clipcart_shared.money import Money, currency_exponent
from orders.models import Order, OrderLine
from orders.selectors import order_lines_of_merchants, order_refundable_amount

STALE = "stale"
STALE_MESSAGE = (
    "This order was refunded since the page was opened, so nothing was refunded now. "
    "Check what is left and refund again if it is still needed."
)


class RefundLinesField(forms.ModelMultipleChoiceField):
    currency = ""

    def label_from_instance(self, obj: Any) -> str:
        remaining = Money(obj.line_total_amount - obj.refunded_amount, self.currency)
        return f"{obj.quantity} x {obj.title} ({obj.sku}): {remaining.format()} refundable"


class OrderRefundForm(forms.Form):
    """A refund of some lines, or (platform staff only) of the whole order."""

    lines = RefundLinesField(
        queryset=OrderLine.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    amount = forms.DecimalField()  # replaced per order (currency decimals)
    reason = forms.CharField(max_length=200, required=False)
    # The order's refunded amount when the page was shown.
    refunded_when_shown = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any = None,
        *,
        order: Order,
        merchant_ids: list[uuid.UUID] | None,
        **kwargs: Any,
    ) -> None:
        self.order = order
        self.may_refund_whole_order = merchant_ids is None
        refundable_lines = order_lines_of_merchants(order=order, merchant_ids=merchant_ids).filter(
            refunded_amount__lt=F("line_total_amount")
        )
        self.refundable_lines = list(refundable_lines)
        self.exponent = currency_exponent(order.currency)
        # Staff start from all their lines; platform staff from the whole order.
        preselected = None if self.may_refund_whole_order else self.refundable_lines
        kwargs.setdefault(
            "initial",
            {
                "lines": [line.id for line in preselected or []],
                "amount": self._major(order_refundable_amount(order=order, lines=preselected)),
                "refunded_when_shown": order.refunded_amount,
            },
        )
        super().__init__(data, **kwargs)

        lines = self.fields["lines"]
        assert isinstance(lines, RefundLinesField)
        lines.queryset = refundable_lines
        lines.currency = order.currency
        lines.required = not self.may_refund_whole_order
        lines.label = "Lines to refund" if self.may_refund_whole_order else "Your lines to refund"
        lines.help_text = (
            "Tick none to refund the whole order, shipping included."
            if self.may_refund_whole_order
            else "Only the lines your shop sold can be refunded here."
        )
        # "Restock these units": how many units of each line go back on the shelf once
        # the refund succeeds (none unless said; at most what the buyer still holds).
        for line in self.refundable_lines:
            held = line.quantity - line.cancelled_quantity - line.returned_quantity
            self.fields[f"restock_{line.id}"] = forms.IntegerField(
                min_value=0,
                max_value=max(held, 0),
                required=False,
                initial=0,
                label=f"Restock units of {line.title} ({line.sku})",
                help_text="Put this many units back on the shelf in catalog when refunded.",
            )
        # The smallest amount and the decimals depend on the order's currency.
        self.fields["amount"] = forms.DecimalField(
            max_digits=12,
            decimal_places=self.exponent,
            min_value=Decimal(1).scaleb(-self.exponent),
            label=f"Amount ({order.currency})",
            help_text="At most what is left to refund on the ticked lines"
            + (", or on the order." if self.may_refund_whole_order else "."),
        )

    def _major(self, minor: int) -> Decimal:
        return Money(minor, self.order.currency).to_decimal()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen = cleaned.get("refunded_when_shown")
        if seen is not None and seen != self.order.refunded_amount:
            raise ValidationError(STALE_MESSAGE, code=STALE)
        return cleaned

    @property
    def is_stale(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, STALE)

    @property
    def amount_minor(self) -> int:
        """The amount in the currency's minor units (the form is valid)."""
        return int(self.cleaned_data["amount"].scaleb(self.exponent))

    @property
    def line_ids(self) -> list[uuid.UUID] | None:
        """The ticked lines; None, the whole order, when platform staff tick none."""
        ticked = [line.id for line in self.cleaned_data["lines"]]
        return None if not ticked and self.may_refund_whole_order else ticked

    @property
    def restock_units(self) -> dict[uuid.UUID, int]:
        """{line id: units} to put back on the shelf (the form is valid)."""
        return {
            line.id: units
            for line in self.refundable_lines
            if (units := self.cleaned_data.get(f"restock_{line.id}") or 0) > 0
        }

    @property
    def refundable_for_choice(self) -> int:
        """What is left to refund on what was chosen (the form is valid)."""
        ticked = list(self.cleaned_data["lines"])
        lines = None if self.line_ids is None else ticked
        return order_refundable_amount(order=self.order, lines=lines)
