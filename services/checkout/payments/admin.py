"""Stripe's side of checkout. For platform staff only and read-only: the webhook log (every
event as received, and what the worker made of it) and the buyers' Stripe customers;
neither concerns one merchant, so no group permission opens them to merchant staff.
Merchants' payout accounts are scoped: merchant staff see and set up their own merchant's
("Set up payouts"), platform staff every merchant's; so are merchant transfers (and
their reversals), under each merchant's balance, and their CSV export. The ledger is
platform staff's, read-only.
"""

from __future__ import annotations

import csv
import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from clipcart_shared.admin import (
    MerchantScopedAdminMixin,
    PlatformReadOnlyAdminMixin,
    ReadOnlyAdminMixin,
    request_merchant_ids,
)
from clipcart_shared.errors import ApplicationError
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_shared.money import Money
from payments.models import (
    LedgerEntry,
    LedgerPosting,
    MerchantPayoutAccount,
    MerchantTransfer,
    SettledPartRefund,
    StripeCustomer,
    TransferReversal,
    WebhookEvent,
)
from payments.payouts import merchant_payout_account_onboard
from payments.selectors import merchant_money_out

# Everything shown, all read-only.
WEBHOOK_EVENT_FIELDS: list[Any] = [
    "event_id",
    "type",
    "status",
    "error",
    "received_at",
    "processed_at",
    "body",
]
STRIPE_CUSTOMER_FIELDS: list[Any] = ["user_id", "customer_id", "created_at"]


class PlatformReadOnlyAdmin(PlatformReadOnlyAdminMixin, admin.ModelAdmin):
    """Shown to superusers only and changed by nobody: the services write these rows."""


@admin.register(WebhookEvent)
class WebhookEventAdmin(PlatformReadOnlyAdmin):
    list_display = ["event_id", "type", "status", "received_at", "processed_at"]
    list_filter = ["status", "type"]
    date_hierarchy = "received_at"
    search_fields = ["=event_id", "type"]
    fields = WEBHOOK_EVENT_FIELDS
    readonly_fields = WEBHOOK_EVENT_FIELDS

    @admin.display(description="Payload")
    def body(self, event: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


@admin.register(StripeCustomer)
class StripeCustomerAdmin(PlatformReadOnlyAdmin):
    list_display = ["user_id", "customer_id", "created_at"]
    search_fields = ["=user_id", "=customer_id"]
    fields = STRIPE_CUSTOMER_FIELDS
    readonly_fields = STRIPE_CUSTOMER_FIELDS


PAYOUT_ACCOUNT_FIELDS: list[Any] = [
    "merchant_id",
    "stripe_account_id",
    "status",
    "created_by",
    "created_at",
    "updated_at",
]
SET_UP_PERMISSION = "payments.add_merchantpayoutaccount"


class PayoutSetUpForm(forms.Form):
    """Which merchant to set up payouts for: one of the user's merchants (merchant staff),
    or any merchant id (platform staff)."""

    def __init__(self, *args: Any, merchant_ids: list[uuid.UUID] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if merchant_ids is None:
            self.fields["merchant_id"] = forms.UUIDField(
                label="Merchant id", help_text="The catalog merchant's id."
            )
        else:
            names = dict(
                MerchantMembership.objects.filter(merchant_id__in=merchant_ids).values_list(
                    "merchant_id", "merchant_name"
                )
            )
            self.fields["merchant_id"] = forms.TypedChoiceField(
                label="Merchant",
                choices=[(str(m), names.get(m, str(m))) for m in merchant_ids],
                coerce=uuid.UUID,
            )


@admin.register(MerchantPayoutAccount)
class MerchantPayoutAccountAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    """Payout accounts: looked at here, made by "Set up payouts" (which sends the user to
    Stripe's onboarding), their status written by Stripe's `account.updated` events."""

    change_list_template = "payments/admin/payout_account_change_list.html"
    set_up_template = "payments/admin/payout_set_up.html"
    list_display = ["merchant_id", "stripe_account_id", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=merchant_id", "=stripe_account_id"]
    fields = PAYOUT_ACCOUNT_FIELDS
    readonly_fields = PAYOUT_ACCOUNT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by set_up_view, from Stripe's answer

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_set_up_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.has_perm(SET_UP_PERMISSION))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_set_up": self.has_set_up_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("set-up/", self.admin_site.admin_view(self.set_up_view), name=f"{name}_set_up"),
            path(
                "set-up/<uuid:merchant_id>/",
                self.admin_site.admin_view(self.set_up_again_view),
                name=f"{name}_set_up_again",
            ),
            *super().get_urls(),
        ]

    def _onboarding(self, request: HttpRequest, merchant_id: uuid.UUID) -> HttpResponse:
        """To Stripe's onboarding of the merchant's account (made first if needed); back
        to the list with the reason when Stripe cannot or will not."""
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        try:
            url = merchant_payout_account_onboard(
                merchant_id=merchant_id,
                created_by=f"admin:{request.user.get_username()}",
                refresh_url=request.build_absolute_uri(
                    reverse(f"{name}_set_up_again", args=[merchant_id])
                ),
                return_url=request.build_absolute_uri(reverse(f"{name}_changelist")),
            )
        except ApplicationError as error:
            messages.error(request, f"Stripe could not set up payouts now: {error.detail}")
            return HttpResponseRedirect(reverse(f"{name}_changelist"))
        return HttpResponseRedirect(url)

    def _check_scope(self, request: HttpRequest, merchant_id: uuid.UUID) -> None:
        if not self.has_set_up_permission(request):
            raise PermissionDenied
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is not None and merchant_id not in merchant_ids:
            # Another merchant's, or no merchant: the same 404 as every scoped page.
            raise Http404("No merchant of yours matches the given id.")

    def set_up_view(self, request: HttpRequest) -> HttpResponse:
        """ "Set up payouts": pick the merchant (merchant staff have theirs only), then off
        to Stripe's onboarding. Another merchant's id is 404, and nothing is made."""
        if not self.has_set_up_permission(request):
            raise PermissionDenied
        merchant_ids = request_merchant_ids(request)
        form = PayoutSetUpForm(
            request.POST if request.method == "POST" else None, merchant_ids=merchant_ids
        )
        if request.method == "POST":
            raw = request.POST.get("merchant_id", "")
            try:
                wanted = uuid.UUID(raw)
            except ValueError:
                wanted = None
            if wanted is not None:
                self._check_scope(request, wanted)  # 404 before the form says "not a choice"
            if form.is_valid():
                return self._onboarding(request, form.cleaned_data["merchant_id"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Set up payouts",
            "form": form,
            "accounts": self.get_queryset(request),
        }
        return TemplateResponse(request, self.set_up_template, context)

    def set_up_again_view(self, request: HttpRequest, merchant_id: uuid.UUID) -> HttpResponse:
        """Stripe's `refresh_url`: the onboarding link expired or was used, so the user is
        sent to a new one (the account exists already; this makes none)."""
        self._check_scope(request, merchant_id)
        if not self.get_queryset(request).filter(merchant_id=merchant_id).exists():
            raise Http404("This merchant has no payout account yet.")
        return self._onboarding(request, merchant_id)


TRANSFER_FIELDS: list[Any] = [
    "id",
    "order_id",
    "merchant_id",
    "status",
    "currency",
    "gross_amount",
    "fee_rate_bps",
    "fee_amount",
    "commission_amount",
    "amount",
    "reversed_amount",
    "stripe_account_id",
    "batch_transfer",
    "stripe_transfer_id",
    "last_failure",
    "settled_at",
    "sent_at",
]
REVERSAL_FIELDS: list[Any] = [
    "refund_id",
    "amount",
    "status",
    "stripe_reversal_id",
    "last_failure",
    "created_at",
    "sent_at",
]


class TransferReversalInline(admin.TabularInline):
    model = TransferReversal
    fields = REVERSAL_FIELDS
    readonly_fields = REVERSAL_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SettledPartRefundInline(TransferReversalInline):
    """Refunds after settlement: the fee given back and the commission taken back once
    video applied the refund (ADR 38)."""

    model = SettledPartRefund  # type: ignore[assignment]
    fields = readonly_fields = [
        "refund_id",
        "share_amount",
        "fee_amount",
        "commission_amount",
        "clawed_back_at",
    ]


@admin.register(MerchantTransfer)
class MerchantTransferAdmin(MerchantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each settled merchant part of an order and the Stripe transfer that carried it
    (ADR 30; one transfer per merchant batch, ADR 38: search a `tr_…` id for its
    orders): merchant staff see their own merchants', platform staff all. Written by the
    settlement sweep only."""

    list_display = [
        "settled_at",
        "order_id",
        "merchant_id",
        "status",
        "gross_amount",
        "fee_amount",
        "commission_amount",
        "amount",
        "reversed_amount",
        "currency",
        "sent_at",
    ]
    list_filter = ["status", "currency"]
    date_hierarchy = "settled_at"
    search_fields = ["=order_id", "=merchant_id", "=stripe_transfer_id"]
    fields = TRANSFER_FIELDS
    readonly_fields = TRANSFER_FIELDS
    inlines = [TransferReversalInline, SettledPartRefundInline]
    change_list_template = "payments/admin/transfer_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name=f"{name}_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The transfers, under each merchant's balance (pending, payable, the upcoming
        transfer, transferred)."""
        balances = [
            {
                **row,
                **{
                    field: Money(row[field], row["currency"]).format()
                    for field in ("pending", "payable", "upcoming", "transferred")
                },
            }
            for row in merchant_money_out(merchant_ids=request_merchant_ids(request))
        ]
        extra_context = {**(extra_context or {}), "balances": balances}
        return super().changelist_view(request, extra_context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The transfers the list shows (the same filters and scoping), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return transfers_csv(changelist.get_queryset(request))


CSV_FIELDS = [
    "settled_at",
    "order_id",
    "merchant_id",
    "status",
    "currency",
    "gross_amount",
    "fee_rate_bps",
    "fee_amount",
    "commission_amount",
    "amount",
    "reversed_amount",
    "batch_transfer_id",
    "stripe_transfer_id",
    "sent_at",
]


def transfers_csv(transfers: Any) -> HttpResponse:
    """Transfers as CSV, amounts in minor units (for spreadsheets and accounting)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="merchant-transfers.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_FIELDS)
    for row in transfers.order_by("-settled_at", "id").values_list(*CSV_FIELDS).iterator():
        writer.writerow(["" if value is None else value for value in row])
    return response


class LedgerPostingInline(admin.TabularInline):
    model = LedgerPosting
    fields = ["account", "merchant_id", "currency", "amount"]
    readonly_fields = ["account", "merchant_id", "currency", "amount"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(PlatformReadOnlyAdmin):
    """The ledger, append-only (the database refuses changes): each entry with its
    balanced postings (debit > 0, credit < 0)."""

    list_display = ["created_at", "kind", "source_key", "order_id", "memo"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"
    search_fields = ["=source_key", "=order_id"]
    fields = ["kind", "source_key", "order_id", "memo", "created_at"]
    readonly_fields = ["kind", "source_key", "order_id", "memo", "created_at"]
    inlines = [LedgerPostingInline]
