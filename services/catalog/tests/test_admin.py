"""The merchant admin: each merchant's staff see and change only their own catalog
(the product and variant forms are in test_product_forms_admin.py).
"""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.test import override_settings
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.testing.fixtures import admin_lockout_answers
from demo.management.commands.seed_demo import demo_id
from inventory.models import Reservation, ReservationLine
from merchants.models import Merchant
from products.models import Product
from promotions.models import Promotion
from tests.admin_pages import ADMIN, MERCHANTS, PRODUCTS, VARIANTS, _listed
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


# --- scoping of lists and pages -------------------------------------------------------


def test_staff_changelist_shows_only_own_merchants_products(staff_client, product_a, product_b):
    response = staff_client.get(f"{PRODUCTS}/")

    assert _listed(response) == [product_a]
    content = response.content.decode()
    assert "Harbor Lantern" not in content
    assert "Harbor B" not in content


def test_changelist_shows_lowest_price_and_available_stock(staff_client, product_a):
    response = staff_client.get(f"{PRODUCTS}/")

    [row] = _listed(response)
    assert row.lowest_price_amount == 1999
    assert row.available_total == 10
    assert "€19.99" in response.content.decode()


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("change", id="change"),
        pytest.param("delete", id="delete"),
        pytest.param("history", id="history"),
    ],
)
def test_staff_gets_404_for_other_merchants_product_pages(staff_client, product_b, page):
    response = staff_client.get(f"{PRODUCTS}/{product_b.id}/{page}/")

    assert response.status_code == 404


def test_staff_gets_404_for_other_merchants_product_change_page_on_post(staff_client, product_b):
    response = staff_client.post(f"{PRODUCTS}/{product_b.id}/change/", {"title": "Mine now"})

    assert response.status_code == 404
    product_b.refresh_from_db()
    assert product_b.title == "Harbor Lantern"


def test_staff_cannot_delete_other_merchants_product(staff_client, product_b):
    response = staff_client.post(f"{PRODUCTS}/{product_b.id}/delete/", {"post": "yes"})

    assert response.status_code == 404
    assert Product.objects.filter(id=product_b.id).exists()


def test_staff_gets_404_not_a_redirect_for_unknown_product(staff_client):
    response = staff_client.get(f"{PRODUCTS}/{uuid.uuid4()}/change/")

    assert response.status_code == 404


def test_staff_gets_404_for_other_merchants_variant_and_merchant_pages(
    staff_client, product_b, merchant_b
):
    variant_b = product_b.variants.first()

    assert staff_client.get(f"{VARIANTS}/{variant_b.id}/change/").status_code == 404
    assert staff_client.get(f"{MERCHANTS}/{merchant_b.id}/change/").status_code == 404


def test_staff_opens_own_product_change_page(staff_client, product_a):
    response = staff_client.get(f"{PRODUCTS}/{product_a.id}/change/")

    assert response.status_code == 200
    assert response.context["original"] == product_a


def test_superuser_sees_both_merchants_products(superuser_client, product_a, product_b):
    response = superuser_client.get(f"{PRODUCTS}/")

    assert set(_listed(response)) == {product_a, product_b}
    assert superuser_client.get(f"{PRODUCTS}/{product_b.id}/change/").status_code == 200


def test_merchant_list_filter_is_shown_to_superuser(superuser_client, product_a, product_b):
    response = superuser_client.get(f"{PRODUCTS}/")

    assert response.status_code == 200
    filters = [spec.field_path for spec in response.context["cl"].filter_specs]
    assert filters == ["status", "merchant"]
    assert "Harbor B" in response.content.decode()


def test_merchant_list_filter_is_absent_for_staff(staff_client, product_a, product_b):
    response = staff_client.get(f"{PRODUCTS}/")

    assert response.status_code == 200
    filters = [spec.field_path for spec in response.context["cl"].filter_specs]
    assert filters == ["status"]


def test_search_by_sku_finds_own_variant_but_not_other_merchants(
    staff_client, product_a, product_b
):
    assert _listed(staff_client.get(f"{PRODUCTS}/", {"q": "LANTERN-1"})) == [product_a]
    assert _listed(staff_client.get(f"{PRODUCTS}/", {"q": "HARBOR-ONLY"})) == []


def test_variant_changelist_shows_only_own_variants(staff_client, product_a, product_b):
    response = staff_client.get(f"{VARIANTS}/", {"q": "LANTERN"})

    assert {variant.sku for variant in _listed(response)} == {"LANTERN-1", "LANTERN-A2"}
    assert {variant.product_id for variant in _listed(response)} == {product_a.id}


# --- autocomplete and actions ---------------------------------------------------------


def test_variant_product_autocomplete_returns_only_own_products(staff_client, product_a, product_b):
    response = staff_client.get(
        f"{ADMIN}/autocomplete/",
        {
            "app_label": "products",
            "model_name": "variant",
            "field_name": "product",
            "term": "Lantern",
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "results": [{"id": str(product_a.id), "text": "Alpine Lantern"}],
        "pagination": {"more": False},
    }


def test_archive_action_archives_only_own_products(staff_client, product_a, product_b):
    OutboxEvent.objects.all().delete()  # forget the events of creating the fixtures
    response = staff_client.post(
        f"{PRODUCTS}/",
        {"action": "archive", "_selected_action": [str(product_a.id), str(product_b.id)]},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["1 product archived."]
    product_a.refresh_from_db()
    product_b.refresh_from_db()
    assert product_a.status == Product.Status.ARCHIVED
    assert product_b.status == Product.Status.ACTIVE
    assert list(OutboxEvent.objects.values_list("subject", flat=True)) == [str(product_a.id)]


@pytest.mark.parametrize("client_name", ["staff_client", "superuser_client"])
def test_nobody_can_delete_a_product_only_archive_it(request, client_name, product_a):
    client = request.getfixturevalue(client_name)
    OutboxEvent.objects.all().delete()

    page = client.get(f"{PRODUCTS}/{product_a.id}/change/")
    deleting = client.post(f"{PRODUCTS}/{product_a.id}/delete/", {"post": "yes"})
    listing = client.get(f"{PRODUCTS}/")
    bulk = client.post(
        f"{PRODUCTS}/",
        {"action": "delete_selected", "_selected_action": [str(product_a.id)], "post": "yes"},
        follow=True,
    )

    assert page.status_code == 200
    assert f"{product_a.id}/delete/" not in page.content.decode()
    assert deleting.status_code == 403
    assert list(listing.context["action_form"].fields["action"].choices) == [
        ("", "---------"),
        ("activate", "Activate"),
        ("archive", "Archive"),
    ]
    assert [str(message) for message in bulk.context["messages"]] == ["No action selected."]
    product_a.refresh_from_db()
    assert product_a.status == Product.Status.ACTIVE
    assert not OutboxEvent.objects.exists()


def test_archiving_tells_the_other_services_the_product_is_archived(staff_client, product_a):
    OutboxEvent.objects.all().delete()

    staff_client.post(
        f"{PRODUCTS}/", {"action": "archive", "_selected_action": [str(product_a.id)]}
    )

    event = OutboxEvent.objects.get()
    assert (event.type, event.subject) == ("product.changed", str(product_a.id))
    assert event.data["status"] == "archived"


def test_activate_action_activates_selected_products(staff_client, merchant_a):
    draft = ProductFactory(merchant=merchant_a, status=Product.Status.DRAFT)

    staff_client.post(f"{PRODUCTS}/", {"action": "activate", "_selected_action": [str(draft.id)]})

    draft.refresh_from_db()
    assert draft.status == Product.Status.ACTIVE


# --- merchants and reservations -------------------------------------------------------


def test_staff_sees_only_own_merchant(staff_client, merchant_a, merchant_b):
    assert _listed(staff_client.get(f"{MERCHANTS}/")) == [merchant_a]


def test_staff_may_change_name_shipping_fee_and_unit_cap_only(staff_client, merchant_a):
    response = staff_client.get(f"{MERCHANTS}/{merchant_a.id}/change/")
    assert set(response.context["adminform"].form.fields) == {
        "name",
        "shipping_fee_amount",
        "max_units_per_buyer",
    }

    response = staff_client.post(
        f"{MERCHANTS}/{merchant_a.id}/change/",
        {
            "name": "Alpine Renamed",
            "shipping_fee_amount": "0",
            "max_units_per_buyer": "4",
            "currency": "USD",
            "slug": "x",
        },
    )

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert (merchant_a.name, merchant_a.shipping_fee_amount) == ("Alpine Renamed", 0)
    assert merchant_a.max_units_per_buyer == 4
    assert (merchant_a.currency, merchant_a.slug) == ("EUR", "alpine-a")


def test_a_unit_cap_below_one_is_refused(staff_client, merchant_a):
    response = staff_client.post(
        f"{MERCHANTS}/{merchant_a.id}/change/",
        {"name": merchant_a.name, "shipping_fee_amount": "0", "max_units_per_buyer": "0"},
    )

    assert response.status_code == 200
    assert "max_units_per_buyer" in response.context["adminform"].form.errors
    merchant_a.refresh_from_db()
    assert merchant_a.max_units_per_buyer == 10


def test_renaming_a_merchant_republishes_its_product_cards(staff_client, merchant_a, product_a):
    OutboxEvent.objects.all().delete()

    staff_client.post(
        f"{MERCHANTS}/{merchant_a.id}/change/",
        {"name": "Alpine Renamed", "shipping_fee_amount": "490", "max_units_per_buyer": "10"},
    )

    product_a.refresh_from_db()
    assert product_a.card["merchant"]["name"] == "Alpine Renamed"
    events = list(OutboxEvent.objects.filter(type="product.changed"))
    assert [(event.subject, event.data["merchant"]["name"]) for event in events] == [
        (str(product_a.id), "Alpine Renamed")
    ]


def test_even_a_superuser_cannot_change_a_merchants_currency(superuser_client, merchant_a):
    response = superuser_client.get(f"{MERCHANTS}/{merchant_a.id}/change/")
    assert "currency" not in response.context["adminform"].form.fields


def test_staff_cannot_add_or_delete_merchants(staff_client, merchant_a):
    assert staff_client.get(f"{MERCHANTS}/add/").status_code == 403
    assert (
        staff_client.post(f"{MERCHANTS}/{merchant_a.id}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Merchant.objects.filter(id=merchant_a.id).exists()


def test_superuser_edits_merchant_staff(superuser_client, merchant_a, staff_user):
    response = superuser_client.get(f"{MERCHANTS}/{merchant_a.id}/change/")

    assert {"slug", "staff"} <= set(response.context["adminform"].form.fields)


def test_reservations_are_for_superusers_only_and_read_only(
    staff_client, superuser_client, product_a
):
    reservation = Reservation.objects.create(
        key="order-1", lines_fingerprint="x", expires_at=timezone.now()
    )
    ReservationLine.objects.create(
        reservation=reservation, variant=product_a.variants.first(), quantity=2
    )
    reservations = f"{ADMIN}/inventory/reservation"

    assert staff_client.get(f"{reservations}/").status_code == 403
    assert staff_client.get(f"{reservations}/{reservation.id}/change/").status_code == 403
    assert "Reservations" not in staff_client.get(f"{ADMIN}/").content.decode()
    assert _listed(superuser_client.get(f"{reservations}/")) == [reservation]
    detail = superuser_client.get(f"{reservations}/{reservation.id}/change/")
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert "LANTERN-1" in detail.content.decode()
    assert superuser_client.get(f"{reservations}/add/").status_code == 403


# --- demo data ------------------------------------------------------------------------


def test_seed_demo_is_idempotent_and_its_staff_can_open_the_admin(client):
    first, second = StringIO(), StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert "2 merchants, 12 products" in first.getvalue()
    assert second.getvalue() == "Demo data already seeded; nothing changed.\n"
    assert Merchant.objects.count() == 2
    assert Product.objects.count() == 12
    assert sorted(Promotion.objects.values_list("code", flat=True)) == ["ALPINE10", "HARBOR10"]
    assert get_user_model().objects.count() == 3
    assert OutboxEvent.objects.filter(type="product.changed").count() == 12
    runner = Product.objects.get(id=demo_id("product", "alpine-trail-runner"))
    assert runner.images == ["https://images.clipcart.dev/demo/alpine-trail-runner.jpg"]
    # Through django-axes' backend, which needs the request (the admin's login form sends it).
    assert client.login(request=HttpRequest(), username="alpine", password="alpine-demo")
    response = client.get(f"{PRODUCTS}/")
    assert {product.merchant.slug for product in _listed(response)} == {"alpine"}
    assert len(_listed(response)) == 6


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_login_locks_after_repeated_wrong_passwords_even_for_the_right_one():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=3)

    assert wrong == [200, 200, 429]
    assert right == 429


def test_the_right_password_signs_in_to_the_admin_below_the_failure_limit():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=2)

    assert wrong == [200, 200]
    assert right == 302
