"""Promotions for merchant staff, scoped to the user's merchants as products are.

Usage counters are never written from a form: they move only with reservations, under
the row lock (`promotions.services`), so a save writes every field but those. A
promotion is never deleted (reservations and orders name it); it is ended by setting
its end time.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, reverse
from django.utils.html import format_html

from clipcart_shared.admin import ReadOnlyAdminMixin
from clipcart_shared.money import Money
from merchants.admin import MerchantChoicesAdminMixin
from promotions.admin_codes import SingleUseCodesAdminMixin
from promotions.batches import batch_terms_sync
from promotions.models import CreatorCodeRequest, Promotion
from promotions.pricing import code_normalize


class PromotionForm(forms.ModelForm):
    class Meta:
        model = Promotion
        fields = [
            "merchant",
            "name",
            "code",
            "single_use_codes",
            "is_stackable",
            "kind",
            "percent_off",
            "amount_off",
            "applies_to",
            "products",
            "categories",
            "minimum_spend_amount",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
        ]

    creator_request = forms.ModelChoiceField(
        queryset=CreatorCodeRequest.objects.none(),
        required=False,
        label="Creator",
        help_text="For a creator code: the creator who asked the merchant for one (from the "
        "app). Orders with the code credit that creator's latest video of the product.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and self.instance.creator_id is not None:
            # The creator's latest request to the merchant (a creator may hold several
            # codes of one merchant, granted by one request).
            self.initial["creator_request"] = (
                CreatorCodeRequest.objects.filter(
                    merchant_id=self.instance.merchant_id, creator_id=self.instance.creator_id
                )
                .order_by("-created_at")
                .values_list("pk", flat=True)
                .first()
            )

    def clean_code(self) -> str | None:
        code = self.cleaned_data.get("code")
        return code_normalize(code) or None if code else None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind")
        if kind == Promotion.Kind.PERCENT and not data.get("percent_off"):
            self.add_error("percent_off", "A percent off needs the percent.")
        if kind == Promotion.Kind.FIXED_AMOUNT and not data.get("amount_off"):
            self.add_error("amount_off", "A fixed amount off needs the amount.")
        has_codes = self.instance.pk is not None and self.instance.batch_codes.exists()
        if has_codes and not data.get("single_use_codes"):
            self.add_error("single_use_codes", "It has generated codes: it keeps them.")
        if data.get("single_use_codes") and data.get("code"):
            self.add_error("code", "A promotion with single-use codes has no code of its own.")
        if data.get("single_use_codes") and data.get("is_stackable"):
            self.add_error("is_stackable", "A promotion with single-use codes never stacks.")
        if data.get("code") and data.get("is_stackable"):
            self.add_error("is_stackable", "Only automatic promotions stack; a code never does.")
        merchant = data.get("merchant")
        creator_request = data.get("creator_request")
        if creator_request is not None:
            if not data.get("code"):
                self.add_error("code", "A creator code needs its code.")
            if merchant is not None and creator_request.merchant_id != merchant.id:
                self.add_error("creator_request", "That creator asked another merchant.")
        products = data.get("products")
        if data.get("applies_to") == Promotion.AppliesTo.PRODUCTS and not products:
            self.add_error("products", "Choose the products it applies to.")
        if (
            merchant is not None
            and products is not None
            and any(product.merchant_id != merchant.id for product in products)
        ):
            self.add_error("products", "Only the merchant's own products.")
        if data.get("applies_to") == Promotion.AppliesTo.CATEGORIES and not data.get("categories"):
            self.add_error("categories", "Choose the categories it applies to.")
        limit = data.get("usage_limit")
        if self.instance.pk is not None and limit is not None:
            # Uses checkouts hold or consumed stay theirs: the limit cannot go below them.
            taken = (
                Promotion.objects.filter(id=self.instance.pk)
                .values_list("uses_reserved", "uses_consumed")
                .first()
            )
            if taken is not None and limit < sum(taken):
                self.add_error("usage_limit", f"At least the {sum(taken)} uses taken.")
        return data


@admin.register(Promotion)
class PromotionAdmin(SingleUseCodesAdminMixin, MerchantChoicesAdminMixin, admin.ModelAdmin):
    form = PromotionForm
    merchant_field = "merchant"
    list_display = [
        "name",
        "code",
        "creator",
        "merchant",
        "kind",
        "value",
        "starts_at",
        "ends_at",
        "uses",
    ]
    list_filter = ["kind", "applies_to"]
    list_select_related = ["merchant"]
    search_fields = ["name", "code"]
    filter_horizontal = ["products", "categories"]
    readonly_fields = ["uses_reserved", "uses_consumed", "codes_link"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "name",
                    "code",
                    "creator_request",
                    "single_use_codes",
                    "codes_link",
                    "is_stackable",
                ]
            },
        ),
        (
            "Discount",
            {
                "fields": [
                    "kind",
                    "percent_off",
                    "amount_off",
                    "applies_to",
                    "products",
                    "categories",
                ]
            },
        ),
        (
            "Conditions",
            {
                "fields": [
                    "minimum_spend_amount",
                    "starts_at",
                    "ends_at",
                    "usage_limit",
                    "per_customer_limit",
                ]
            },
        ),
        ("Usage", {"fields": ["uses_reserved", "uses_consumed"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Promotion]:
        # Generated single-use codes are listed and exported on their promotion's page.
        return super().get_queryset(request).filter(batch_source__isnull=True)

    def get_urls(self) -> list[URLPattern]:
        return [*self.codes_urls(), *super().get_urls()]

    @admin.display(description="Single-use codes")
    def codes_link(self, promotion: Promotion) -> str:
        if promotion.pk is None or not promotion.single_use_codes:
            return "—"
        url = reverse(
            "admin:promotions_promotion_codes",
            args=[promotion.pk],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">Generate and export codes</a>', url)

    @admin.display(description="Creator")
    def creator(self, promotion: Promotion) -> str:
        return f"@{promotion.creator_handle}" if promotion.creator_id else "—"

    @admin.display(description="Value")
    def value(self, promotion: Promotion) -> str:
        if promotion.kind == Promotion.Kind.PERCENT:
            return f"{promotion.percent_off} %"
        if promotion.kind == Promotion.Kind.FIXED_AMOUNT:
            return Money(promotion.amount_off or 0, promotion.merchant.currency).format()
        return "free shipping"

    @admin.display(description="Uses (paid + open / limit)")
    def uses(self, promotion: Promotion) -> str:
        limit = "∞" if promotion.usage_limit is None else str(promotion.usage_limit)
        return f"{promotion.uses_consumed} + {promotion.uses_reserved} / {limit}"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        asked = self.scoped_choices(request, CreatorCodeRequest)
        field = form.base_fields["creator_request"]
        field.queryset = (  # type: ignore[attr-defined]
            CreatorCodeRequest.objects.all() if asked is None else asked
        ).select_related("merchant")
        return form

    def save_model(self, request: HttpRequest, obj: Promotion, form: Any, change: bool) -> None:
        creator_request = form.cleaned_data.get("creator_request")
        obj.creator_id = creator_request.creator_id if creator_request else None
        obj.creator_handle = creator_request.creator_handle if creator_request else ""
        self._save_promotion(obj, change)
        if creator_request is not None and creator_request.promotion_id is None:
            creator_request.promotion = obj
            creator_request.status = CreatorCodeRequest.Status.GRANTED
            creator_request.save(update_fields=["promotion", "status"])

    def _save_promotion(self, obj: Promotion, change: bool) -> None:
        if not change:
            obj.save()
            return
        # Every field the form edits, never the counters a checkout moves meanwhile.
        editable = [
            field.name
            for field in Promotion._meta.concrete_fields
            if field.editable and not field.primary_key
        ] + ["creator_id", "creator_handle"]
        obj.save(update_fields=editable)
        batch_terms_sync(promotion=obj)


@admin.register(CreatorCodeRequest)
class CreatorCodeRequestAdmin(ReadOnlyAdminMixin, MerchantChoicesAdminMixin, admin.ModelAdmin):
    """Creators asking for a code (from the app, through video): granted by choosing the
    creator on a promotion by code."""

    merchant_field = "merchant"
    list_display = ["__str__", "merchant", "message", "status", "promotion", "created_at"]
    list_filter = ["status"]
    list_select_related = ["merchant", "promotion"]
    search_fields = ["creator_handle", "code"]


# Flash deals' admin is in its own module; importing it registers it.
from promotions import flash_admin  # noqa: E402, F401
