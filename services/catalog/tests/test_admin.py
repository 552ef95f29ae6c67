"""The merchant admin: each merchant's staff see and change only their own catalog."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.test import override_settings
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.testing.fixtures import admin_lockout_answers
from core.management.commands.seed_demo import demo_id
from inventory.models import Reservation, ReservationLine
from merchants.models import Merchant
from products.models import Product, Variant
from products.services import product_changes_publish
from tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

ADMIN = "/catalog/admin"
PRODUCTS = f"{ADMIN}/products/product"
VARIANTS = f"{ADMIN}/products/variant"
MERCHANTS = f"{ADMIN}/merchants/merchant"


@pytest.fixture
def product_a(merchant_a: Merchant) -> Product:
    product = ProductFactory(merchant=merchant_a, title="Alpine Lantern")
    VariantFactory(product=product, sku="LANTERN-1", price_amount=2500, quantity_on_hand=7)
    VariantFactory(product=product, sku="LANTERN-A2", price_amount=1999, quantity_on_hand=3)
    return product


@pytest.fixture
def product_b(merchant_b: Merchant) -> Product:
    product = ProductFactory(merchant=merchant_b, title="Harbor Lantern")
    # The same SKU as A's: SKUs are unique per merchant only.
    VariantFactory(product=product, sku="LANTERN-1")
    VariantFactory(product=product, sku="HARBOR-ONLY")
    return product


def _variant_rows(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def _new_variant_row(sku: str, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "title": "Default",
        "options": '{"size": "M"}',
        "price_amount": "1500",
        "quantity_on_hand": "4",
        "position": "0",
        **overrides,
    }


def _existing_variant_row(variant: Variant, **overrides: Any) -> dict[str, Any]:
    return {
        "id": str(variant.id),
        "product": str(variant.product_id),
        **_new_variant_row(variant.sku, price_amount=str(variant.price_amount)),
        "quantity_on_hand": str(variant.quantity_on_hand),
        # The form says which level it was opened with: a count is checked against it.
        "on_hand_when_opened": str(variant.quantity_on_hand),
        **overrides,
    }


def _product_add_data(merchant: Merchant, title: str, variants: list[dict[str, Any]]) -> dict:
    return {
        "merchant": str(merchant.id),
        "title": title,
        "description": "Made for the test.",
        "images": "https://img.example.com/new.jpg",
        "status": "draft",
        "_save": "Save",
        **_variant_rows("variants", variants),
    }


def _listed(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


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


# --- forms ----------------------------------------------------------------------------


def test_product_add_form_offers_only_staffs_merchant_and_defaults_to_it(
    staff_client, merchant_a, merchant_b
):
    response = staff_client.get(f"{PRODUCTS}/add/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.fields["merchant"].queryset) == [merchant_a]
    assert form.initial["merchant"] == merchant_a.id
    assert "Harbor B" not in response.content.decode()


def test_staff_cannot_add_product_for_other_merchant(staff_client, merchant_a, merchant_b):
    data = _product_add_data(merchant_b, "Sneaky", [_new_variant_row("SNEAKY-1")])

    response = staff_client.post(f"{PRODUCTS}/add/", data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["merchant"]
    assert not Product.objects.filter(title="Sneaky").exists()
    assert not Variant.objects.filter(sku="SNEAKY-1").exists()


def test_adding_product_with_variants_copies_merchant_to_variants(staff_client, merchant_a):
    data = _product_add_data(merchant_a, "Camp Stove", [_new_variant_row("STOVE-1")])

    response = staff_client.post(f"{PRODUCTS}/add/", data)

    assert response.status_code == 302
    product = Product.objects.get(title="Camp Stove")
    assert product.merchant == merchant_a
    assert [(v.sku, v.merchant_id) for v in product.variants.all()] == [("STOVE-1", merchant_a.id)]


def test_variant_inline_does_not_offer_merchant(staff_client, product_a):
    response = staff_client.get(f"{PRODUCTS}/{product_a.id}/change/")

    [inline] = response.context["inline_admin_formsets"]
    assert "merchant" not in inline.formset.form.base_fields
    assert "quantity_reserved" not in inline.formset.form.base_fields


def test_sku_already_used_by_the_merchant_is_a_form_error(staff_client, merchant_a, product_a):
    data = _product_add_data(merchant_a, "Second Lantern", [_new_variant_row("LANTERN-1")])

    response = staff_client.post(f"{PRODUCTS}/add/", data)

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.errors == [{"sku": ["Alpine A already has a variant with this SKU."]}]
    assert not Product.objects.filter(title="Second Lantern").exists()


def test_sku_used_by_another_merchant_is_accepted(staff_client, merchant_a, product_b):
    data = _product_add_data(merchant_a, "Own Product", [_new_variant_row("HARBOR-ONLY")])

    response = staff_client.post(f"{PRODUCTS}/add/", data)

    assert response.status_code == 302
    assert Variant.objects.get(merchant=merchant_a).sku == "HARBOR-ONLY"


def test_saving_product_publishes_product_changed_with_new_title(staff_client, product_a):
    product_changes_publish(product_ids=[product_a.id])
    OutboxEvent.objects.all().delete()
    variants = list(product_a.variants.all())
    data = {
        "title": "Storm Lantern",
        "description": product_a.description,
        "images": ",".join(product_a.images),
        "status": "active",
        "_save": "Save",
        **_variant_rows(
            "variants", [_existing_variant_row(variant) for variant in variants], initial=2
        ),
    }

    response = staff_client.post(f"{PRODUCTS}/{product_a.id}/change/", data)

    assert response.status_code == 302
    [event] = OutboxEvent.objects.filter(type="product.changed")
    assert event.subject == str(product_a.id)
    assert event.data["title"] == "Storm Lantern"


def test_variant_save_never_overwrites_reserved_stock(staff_client, product_a):
    variant = product_a.variants.get(sku="LANTERN-1")
    Variant.objects.filter(id=variant.id).update(quantity_reserved=2)
    data = {
        **_existing_variant_row(variant, quantity_on_hand="9"),
        "quantity_reserved": "0",  # read-only: ignored
        "_save": "Save",
    }

    response = staff_client.post(f"{VARIANTS}/{variant.id}/change/", data)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_reserved) == (9, 2)
    assert variant.merchant_id == product_a.merchant_id


def test_deleting_variant_publishes_product_changed(staff_client, product_a):
    product_changes_publish(product_ids=[product_a.id])
    OutboxEvent.objects.all().delete()
    variant = product_a.variants.get(sku="LANTERN-A2")

    response = staff_client.post(f"{VARIANTS}/{variant.id}/delete/", {"post": "yes"})

    assert response.status_code == 302
    [event] = OutboxEvent.objects.filter(type="product.changed")
    assert event.subject == str(product_a.id)
    assert [v["sku"] for v in event.data["variants"]] == ["LANTERN-1"]
    assert event.data["price"] == {"amount": 2500, "currency": "EUR"}


def test_on_hand_below_reserved_is_a_form_error(staff_client, product_a):
    variant = product_a.variants.get(sku="LANTERN-1")
    Variant.objects.filter(id=variant.id).update(quantity_reserved=5)
    data = {
        **_existing_variant_row(variant, quantity_on_hand="4"),
        "_save": "Save",
    }

    response = staff_client.post(f"{VARIANTS}/{variant.id}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "quantity_on_hand": [
            "5 units are reserved for open checkouts; on hand cannot go below that."
        ]
    }
    variant.refresh_from_db()
    assert variant.quantity_on_hand == 7


def test_staff_cannot_move_variant_to_other_merchants_product(staff_client, product_a, product_b):
    variant = product_a.variants.get(sku="LANTERN-1")
    data = {**_existing_variant_row(variant), "product": str(product_b.id), "_save": "Save"}

    response = staff_client.post(f"{VARIANTS}/{variant.id}/change/", data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["product"]
    variant.refresh_from_db()
    assert variant.product_id == product_a.id


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
