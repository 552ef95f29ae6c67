"""The one merchant-scoping admin mixin: each service's hook says who acts for which
merchants, asked once per request; rows are kept by `merchant_field`; a scoped user gets
404, not a redirect, for a row outside their merchants."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import Http404
from django.test import RequestFactory, override_settings

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from clipcart_shared.merchant_access.models import MerchantMembership

MERCHANT_A = uuid.UUID(int=1)
MERCHANT_B = uuid.UUID(int=2)
asked: list[Any] = []


def merchant_a_only(user: Any) -> list[uuid.UUID] | None:
    """A service's `MERCHANT_IDS_FOR_USER`, counting how often it is asked."""
    asked.append(user)
    return None if user.is_superuser else [MERCHANT_A]


HOOK = f"{__name__}.merchant_a_only"


@pytest.fixture(autouse=True)
def _asked_cleared() -> None:
    asked.clear()


def _request(*, is_superuser: bool = False) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = SimpleNamespace(is_superuser=is_superuser, is_authenticated=True)
    return request


@override_settings(MERCHANT_IDS_FOR_USER=HOOK)
def test_the_services_hook_is_asked_once_per_request():
    request = _request()

    assert request_merchant_ids(request) == [MERCHANT_A]
    assert request_merchant_ids(request) == [MERCHANT_A]
    assert len(asked) == 1
    assert request_merchant_ids(_request(is_superuser=True)) is None
    assert len(asked) == 2


@pytest.mark.django_db
@override_settings(MERCHANT_IDS_FOR_USER=HOOK)
def test_rows_are_kept_by_merchant_field_and_others_answer_404():
    user = get_user_model().objects.create_user(username="staff-of-a")
    mine = MerchantMembership.objects.create(user=user, merchant_id=MERCHANT_A, merchant_name="A")
    theirs = MerchantMembership.objects.create(user=user, merchant_id=MERCHANT_B, merchant_name="B")

    class MembershipAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
        pass  # the default `merchant_field`, "merchant_id"

    model_admin = MembershipAdmin(MerchantMembership, admin.AdminSite())
    scoped, unscoped = _request(), _request(is_superuser=True)

    assert list(model_admin.get_queryset(scoped)) == [mine]
    assert set(model_admin.get_queryset(unscoped)) == {mine, theirs}
    assert model_admin.get_object(scoped, str(mine.pk)) == mine
    with pytest.raises(Http404):
        model_admin.get_object(scoped, str(theirs.pk))
    assert model_admin.get_object(unscoped, str(uuid.uuid4().int % 10**6)) is None
