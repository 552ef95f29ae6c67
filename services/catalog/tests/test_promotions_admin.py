"""Promotions in the admin: scoped to the staff's merchant like products, counters never
written from a form."""

from __future__ import annotations

import pytest
from django.db.models import F

from promotions.models import Promotion
from tests.admin_pages import ADMIN
from tests.factories import PromotionFactory

pytestmark = pytest.mark.django_db

PROMOTIONS = f"{ADMIN}/promotions/promotion"


def _form(merchant, **overrides):
    return {
        "merchant": str(merchant.id),
        "name": "Spring sale",
        "code": "spring-10",
        "kind": "percent",
        "percent_off": "10",
        "amount_off": "",
        "applies_to": "merchant",
        "minimum_spend_amount": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "usage_limit": "10",
        "per_customer_limit": "1",
        **overrides,
    }


def test_merchant_staff_see_only_their_promotions_and_get_404_for_others(
    client, staff_user, merchant_a, merchant_b
):
    mine = PromotionFactory(merchant=merchant_a, name="Mine")
    theirs = PromotionFactory(merchant=merchant_b, name="Theirs")
    client.force_login(staff_user)

    listed = client.get(f"{PROMOTIONS}/").content.decode()

    assert "Mine" in listed and "Theirs" not in listed
    assert client.get(f"{PROMOTIONS}/{mine.id}/change/").status_code == 200
    assert client.get(f"{PROMOTIONS}/{theirs.id}/change/").status_code == 404


def test_staff_add_a_code_upper_cased_for_their_merchant_only(
    client, staff_user, merchant_a, merchant_b, product_b
):
    client.force_login(staff_user)

    refused = client.post(f"{PROMOTIONS}/add/", _form(merchant_b))
    added = client.post(f"{PROMOTIONS}/add/", _form(merchant_a))

    assert refused.status_code == 200  # the form again: not one of their merchants
    assert added.status_code == 302
    promotion = Promotion.objects.get()
    assert (promotion.merchant, promotion.code) == (merchant_a, "SPRING-10")
    assert promotion.usage_limit == 10


def test_a_products_promotion_takes_only_the_merchants_own_products(
    client, staff_user, merchant_a, product_a, product_b
):
    client.force_login(staff_user)

    response = client.post(
        f"{PROMOTIONS}/add/",
        _form(merchant_a, applies_to="products", products=[str(product_b.id)]),
    )

    assert response.status_code == 200
    assert not Promotion.objects.exists()


def test_saving_a_promotion_keeps_the_uses_checkouts_took_meanwhile(client, staff_user, merchant_a):
    promotion = PromotionFactory(merchant=merchant_a, code="KEEP", usage_limit=10)
    client.force_login(staff_user)
    client.get(f"{PROMOTIONS}/{promotion.id}/change/")
    # A checkout holds a use between the page's load and its save.
    Promotion.objects.filter(id=promotion.id).update(uses_reserved=F("uses_reserved") + 3)

    response = client.post(
        f"{PROMOTIONS}/{promotion.id}/change/", _form(merchant_a, code="KEEP", usage_limit="20")
    )

    assert response.status_code == 302
    promotion.refresh_from_db()
    assert (promotion.uses_reserved, promotion.usage_limit) == (3, 20)


def test_nobody_deletes_a_promotion(client, staff_user, merchant_a):
    promotion = PromotionFactory(merchant=merchant_a)
    client.force_login(staff_user)

    assert client.get(f"{PROMOTIONS}/{promotion.id}/delete/").status_code == 403


def test_a_usage_limit_below_the_uses_taken_is_refused_on_the_form_not_a_500(
    client, staff_user, merchant_a
):
    promotion = PromotionFactory(merchant=merchant_a, code="LOWER", usage_limit=10)
    Promotion.objects.filter(id=promotion.id).update(uses_reserved=2, uses_consumed=3)
    client.force_login(staff_user)

    response = client.post(
        f"{PROMOTIONS}/{promotion.id}/change/", _form(merchant_a, code="LOWER", usage_limit="4")
    )

    assert response.status_code == 200
    assert "usage_limit" in response.context["adminform"].form.errors
    promotion.refresh_from_db()
    assert promotion.usage_limit == 10
