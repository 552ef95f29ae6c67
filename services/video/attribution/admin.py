"""Attribution in the admin: each merchant's sales report (by video, creator or product,
as a table, CSV, and a daily chart per video), their paid lines, lookback windows and
per-product commission rates. Merchant staff see only their own merchants' numbers;
platform staff see everything."""

from __future__ import annotations

import csv
import re
import uuid
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    ProductCommissionRate,
    SaleLine,
    SalesReport,
)
from attribution.reports import (
    REPORT_GROUPINGS,
    Report,
    ReportRow,
    daily_sales,
    merchant_report,
    report_currencies,
)
from attribution.selectors import DayRange
from clipcart_shared.admin import MerchantScopedAdminMixin, ReadOnlyAdminMixin, request_merchant_ids
from clipcart_shared.money import Money
from creators.models import HANDLE_PATTERN
from productcards.models import ProductCard

CSV_COLUMNS = [
    ("impressions", "Impressions"),
    ("views", "Views"),
    ("tag_taps", "Tag taps"),
    ("tap_through_rate", "Tap-through rate"),
    ("orders", "Orders"),
    ("units", "Units"),
    ("sales", "Attributed sales"),
    ("refunds", "Refunds"),
    ("net", "Net"),
    ("conversion_rate", "Conversion rate"),
    ("net_per_1000_views", "Net per 1000 views"),
    ("commission", "Commission owed"),
    ("self_purchases", "Self-purchases"),
]
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# A creator's label as `Creator.__str__` renders it: "@" and a handle, which the database
# holds to a-z, 0-9, "_" and "." (no parenthesis, operator or quote: nothing to call).
_CREATOR_LABEL = re.compile(r"@" + HANDLE_PATTERN.removeprefix("^"))


def csv_cell(value: Any) -> Any:
    """A text cell made inert for spreadsheets: one starting like a formula gets a leading
    single quote (OWASP's advice). Numbers we computed are left as numbers, and so is a
    creator's "@handle" (see `_CREATOR_LABEL`)."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _CREATOR_LABEL.fullmatch(value)
    ):
        return "'" + value
    return value


class ReportForm(forms.Form):
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    model = forms.ChoiceField(choices=AttributionModel.choices)
    by = forms.ChoiceField(choices=[(by, by.title()) for by in REPORT_GROUPINGS], initial="video")
    currency = forms.ChoiceField(choices=[])
    video = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["currency"]).choices = [
            (code, code) for code in currencies
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["days"] = DayRange.checked(cleaned.get("start"), cleaned.get("end"))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned


NOTHING = "\N{EN DASH}"  # a rate of nothing: no impressions or no views


def _percent(share: float | None) -> str:
    return NOTHING if share is None else f"{share * 100:.1f}%"


def _row_cells(row: ReportRow, currency: str) -> list[str]:
    money = {"sales", "refunds", "net", "commission", "self_purchases"}
    cells = []
    for field, _ in CSV_COLUMNS:
        value = getattr(row, field)
        if field in money:
            cells.append(Money(value, currency).format())
        elif field in {"tap_through_rate", "conversion_rate"}:
            cells.append(_percent(value))
        elif field == "net_per_1000_views":
            cells.append(NOTHING if value is None else Money(round(value), currency).format())
        else:
            cells.append(f"{value:,}")
    return cells


def report_csv(report: Report) -> HttpResponse:
    """The report as CSV: amounts in minor units, rates as fractions, for spreadsheets."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"sales-by-{report.by}-{report.model}-{report.days.start}-{report.days.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([report.by, "id", "currency", *(label for _, label in CSV_COLUMNS)])
    for row in [*report.rows, report.total]:
        values = [getattr(row, field) for field, _ in CSV_COLUMNS]
        # Labels are captions, handles and product titles: typed by creators and merchants.
        writer.writerow(
            [
                csv_cell(cell)
                for cell in [
                    row.label,
                    str(row.key or ""),
                    report.currency,
                    *("" if value is None else round(value, 4) for value in values),
                ]
            ]
        )
    return response


def report_default_model(merchant_ids: list[uuid.UUID] | None) -> str:
    if merchant_ids:
        chosen = (
            MerchantAttributionSettings.objects.filter(merchant_id__in=merchant_ids)
            .values_list("default_model", flat=True)
            .first()
        )
        if chosen:
            return chosen
    return AttributionModel.LAST_TOUCH


@admin.register(SalesReport)
class SalesReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The report page replaces the list: which clips, creators and products sell."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        merchant_ids = request_merchant_ids(request)
        currencies = report_currencies(merchant_ids=merchant_ids) or ["EUR"]
        query = {
            "model": report_default_model(merchant_ids),
            "by": "video",
            "currency": currencies[0],
            **request.GET.dict(),
        }
        form = ReportForm(query, currencies=currencies)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Sales report",
            "opts": self.opts,
            "form": form,
            "columns": [label for _, label in CSV_COLUMNS],
        }
        if form.is_valid():
            options = {
                "merchant_ids": merchant_ids,
                "days": form.cleaned_data["days"],
                "model": form.cleaned_data["model"],
                "currency": form.cleaned_data["currency"],
            }
            report = merchant_report(**options, by=form.cleaned_data["by"])
            if request.GET.get("format") == "csv":
                return report_csv(report)
            context["report"] = report
            context["rows"] = [
                (row, _row_cells(row, report.currency)) for row in [*report.rows, report.total]
            ]
            context["csv_query"] = {**query, "format": "csv"}
            video_id = form.cleaned_data.get("video")
            if video_id:
                context["chart"] = _chart(daily_sales(**options, video_id=video_id), report)
                context["chart_video"] = next(
                    (row.label for row in report.rows if row.key == video_id), str(video_id)
                )
        return TemplateResponse(request, "admin/attribution/sales_report.html", context)


def _chart(days: list[tuple[Any, int]], report: Report) -> dict[str, Any]:
    """Bars for an SVG chart of daily attributed sales (heights in percent of the best day)."""
    best = max((amount for _, amount in days), default=0)
    width = 100 / max(len(days), 1)
    return {
        "bars": [
            {
                "x": f"{index * width:.3f}",
                "width": f"{width * 0.8:.3f}",
                "y": f"{100 - height:.3f}",
                "height": f"{height:.3f}",
                "label": f"{day}: {Money(amount, report.currency).format()}",
            }
            for index, (day, amount) in enumerate(days)
            for height in [amount / best * 100 if best else 0]
        ],
        "best": Money(best, report.currency).format(),
        "total": Money(sum(amount for _, amount in days), report.currency).format(),
    }


CREDIT_FIELDS: list[Any] = [
    "model",
    "position",
    "video_id",
    "creator_id",
    "touch_type",
    "touched_at",
    "amount",
    "commission_rate_bps",
    "commission_amount",
    "is_self_purchase",
    "refund_id",
    "occurred_at",
]


class CreditInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Credit
    fields = CREDIT_FIELDS
    readonly_fields = CREDIT_FIELDS
    extra = 0
    ordering = ["model", "position", "occurred_at"]


@admin.register(SaleLine)
class SaleLineAdmin(ReadOnlyAdminMixin, MerchantScopedAdminMixin, admin.ModelAdmin):
    """Paid lines as checkout reported them, with every credit and reversal: the audit
    trail behind the report."""

    list_display = [
        "line_id",
        "order_id",
        "product",
        "quantity",
        "amount_shown",
        "touch_count",
        "paid_at",
    ]
    list_filter = ["touch_count", ("credits__is_self_purchase", admin.BooleanFieldListFilter)]
    search_fields = ["=order_id", "=line_id", "=product_id"]
    date_hierarchy = "paid_at"
    inlines = [CreditInline]

    def scope_queryset(self, queryset: Any, merchant_ids: list[uuid.UUID]) -> Any:
        return queryset.filter(merchant_id__in=merchant_ids)

    @admin.display(description="Product")
    def product(self, line: SaleLine) -> str:
        card = ProductCard.objects.filter(product_id=line.product_id).only("title").first()
        return card.title if card else str(line.product_id)

    @admin.display(description="Amount", ordering="amount")
    def amount_shown(self, line: SaleLine) -> str:
        return Money(line.amount, line.currency).format()


class _MerchantChoiceMixin(MerchantScopedAdminMixin):
    """Merchant staff pick only among their own merchants (or their products)."""

    def scope_queryset(self, queryset: Any, merchant_ids: list[uuid.UUID]) -> Any:
        return queryset.filter(merchant_id__in=merchant_ids)


class AttributionSettingsForm(forms.ModelForm):
    class Meta:
        model = MerchantAttributionSettings
        fields = [
            "merchant_id",
            "click_window",
            "view_window",
            "default_model",
            "creator_code_rule",
        ]
        help_texts = {
            "click_window": "How long a tag tap, product view or add to cart counts "
            "(e.g. 7 00:00:00 for 7 days).",
            "view_window": "How long a view (3 s or more) counts when there was no click.",
        }


@admin.register(MerchantAttributionSettings)
class MerchantAttributionSettingsAdmin(_MerchantChoiceMixin, admin.ModelAdmin):
    form = AttributionSettingsForm
    list_display = [
        "__str__",
        "click_window",
        "view_window",
        "default_model",
        "creator_code_rule",
        "updated_at",
    ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is not None:
            names = dict(
                ProductCard.objects.filter(merchant_id__in=merchant_ids)
                .values_list("merchant_id", "merchant_name")
                .distinct()
            )
            form.base_fields["merchant_id"] = forms.TypedChoiceField(
                label="Merchant",
                coerce=uuid.UUID,
                choices=[(str(m), names.get(m, str(m))) for m in merchant_ids],
            )
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.merchant_name = (
            ProductCard.objects.filter(merchant_id=obj.merchant_id)
            .values_list("merchant_name", flat=True)
            .first()
            or ""
        )
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["merchant_id"] if obj else []


class ProductRateForm(forms.ModelForm):
    product_id = forms.TypedChoiceField(label="Product", coerce=uuid.UUID, choices=[])

    class Meta:
        model = ProductCommissionRate
        fields = ["product_id", "rate_bps"]
        labels = {"rate_bps": "Rate (basis points: 1550 = 15.5 %)"}


@admin.register(ProductCommissionRate)
class ProductCommissionRateAdmin(_MerchantChoiceMixin, admin.ModelAdmin):
    """A merchant's rate for one product, paid instead of each creator's own rate."""

    form = ProductRateForm
    list_display = ["product", "rate_bps", "updated_at"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        cards = ProductCard.objects.order_by("title")
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is not None:
            cards = cards.filter(merchant_id__in=merchant_ids)
        cast(forms.ChoiceField, form.base_fields["product_id"]).choices = [
            (str(card.product_id), f"{card.title} ({card.merchant_name})") for card in cards
        ]
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["product_id"] if obj else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The merchant is the product's, as catalog's card says: never typed in.
        obj.merchant_id = ProductCard.objects.get(product_id=obj.product_id).merchant_id
        super().save_model(request, obj, form, change)

    @admin.display(description="Product")
    def product(self, rate: ProductCommissionRate) -> str:
        card = ProductCard.objects.filter(product_id=rate.product_id).first()
        return card.title if card else str(rate.product_id)
