"""Product categories: kept by platform staff, picked by merchants, shown on the cards
the API serves and `product.changed` carries (ADR 12)."""

from __future__ import annotations

import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, migrations
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from clipcart_shared.outbox.models import OutboxEvent
from demo.management.commands.seed_demo import demo_id
from products.models import Category, Product
from products.services import product_changes_publish
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

ADMIN = "/catalog/admin"
CATEGORIES = f"{ADMIN}/products/category"
PRODUCTS = f"{ADMIN}/products/product"


@pytest.fixture
def fashion() -> Category:
    return CategoryFactory(slug="fashion", name="Fashion")


def _product_change_data(product: Product, **overrides: Any) -> dict[str, Any]:
    variants = list(product.variants.all())
    data: dict[str, Any] = {
        "title": product.title,
        "description": product.description,
        "images": ",".join(product.images),
        "status": product.status,
        "category": str(product.category_id) if product.category_id else "",
        "_save": "Save",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, variant in enumerate(variants):
        row = {
            "id": str(variant.id),
            "product": str(product.id),
            "sku": variant.sku,
            "title": variant.title,
            "options": '{"size": "M"}',
            "price_amount": str(variant.price_amount),
            "quantity_on_hand": str(variant.quantity_on_hand),
            "position": str(variant.position),
        }
        data.update({f"variants-{index}-{key}": value for key, value in row.items()})
    return {**data, **overrides}


# --- the admin ------------------------------------------------------------------------


def test_platform_staff_create_a_category_whose_slug_is_then_fixed(superuser_client):
    response = superuser_client.post(
        f"{CATEGORIES}/add/", {"name": "Beauty", "slug": "beauty", "_save": "Save"}
    )

    assert response.status_code == 302
    category = Category.objects.get()
    assert (category.slug, category.name) == ("beauty", "Beauty")
    change = superuser_client.get(f"{CATEGORIES}/{category.id}/change/")
    assert set(change.context["adminform"].form.fields) == {"name"}


def test_merchant_staff_cannot_open_or_add_categories(staff_client, fashion):
    assert staff_client.get(f"{CATEGORIES}/").status_code == 403
    assert staff_client.get(f"{CATEGORIES}/add/").status_code == 403
    assert staff_client.get(f"{CATEGORIES}/{fashion.id}/change/").status_code == 403
    assert staff_client.post(f"{CATEGORIES}/add/", {"name": "X", "slug": "x"}).status_code == 403
    assert list(Category.objects.values_list("slug", flat=True)) == ["fashion"]


def test_merchant_staff_pick_from_every_category_on_their_product(staff_client, merchant_a):
    CategoryFactory(slug="home", name="Home")
    CategoryFactory(slug="fashion", name="Fashion")
    product = VariantFactory(product=ProductFactory(merchant=merchant_a)).product

    response = staff_client.get(f"{PRODUCTS}/{product.id}/change/")

    field = response.context["adminform"].form.fields["category"]
    assert [category.slug for category in field.queryset] == ["fashion", "home"]
    assert field.required is False
    # The select offers no way to add or edit the platform's categories.
    widget = field.widget
    assert (widget.can_add_related, widget.can_change_related) == (False, False)


def test_merchant_sets_a_category_and_product_changed_carries_it(staff_client, merchant_a, fashion):
    product = VariantFactory(product=ProductFactory(merchant=merchant_a)).product
    OutboxEvent.objects.all().delete()

    response = staff_client.post(
        f"{PRODUCTS}/{product.id}/change/",
        _product_change_data(product, category=str(fashion.id)),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.category_id == fashion.id
    assert product.card["category"] == {"slug": "fashion", "name": "Fashion"}
    [event] = OutboxEvent.objects.filter(type="product.changed")
    assert event.subject == str(product.id)
    assert event.data["category"] == {"slug": "fashion", "name": "Fashion"}


def test_clearing_the_category_publishes_a_card_with_null(staff_client, merchant_a, fashion):
    product = VariantFactory(product=ProductFactory(merchant=merchant_a, category=fashion)).product
    OutboxEvent.objects.all().delete()

    staff_client.post(
        f"{PRODUCTS}/{product.id}/change/", _product_change_data(product, category="")
    )

    [event] = OutboxEvent.objects.filter(type="product.changed")
    assert event.data["category"] is None


def test_renaming_a_category_republishes_the_cards_of_its_products(superuser_client, fashion):
    mine = ProductFactory(category=fashion)
    other = ProductFactory(category=CategoryFactory())
    OutboxEvent.objects.all().delete()

    response = superuser_client.post(
        f"{CATEGORIES}/{fashion.id}/change/", {"name": "Fashion & shoes", "_save": "Save"}
    )

    assert response.status_code == 302
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.card["category"] == {"slug": "fashion", "name": "Fashion & shoes"}
    assert other.card["category"]["name"] != "Fashion & shoes"
    events = OutboxEvent.objects.filter(type="product.changed")
    assert [(event.subject, event.data["category"]["name"]) for event in events] == [
        (str(mine.id), "Fashion & shoes")
    ]


def test_saving_a_category_unchanged_publishes_nothing(superuser_client, fashion):
    ProductFactory(category=fashion)
    OutboxEvent.objects.all().delete()

    superuser_client.post(f"{CATEGORIES}/{fashion.id}/change/", {"name": "Fashion"})

    assert not OutboxEvent.objects.exists()


def test_a_category_with_products_cannot_be_deleted(superuser_client, fashion):
    ProductFactory(category=fashion)

    response = superuser_client.post(f"{CATEGORIES}/{fashion.id}/delete/", {"post": "yes"})

    assert response.status_code == 200  # Django's "cannot delete: protected" page
    assert Category.objects.filter(id=fashion.id).exists()
    with pytest.raises(ProtectedError):
        fashion.delete()


# --- the API --------------------------------------------------------------------------


def test_product_cards_show_the_category_or_null(api_client, fashion):
    dressed = VariantFactory(product=ProductFactory(category=fashion)).product
    plain = VariantFactory().product

    listed = {card["id"]: card for card in api_client.get("/api/v1/products/").json()["results"]}
    detail = api_client.get(f"/api/v1/products/{dressed.id}/").json()

    assert listed[str(dressed.id)]["category"] == {"slug": "fashion", "name": "Fashion"}
    assert listed[str(plain.id)]["category"] is None
    assert detail["category"] == {"slug": "fashion", "name": "Fashion"}


def test_product_list_filters_by_category_slug(api_client, fashion):
    dressed = ProductFactory(category=fashion)
    ProductFactory(category=CategoryFactory(slug="home"))
    ProductFactory()

    body = api_client.get("/api/v1/products/?category=fashion").json()
    assert [card["id"] for card in body["results"]] == [str(dressed.id)]
    assert api_client.get("/api/v1/products/?category=unknown").json()["results"] == []
    bad = api_client.get("/api/v1/products/?category=not a slug")
    assert bad.status_code == 400
    assert [error["field"] for error in bad.json()["errors"]] == ["category"]


@pytest.mark.parametrize("query", ["", "?category=fashion"])
def test_product_list_stays_one_query_with_categories(api_client, fashion, query):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get(f"/api/v1/products/{query or '?'}&limit=100").status_code == 200
        return len(captured)

    VariantFactory(product=ProductFactory(category=fashion))
    one = queries()
    for index in range(30):
        category = fashion if index % 2 else CategoryFactory()
        VariantFactory.create_batch(2, product=ProductFactory(category=category))
    assert one == queries() == 1


def test_the_schema_documents_the_category_and_its_filter(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    card = schema["components"]["schemas"]["ProductCard"]
    assert "category" in card["required"]
    assert card["properties"]["category"]["nullable"] is True
    parameters = schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    assert "category" in {parameter["name"] for parameter in parameters}


# --- stored cards and demo data -------------------------------------------------------


def test_migration_0003_adds_a_null_category_to_cards_stored_before_it():
    migration = importlib.import_module("products.migrations.0003_product_categories")
    [add_category] = [
        operation
        for operation in migration.Migration.operations
        if isinstance(operation, migrations.RunSQL)
    ]
    old = ProductFactory()
    old.refresh_from_db()
    old_card = {key: value for key, value in old.card.items() if key != "category"}
    Product.objects.filter(id=old.id).update(card=old_card)
    fashion = ProductFactory(category=CategoryFactory(slug="fashion", name="Fashion"))
    unpublished = Product.objects.create(merchant=old.merchant, title="No card yet")

    with connection.cursor() as cursor:
        cursor.execute(add_category.sql)

    assert Product.objects.get(id=old.id).card == {**old_card, "category": None}
    assert Product.objects.get(id=fashion.id).card["category"] == {
        "slug": "fashion",
        "name": "Fashion",
    }
    assert Product.objects.get(id=unpublished.id).card is None


def test_seed_demo_gives_the_demo_products_their_categories():
    call_command("seed_demo", stdout=StringIO())

    cards = {product.id: product.card["category"]["slug"] for product in Product.objects.all()}
    assert cards[demo_id("product", "alpine-trail-runner")] == "fashion"
    assert cards[demo_id("product", "harbor-stoneware-mugs")] == "kitchen"
    assert set(cards.values()) == {"fashion", "outdoor", "fitness", "home", "kitchen"}
    assert Category.objects.count() == 6


def test_seed_demo_categorises_demo_products_seeded_before_categories():
    call_command("seed_demo", stdout=StringIO())
    runner = demo_id("product", "alpine-trail-runner")
    Product.objects.filter(id=runner).update(category=None)
    product_changes_publish(product_ids=[runner])
    OutboxEvent.objects.all().delete()
    output = StringIO()

    call_command("seed_demo", stdout=output)

    assert "1 existing products given a category" in output.getvalue()
    [event] = OutboxEvent.objects.filter(type="product.changed")
    assert (event.subject, event.data["category"]["slug"]) == (str(runner), "fashion")
