"""Flash deals in the admin: scoped to the staff's merchant like products, the card
published on save, units never written from a form."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from products.models import Product
from promotions.flash_models import FlashDeal
from tests.admin_pages import ADMIN
from tests.factories import FlashDealFactory, VariantFactory

pytestmark = pytest.mark.django_db

DEALS = f"{ADMIN}/promotions/flashdeal"
SOON = timezone.localtime() + timedelta(hours=1)


def _form(merchant, product, **overrides):
    return {
        "merchant": str(merchant.id),
        "product": str(product.id),
        "variant": "",
        "video_id": str(uuid.uuid4()),
        "price_amount": "999",
        # In an hour: the card carries a deal not ended yet.
        "starts_at_0": SOON.strftime("%Y-%m-%d"),
        "starts_at_1": SOON.strftime("%H:%M:%S"),
        "duration_minutes": "30",
        "per_buyer_limit": "2",
        "total_quantity": "10",
        **overrides,
    }


def test_merchant_staff_see_only_their_deals_and_get_404_for_others(
    client, staff_user, merchant_a, merchant_b
):
    mine = FlashDealFactory(variant=VariantFactory(product__merchant=merchant_a))
    theirs = FlashDealFactory(variant=VariantFactory(product__merchant=merchant_b))
    client.force_login(staff_user)

    assert client.get(f"{DEALS}/").status_code == 200
    assert client.get(f"{DEALS}/{mine.id}/change/").status_code == 200
    assert client.get(f"{DEALS}/{theirs.id}/change/").status_code == 404
    assert client.get(f"{DEALS}/{mine.id}/delete/").status_code == 403


def test_staff_add_a_deal_on_their_product_only_and_its_card_carries_it(
    client, staff_user, merchant_a, merchant_b, product_a, product_b
):
    client.force_login(staff_user)

    refused = client.post(f"{DEALS}/add/", _form(merchant_a, product_b))
    too_dear = client.post(f"{DEALS}/add/", _form(merchant_a, product_a, price_amount="1999"))
    added = client.post(f"{DEALS}/add/", _form(merchant_a, product_a))

    assert (refused.status_code, too_dear.status_code) == (200, 200)
    assert added.status_code == 302, added.content.decode()[:2000]
    deal = FlashDeal.objects.get()
    assert (deal.product, deal.duration_minutes) == (product_a, 30)
    assert (deal.ends_at - deal.starts_at).total_seconds() == 30 * 60
    card = Product.objects.get(id=product_a.id).card
    assert card["flash_deal"]["id"] == str(deal.id)


def test_saving_a_deal_keeps_the_units_checkouts_took_meanwhile(
    client, staff_user, merchant_a, product_a
):
    deal = FlashDealFactory(variant=product_a.variants.first(), price_amount=999)
    client.force_login(staff_user)
    FlashDeal.objects.filter(id=deal.id).update(units_reserved=F("units_reserved") + 3)

    response = client.post(
        f"{DEALS}/{deal.id}/change/",
        _form(
            merchant_a,
            product_a,
            video_id=str(deal.video_id),
            duration_minutes="45",
            total_quantity="20",
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert (deal.units_reserved, deal.total_quantity, deal.duration_minutes) == (3, 20, 45)
    assert (deal.ends_at - deal.starts_at).total_seconds() == 45 * 60


def test_a_total_below_the_units_checkouts_hold_is_refused_on_the_form_not_a_500(
    client, staff_user, merchant_a, product_a
):
    deal = FlashDealFactory(variant=product_a.variants.first(), price_amount=999)
    client.force_login(staff_user)
    FlashDeal.objects.filter(id=deal.id).update(units_reserved=3, units_consumed=2)

    response = client.post(
        f"{DEALS}/{deal.id}/change/",
        _form(merchant_a, product_a, video_id=str(deal.video_id), total_quantity="4"),
    )

    assert response.status_code == 200
    assert "total_quantity" in response.context["adminform"].form.errors
    deal.refresh_from_db()
    assert deal.total_quantity == 10


def test_a_start_past_the_calendars_end_is_refused_on_the_form_not_a_500(
    client, staff_user, merchant_a, product_a
):
    client.force_login(staff_user)

    response = client.post(
        f"{DEALS}/add/",
        _form(
            merchant_a,
            product_a,
            starts_at_0="9999-12-31",
            starts_at_1="23:30:00",
            duration_minutes="120",
        ),
    )

    assert response.status_code == 200
    assert "starts_at" in response.context["adminform"].form.errors
    assert not FlashDeal.objects.exists()
