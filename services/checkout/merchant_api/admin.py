"""Merchant API keys in the checkout admin: a merchant's staff make keys for their own
merchant (the key shown once, on the page after saving) and revoke them; they never see
another merchant's keys (404). Nothing else about a key is edited: a key is replaced,
not changed."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from merchant_api.models import MerchantApiKey
from merchant_api.services import merchant_api_key_create, merchant_api_keys_revoke


class MerchantApiKeyForm(forms.ModelForm):
    class Meta:
        model = MerchantApiKey
        fields = ["merchant_id", "name"]


@admin.register(MerchantApiKey)
class MerchantApiKeyAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    form = MerchantApiKeyForm
    list_display = ["name", "prefix", "merchant_id", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["merchant_id", "name"]
        return [
            "name",
            "prefix",
            "merchant_id",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, and kept on record

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        merchant_ids = request_merchant_ids(request)
        if obj is None and merchant_ids is not None:
            form.base_fields["merchant_id"] = forms.TypedChoiceField(
                choices=[(str(merchant_id), str(merchant_id)) for merchant_id in merchant_ids],
                coerce=uuid.UUID,
                label="Merchant",
            )
        return form

    def save_model(
        self, request: HttpRequest, obj: MerchantApiKey, form: Any, change: bool
    ) -> None:
        if change:
            return  # nothing of a key is changed here
        row, key = merchant_api_key_create(
            merchant_id=form.cleaned_data["merchant_id"],
            name=form.cleaned_data["name"],
            created_by=f"admin:{request.user.get_username()}",
        )
        obj.pk = row.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            f"The new key is {key} — copy it now: it is stored hashed and cannot be shown again.",
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[MerchantApiKey]) -> None:
        revoked = merchant_api_keys_revoke(key_ids=list(queryset.values_list("id", flat=True)))
        messages.success(request, f"{revoked} key(s) revoked; calls with them are refused.")
