"""Single-use codes generated in bulk: generated and exported in the admin (scoped to the
staff's merchant, bounded), each usable once under 20 concurrent checkouts (the CHECK),
priced with their promotion's terms and scope, and never applying by themselves."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from promotions import batches
from promotions.batches import single_use_codes_generate
from promotions.models import Promotion
from tests.admin_pages import ADMIN
from tests.factories import ProductFactory, PromotionFactory, VariantFactory
from tests.test_reservation_concurrency import run_concurrently

PROMOTIONS = f"{ADMIN}/promotions/promotion"


def _client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def _source(merchant, **fields):
    return PromotionFactory(merchant=merchant, code=None, single_use_codes=True, **fields)


def _quote(variant, codes):
    response = _client().post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(variant.id), "quantity": 1}], "codes": codes},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.django_db
def test_staff_generate_codes_and_export_them_as_csv(client, staff_user, merchant_a):
    source = _source(merchant_a)
    client.force_login(staff_user)

    page = client.get(f"{PROMOTIONS}/{source.id}/codes/")
    generated = client.post(
        f"{PROMOTIONS}/{source.id}/codes/", {"count": "25", "code_prefix": "vip"}
    )
    exported = client.get(f"{PROMOTIONS}/{source.id}/codes.csv")

    assert page.status_code == 200
    assert generated.status_code == 302
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    rows = _csv(exported)
    assert len(rows) == 25 == len({row["code"] for row in rows})
    assert all(row["code"].startswith("VIP-") and row["status"] == "unused" for row in rows)
    codes = Promotion.objects.filter(batch_source=source)
    assert {(c.usage_limit, c.merchant_id, c.percent_off) for c in codes} == {
        (1, merchant_a.id, source.percent_off)
    }
    # The codes are listed on their promotion's page, not one by one.
    listed = client.get(f"{PROMOTIONS}/").content.decode()
    assert rows[0]["code"] not in listed


@pytest.mark.django_db
def test_another_merchants_staff_get_404_and_nothing_is_generated(client, staff_user, merchant_b):
    theirs = _source(merchant_b)
    single_use_codes_generate(promotion=theirs, count=3)
    client.force_login(staff_user)

    assert client.get(f"{PROMOTIONS}/{theirs.id}/codes/").status_code == 404
    assert client.post(f"{PROMOTIONS}/{theirs.id}/codes/", {"count": "5"}).status_code == 404
    assert client.get(f"{PROMOTIONS}/{theirs.id}/codes.csv").status_code == 404
    assert Promotion.objects.filter(batch_source=theirs).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("count", ["0", "1001", "-3", "many"])
def test_the_count_is_bounded_and_nothing_is_generated_past_it(
    client, staff_user, merchant_a, count
):
    source = _source(merchant_a)
    client.force_login(staff_user)

    response = client.post(f"{PROMOTIONS}/{source.id}/codes/", {"count": count})

    assert response.status_code == 200  # the form again, with its error
    assert "errornote" in response.content.decode()
    assert not Promotion.objects.filter(batch_source=source).exists()


@pytest.mark.django_db
def test_codes_are_refused_for_a_promotion_not_marked_and_past_the_total_bound(monkeypatch):
    merchant = VariantFactory().merchant
    plain = PromotionFactory(merchant=merchant)
    source = _source(merchant)
    single_use_codes_generate(promotion=source, count=1000)

    with pytest.raises(ValueError, match="marked for single-use codes"):
        single_use_codes_generate(promotion=plain, count=1)
    with pytest.raises(ValueError, match="letters and digits"):
        single_use_codes_generate(promotion=source, count=1, prefix="no spaces")
    monkeypatch.setattr(batches, "MAX_CODES_PER_PROMOTION", 1000)
    with pytest.raises(ValueError, match="At most 1000 codes per promotion"):
        single_use_codes_generate(promotion=source, count=1)
    assert Promotion.objects.filter(batch_source=source).count() == 1000


@pytest.mark.django_db
def test_a_code_is_priced_with_its_promotions_terms_and_scope_and_the_source_never_applies():
    variant = VariantFactory(price_amount=1000)
    elsewhere = VariantFactory(product=ProductFactory(merchant=variant.merchant), price_amount=1000)
    source = _source(variant.merchant, percent_off=30, applies_to="products")
    source.products.set([variant.product])
    single_use_codes_generate(promotion=source, count=1)
    code = Promotion.objects.get(batch_source=source).code

    assert _quote(variant, [])["discounts"] == []  # no code: nothing applies by itself
    applied = _quote(variant, [code.lower()])
    assert applied["lines"][0]["discount"]["amount"] == 300
    assert _quote(elsewhere, [code])["codes_refused"] == [
        {"code": code, "reason": "promotion_not_applicable"}
    ]


@pytest.mark.django_db
def test_an_edit_of_the_promotion_reaches_its_codes(client, staff_user, merchant_a):
    source = _source(merchant_a, percent_off=10, usage_limit=None)
    single_use_codes_generate(promotion=source, count=2)
    client.force_login(staff_user)
    form = {
        "merchant": str(merchant_a.id),
        "name": "Thank-you codes",
        "code": "",
        "single_use_codes": "on",
        "kind": "percent",
        "percent_off": "15",
        "amount_off": "",
        "applies_to": "merchant",
        "minimum_spend_amount": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "usage_limit": "",
        "per_customer_limit": "",
    }

    saved = client.post(f"{PROMOTIONS}/{source.id}/change/", form)
    unmarked = client.post(f"{PROMOTIONS}/{source.id}/change/", {**form, "single_use_codes": ""})

    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert unmarked.status_code == 200  # it has codes: it keeps the mark
    codes = Promotion.objects.filter(batch_source=source)
    assert {(c.name, c.percent_off, c.usage_limit) for c in codes} == {("Thank-you codes", 15, 1)}


@pytest.mark.django_db
def test_the_database_refuses_a_generated_code_with_more_than_one_use():
    source = _source(VariantFactory().merchant)
    single_use_codes_generate(promotion=source, count=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.filter(batch_source=source).update(usage_limit=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.filter(id=source.id).update(code="SHARED")


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_twenty_concurrent_checkouts_of_one_single_use_code_get_exactly_one():
    variant = VariantFactory(quantity_on_hand=100)
    source = _source(variant.merchant)
    single_use_codes_generate(promotion=source, count=2)
    code, untouched = Promotion.objects.filter(batch_source=source).order_by("code")

    def reserve(index: int) -> tuple[int, str | None]:
        response = _client().post(
            "/internal/v1/reservations/",
            {
                "key": f"buyer-{index}",
                "lines": [{"variant_id": str(variant.id), "quantity": 1}],
                "promotions": [str(code.id)],
                "customer_id": f"u{index}",
            },
            format="json",
        )
        return response.status_code, response.json().get("code")

    results = run_concurrently(20, reserve)

    assert Counter(results) == {(201, None): 1, (409, "promotion_exhausted"): 19}
    code.refresh_from_db()
    untouched.refresh_from_db()
    assert (code.uses_reserved, code.uses_consumed) == (1, 0)
    assert (untouched.uses_reserved, untouched.uses_consumed) == (0, 0)
