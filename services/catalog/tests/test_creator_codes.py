"""Creator codes in catalog: a creator's request arrives from video (a service call), the
merchant's staff grant it by choosing that creator on a promotion by code (scoped to
their merchant), and quotes name the code's creator."""

from __future__ import annotations

import uuid

import pytest

from promotions.models import CreatorCodeRequest, Promotion
from tests.admin_pages import ADMIN
from tests.factories import PromotionFactory, VariantFactory

pytestmark = pytest.mark.django_db
REQUESTS = "/internal/v1/creator-code-requests/"


def _ask(client, merchant_id, creator, **extra):
    body = {
        "merchant_id": str(merchant_id),
        "creator_id": str(creator),
        "creator_handle": "trailqueen",
    }
    return client.post(REQUESTS, {**body, **extra}, format="json")


def test_a_creators_request_is_kept_once_per_merchant_and_updated_when_asked_again(
    service_client, merchant_a
):
    creator_id = uuid.uuid4()

    first = _ask(service_client, merchant_a.id, creator_id, code="trailqueen10", message="Hi!")
    again = _ask(service_client, merchant_a.id, creator_id, code="TRAIL15")

    assert first.status_code == 201, first.content
    assert first.json()["code"] == "TRAILQUEEN10"
    assert first.json()["status"] == "open"
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    stored = CreatorCodeRequest.objects.get()
    assert (stored.code, stored.message, stored.creator_id) == ("TRAIL15", "", creator_id)


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"creator_handle": "Not A Handle"}, "creator_handle"),
        ({"code": "no spaces allowed"}, "code"),
        ({"code": "AB"}, "code"),
        ({"message": "x" * 501}, "message"),
        ({"creator_id": "nope"}, "creator_id"),
    ],
)
def test_a_bad_request_is_400_naming_the_field_and_writes_nothing(
    service_client, merchant_a, extra, field
):
    response = _ask(service_client, merchant_a.id, uuid.uuid4(), **extra)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not CreatorCodeRequest.objects.exists()


def test_an_unknown_merchant_is_404_and_only_services_may_ask(
    service_client, user_client, api_client, merchant_a
):
    unknown = _ask(service_client, uuid.uuid4(), uuid.uuid4(), code="", message="")

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "merchant_not_found"
    assert _ask(user_client, merchant_a.id, uuid.uuid4()).status_code == 403
    assert _ask(api_client, merchant_a.id, uuid.uuid4()).status_code == 401
    assert not CreatorCodeRequest.objects.exists()


def _form(merchant, creator_request=None, **overrides):
    return {
        "merchant": str(merchant.id),
        "name": "10 % off with Trail Queen",
        "code": "TRAILQUEEN10",
        "creator_request": str(creator_request.id) if creator_request else "",
        "kind": "percent",
        "percent_off": "10",
        "amount_off": "",
        "applies_to": "merchant",
        "minimum_spend_amount": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "usage_limit": "",
        "per_customer_limit": "",
        **overrides,
    }


def test_staff_grant_a_request_by_choosing_its_creator_on_a_code(
    service_client, client, staff_user, merchant_a
):
    creator_id = uuid.uuid4()
    _ask(service_client, merchant_a.id, creator_id)
    asked = CreatorCodeRequest.objects.get()
    client.force_login(staff_user)

    without_code = client.post(
        f"{ADMIN}/promotions/promotion/add/", _form(merchant_a, asked, code="")
    )
    added = client.post(f"{ADMIN}/promotions/promotion/add/", _form(merchant_a, asked))

    assert without_code.status_code == 200
    assert "A creator code needs its code." in without_code.content.decode()
    assert added.status_code == 302, added.content.decode()[:2000]
    promotion = Promotion.objects.get(code="TRAILQUEEN10")
    assert (promotion.creator_id, promotion.creator_handle) == (creator_id, "trailqueen")
    asked.refresh_from_db()
    assert (asked.status, asked.promotion_id) == ("granted", promotion.id)
    assert "@trailqueen" in client.get(f"{ADMIN}/promotions/promotion/").content.decode()
    assert client.get(f"{ADMIN}/promotions/creatorcoderequest/").status_code == 200


def test_a_second_code_for_the_same_creator_keeps_its_creator_when_edited(
    service_client, client, staff_user, merchant_a
):
    creator_id = uuid.uuid4()
    _ask(service_client, merchant_a.id, creator_id)
    asked = CreatorCodeRequest.objects.get()
    client.force_login(staff_user)
    client.post(f"{ADMIN}/promotions/promotion/add/", _form(merchant_a, asked))
    client.post(f"{ADMIN}/promotions/promotion/add/", _form(merchant_a, asked, code="TRAILQUEEN20"))
    second = Promotion.objects.get(code="TRAILQUEEN20")

    page = client.get(f"{ADMIN}/promotions/promotion/{second.id}/change/")
    initial = page.context["adminform"].form.initial["creator_request"]
    edited = client.post(
        f"{ADMIN}/promotions/promotion/{second.id}/change/",
        _form(merchant_a, asked, code="TRAILQUEEN20", name="20 % off"),
    )

    assert initial == asked.id
    assert edited.status_code == 302, edited.content.decode()[:2000]
    second.refresh_from_db()
    assert (second.name, second.creator_id) == ("20 % off", creator_id)
    assert Promotion.objects.filter(creator_id=creator_id).count() == 2


def test_staff_cannot_choose_a_creator_who_asked_another_merchant(
    service_client, client, staff_user, merchant_a, merchant_b
):
    _ask(service_client, merchant_b.id, uuid.uuid4())
    theirs = CreatorCodeRequest.objects.get()
    client.force_login(staff_user)

    refused = client.post(f"{ADMIN}/promotions/promotion/add/", _form(merchant_a, theirs))

    assert refused.status_code == 200  # not among the choices
    assert not Promotion.objects.filter(code="TRAILQUEEN10").exists()
    assert (
        client.get(f"{ADMIN}/promotions/creatorcoderequest/{theirs.id}/change/").status_code == 404
    )


def test_a_quote_names_the_codes_creator(service_client):
    variant = VariantFactory(price_amount=1000)
    creator_id = uuid.uuid4()
    PromotionFactory(merchant=variant.merchant, code="TRAILQUEEN10", creator_id=creator_id)
    PromotionFactory(merchant=variant.merchant, code=None, is_stackable=True, percent_off=5)

    quote = service_client.post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(variant.id), "quantity": 1}], "codes": ["trailqueen10"]},
        format="json",
    ).json()

    assert [(d["code"], d["creator_id"]) for d in quote["discounts"]] == [
        ("TRAILQUEEN10", str(creator_id)),
        (None, None),
    ]
