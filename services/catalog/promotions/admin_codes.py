"""The single-use codes page of a promotion in the admin: generate N codes, export them
as CSV. Scoped like the promotion itself (another merchant's promotion is a 404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from promotions.batches import MAX_CODES_PER_BATCH, single_use_codes_csv, single_use_codes_generate
from promotions.models import Promotion


class GenerateCodesForm(forms.Form):
    count = forms.IntegerField(
        min_value=1, max_value=MAX_CODES_PER_BATCH, help_text=f"1 to {MAX_CODES_PER_BATCH}."
    )
    code_prefix = forms.CharField(
        max_length=20,
        required=False,
        help_text="Optional, up to 20 letters and digits: PREFIX-XXXXXXXXXX.",
    )


class SingleUseCodesAdminMixin:
    """For PromotionAdmin: the codes page and the CSV export, under the promotion's URL."""

    codes_template = "promotions/admin/generate_codes.html"

    def codes_urls(self) -> list[URLPattern]:
        site: Any = self.admin_site  # type: ignore[attr-defined]
        info = f"{Promotion._meta.app_label}_{Promotion._meta.model_name}"
        return [
            path(
                "<path:object_id>/codes/",
                site.admin_view(self.codes_view),
                name=f"{info}_codes",
            ),
            path(
                "<path:object_id>/codes.csv",
                site.admin_view(self.codes_csv_view),
                name=f"{info}_codes_csv",
            ),
        ]

    def _source(self, request: HttpRequest, object_id: str, *, change: bool) -> Promotion:
        promotion = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if promotion is None or not promotion.single_use_codes:
            raise Http404("No promotion with single-use codes matches the given id.")
        allowed = (
            self.has_change_permission(request, promotion)  # type: ignore[attr-defined]
            if change
            else self.has_view_permission(request, promotion)  # type: ignore[attr-defined]
        )
        if not allowed:
            raise PermissionDenied
        assert isinstance(promotion, Promotion)
        return promotion

    def codes_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        promotion = self._source(request, object_id, change=request.method == "POST")
        form = GenerateCodesForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                made = single_use_codes_generate(
                    promotion=promotion,
                    count=form.cleaned_data["count"],
                    prefix=form.cleaned_data["code_prefix"],
                )
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Generated {made} single-use codes.")
                return HttpResponseRedirect(request.path)
        counts = Promotion.objects.filter(batch_source=promotion).aggregate(
            total=Count("id"),
            used=Count("id", filter=Q(uses_consumed__gt=0)),
            held=Count("id", filter=Q(uses_reserved__gt=0)),
        )
        site: Any = self.admin_site  # type: ignore[attr-defined]
        context = {
            **site.each_context(request),
            "title": f"Single-use codes of {promotion.name}",
            "subtitle": None,
            "opts": Promotion._meta,
            "promotion": promotion,
            "form": form,
            "csv_url": reverse(
                "admin:promotions_promotion_codes_csv", args=[promotion.pk], current_app=site.name
            ),
            **counts,
        }
        return TemplateResponse(request, self.codes_template, context)

    def codes_csv_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        promotion = self._source(request, object_id, change=False)
        response = StreamingHttpResponse(
            single_use_codes_csv(promotion=promotion), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="codes-{promotion.pk}.csv"'
        return response
