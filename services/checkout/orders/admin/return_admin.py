"""Returns in the admin: each merchant's staff see and decide their own shop's returns
(approve; reject with a reason; mark received, ticking "restock" and "refund shipping"),
platform staff every return; through `orders.services`' return steps, which check the
state under the order's lock. Merchant policies (return window, instructions) too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from clipcart_shared.errors import ApplicationError
from orders.admin.display import short_id
from orders.models import OrderReturn
from orders.services import (
    order_return_approve,
    order_return_receive,
    order_return_reject,
)
from payments import stripe_api

DECIDE_PERMISSION = "orders.change_orderreturn"


class ReturnDecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject"), ("receive", "Mark received")]
    )
    rejection_reason = forms.CharField(
        max_length=500, required=False, label="Why it is rejected (sent to the buyer)"
    )
    restock = forms.BooleanField(
        required=False, initial=True, label="Restock: put the units back on the shelf"
    )
    refund_shipping = forms.BooleanField(
        required=False,
        label="Refund shipping too (only when every unit of your lines has come back)",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "reject" and not cleaned.get("rejection_reason", "").strip():
            self.add_error("rejection_reason", "Say why the return is rejected.")
        return cleaned


@admin.register(OrderReturn)
class OrderReturnAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    """Returns, read-only here; decided on the return's page."""

    change_form_template = "orders/admin/return_change_form.html"
    list_display = ["reference", "order_reference", "status", "reason", "requested_at"]
    list_filter = ["status", "reason", "requested_at"]
    ordering = ["-requested_at", "-id"]
    list_per_page = 50
    fields = RETURN_FIELDS = (
        "order",
        "merchant_id",
        "status",
        "reason",
        "note",
        "units",
        "instructions",
        "rejection_reason",
        "restock",
        "refund_shipping",
        "refund",
        "requested_at",
        "decided_at",
        "decided_by",
        "received_at",
        "closed_at",
    )
    readonly_fields = RETURN_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderReturn]:
        return super().get_queryset(request).select_related("order").prefetch_related("lines__line")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # buyers ask for returns

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided on its page, through the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(DECIDE_PERMISSION))

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_decide",
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        if self.has_decide_permission(request):
            extra_context["decision_form"] = ReturnDecisionForm()
            extra_context["decide_url"] = self._url("decide", object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Approve, reject or receive (POST); a refusal (another state, Stripe) is a
        message and nothing is written."""
        order_return = self.get_object(request, unquote(object_id))  # 404 outside the scope
        if order_return is None:
            raise Http404("No return matches the given id.")
        if not self.has_view_permission(request, order_return):
            raise PermissionDenied
        if not self.has_decide_permission(request):
            raise PermissionDenied
        assert isinstance(order_return, OrderReturn)
        page = self._url("change", order_return.pk)
        if request.method != "POST":
            return HttpResponseRedirect(page)
        form = ReturnDecisionForm(request.POST)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "orders/admin/return_decide.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Return {short_id(order_return.id)}",
                    "opts": self.opts,
                    "order_return": order_return,
                    "decision_form": form,
                    "decide_url": request.path,
                },
            )
        # The return is in the user's scope: act as its merchant (None: platform staff).
        merchant_id = None if request_merchant_ids(request) is None else order_return.merchant_id
        by = f"admin:{request.user.get_username()}"
        data = form.cleaned_data
        try:
            if data["action"] == "approve":
                order_return_approve(return_id=order_return.id, merchant_id=merchant_id, by=by)
            elif data["action"] == "reject":
                order_return_reject(
                    return_id=order_return.id,
                    merchant_id=merchant_id,
                    by=by,
                    reason=data["rejection_reason"],
                )
            else:
                order_return_receive(
                    return_id=order_return.id,
                    merchant_id=merchant_id,
                    by=by,
                    restock=data["restock"],
                    refund_shipping=data["refund_shipping"],
                )
        except stripe_api.PaymentProviderRejected as error:
            messages.error(
                request, f"Stripe refused the refund ({error}). Mark it received again to retry."
            )
        except ApplicationError as error:
            messages.error(request, f"Nothing was changed: {error.detail}")
        else:
            order_return.refresh_from_db()
            messages.success(
                request, f"Return {short_id(order_return.id)} is now {order_return.status}."
            )
        return HttpResponseRedirect(page)

    def _url(self, view: str, object_id: Any) -> str:
        return reverse(
            f"admin:orders_orderreturn_{view}", args=[object_id], current_app=self.admin_site.name
        )

    @admin.display(description="Return")
    def reference(self, order_return: OrderReturn) -> str:
        return short_id(order_return.id)

    @admin.display(description="Order")
    def order_reference(self, order_return: OrderReturn) -> str:
        return short_id(order_return.order_id)

    @admin.display(description="Units")
    def units(self, order_return: OrderReturn) -> str:
        return ", ".join(
            f"{line.quantity} x {line.line.title} ({line.line.sku})"
            for line in order_return.lines.all()
        )
