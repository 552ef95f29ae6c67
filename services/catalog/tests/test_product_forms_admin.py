"""The merchant admin's product and variant forms: a merchant's staff add and change only
their own products and variants, choosing only among their own merchants.
"""

from __future__ import annotations

import pytest

from clipcart_shared.outbox.models import OutboxEvent
from products.models import Product, Variant
from products.services import product_changes_publish
from tests.admin_pages import (
    PRODUCTS,
    VARIANTS,
    _existing_variant_row,
    _new_variant_row,
    _product_add_data,
    _variant_rows,
)

pytestmark = pytest.mark.django_db


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
