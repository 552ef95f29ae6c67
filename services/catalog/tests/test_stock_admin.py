"""Stock in the merchant admin is adjusted, never overwritten: a form opened before a sale
cannot put the sold units back on the shelf, and every change of on-hand is a movement."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms import BaseForm

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.testing.fixtures import signed_in
from core.admin import merchant_staff_group_ensure
from inventory.models import StockMovement
from inventory.services import stock_receive
from merchants.models import Merchant
from products.models import Product, Variant
from tests.factories import ProductFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db

ADMIN = "/catalog/admin"
PRODUCTS = f"{ADMIN}/products/product"
VARIANTS = f"{ADMIN}/products/variant"
MOVEMENTS = f"{ADMIN}/inventory/stockmovement"


@pytest.fixture
def lantern(merchant_a: Merchant) -> Variant:
    product = ProductFactory(merchant=merchant_a, title="Alpine Lantern")
    return VariantFactory(product=product, sku="LANTERN-1", price_amount=2500, quantity_on_hand=10)


@pytest.fixture
def staff_b_client(merchant_b: Merchant) -> Any:
    user = UserFactory(username="staff-of-b")
    user.groups.add(merchant_staff_group_ensure())
    merchant_b.staff.add(user)
    return signed_in(user)


def _posted(form: BaseForm) -> dict[str, str]:
    """What a browser posts back for `form` as it was rendered, untouched."""
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()  # prepared for the widget, as it is rendered
        if field.show_hidden_initial:  # Django renders the initial value beside it
            data[bound.html_initial_name] = str(form.data.get(bound.html_initial_name, value))
        if value is None or value is False:
            continue
        data[bound.html_name] = "on" if value is True else str(value)
    return data


def _open(client: Any, url: str) -> dict[str, str]:
    """Open an admin change page; answer the data its forms would post back unchanged."""
    response = client.get(url)
    assert response.status_code == 200
    data = {**_posted(response.context["adminform"].form), "_save": "Save"}
    for inline in response.context["inline_admin_formsets"]:
        data.update(_posted(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(_posted(form))
    return data


def _sell(service_client: Any, variant: Variant, quantity: int, key: str = "order-1") -> str:
    """A buyer reserves and pays through catalog's internal API, as checkout does."""
    reserved = service_client.post(
        "/internal/v1/reservations/",
        {"key": key, "lines": [{"variant_id": str(variant.id), "quantity": quantity}]},
        format="json",
    )
    assert reserved.status_code == 201
    reservation_id = reserved.json()["id"]
    committed = service_client.post(f"/internal/v1/reservations/{reservation_id}/commit/")
    assert committed.status_code == 200
    return str(reservation_id)


def _level(variant: Variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_reserved


def _movements(variant: Variant) -> list[tuple[str, int, int, str]]:
    rows = StockMovement.objects.filter(variant=variant).order_by("created_at", "id")
    return list(rows.values_list("kind", "delta", "on_hand_after", "actor"))


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form should have been refused"
    if response.context["inline_admin_formsets"]:
        [inline] = response.context["inline_admin_formsets"]
        [errors] = [e for e in inline.formset.errors if e]
        return dict(errors)
    return dict(response.context["adminform"].form.errors)


# --- the product page: a form opened before a sale ------------------------------------


def test_product_form_opened_before_a_sale_saved_with_a_new_price_keeps_the_sale(
    staff_client, service_client, lantern
):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    reservation_id = _sell(service_client, lantern, 3)
    data["variants-0-price_amount"] = "2700"

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert response.status_code == 302
    assert _level(lantern) == (7, 0)
    assert lantern.price_amount == 2700
    assert _movements(lantern) == [("committed", -3, 7, "system:checkout")]
    assert StockMovement.objects.get().reference == reservation_id


def test_a_count_set_on_a_stale_product_form_is_refused_naming_the_current_level(
    staff_client, service_client, lantern
):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    _sell(service_client, lantern, 3)
    OutboxEvent.objects.all().delete()
    data.update({"title": "Storm Lantern", "variants-0-quantity_on_hand": "12"})

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert _errors(response) == {
        "quantity_on_hand": [
            "On hand is now 7, not the 10 this form was opened with: stock moved meanwhile. "
            "Nothing was saved; check your count and save again."
        ]
    }
    assert _level(lantern) == (7, 0)
    assert [kind for kind, *_ in _movements(lantern)] == ["committed"]
    assert Product.objects.get(id=lantern.product_id).title == "Alpine Lantern"
    assert not OutboxEvent.objects.exists()


def test_a_refused_stale_count_saved_again_after_the_message_sets_the_count(
    staff_client, service_client, lantern
):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    _sell(service_client, lantern, 3)
    data["variants-0-quantity_on_hand"] = "12"
    refused = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)
    [inline] = refused.context["inline_admin_formsets"]
    again = {**data, **_posted(inline.formset.forms[0])}

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", again)

    assert response.status_code == 302
    assert _level(lantern) == (12, 0)
    assert _movements(lantern)[-1] == ("counted", 5, 12, "staff-of-a")


def test_a_count_without_the_level_it_was_opened_with_is_refused(staff_client, lantern):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    del data["variants-0-on_hand_when_opened"]
    data["variants-0-quantity_on_hand"] = "4"

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert list(_errors(response)) == ["quantity_on_hand"]
    assert _level(lantern) == (10, 0)
    assert _movements(lantern) == []


def test_a_count_from_a_fresh_product_form_sets_the_level_as_a_counted_movement(
    staff_client, lantern
):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    data["variants-0-quantity_on_hand"] = "8"

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert response.status_code == 302
    assert _level(lantern) == (8, 0)
    assert _movements(lantern) == [("counted", -2, 8, "staff-of-a")]
    movement = StockMovement.objects.get()
    assert movement.user_id is not None


def test_receiving_on_a_product_form_opened_before_a_sale_adds_to_what_is_left(
    staff_client, service_client, lantern
):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    _sell(service_client, lantern, 3)
    data.update({"variants-0-stock_received": "5", "variants-0-stock_note": "Pallet 7"})

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert response.status_code == 302
    assert _level(lantern) == (12, 0)
    assert _movements(lantern) == [
        ("committed", -3, 7, "system:checkout"),
        ("received", 5, 12, "staff-of-a"),
    ]
    assert StockMovement.objects.get(kind="received").note == "Pallet 7"


def test_a_new_variant_with_stock_starts_with_a_counted_movement(staff_client, merchant_a, lantern):
    data = _open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")
    data.update(
        {
            "variants-TOTAL_FORMS": "2",
            "variants-1-sku": "LANTERN-2",
            "variants-1-price_amount": "1500",
            "variants-1-quantity_on_hand": "4",
            "variants-1-position": "1",
        }
    )

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert response.status_code == 302
    added = Variant.objects.get(sku="LANTERN-2")
    assert _level(added) == (4, 0)
    assert _movements(added) == [("counted", 4, 4, "staff-of-a")]
    assert _movements(lantern) == []


# --- the variant page: receive, write off, the movement log ---------------------------


def test_receive_then_write_off_on_the_variant_page_log_each_resulting_level(staff_client, lantern):
    url = f"{VARIANTS}/{lantern.id}/change/"
    received = {**_open(staff_client, url), "stock_received": "5"}
    assert staff_client.post(url, received).status_code == 302
    written_off = {**_open(staff_client, url), "stock_written_off": "4", "stock_note": "Broken"}
    assert staff_client.post(url, written_off).status_code == 302

    assert _level(lantern) == (11, 0)
    assert _movements(lantern) == [
        ("received", 5, 15, "staff-of-a"),
        ("written_off", -4, 11, "staff-of-a"),
    ]
    page = staff_client.get(url).content.decode()
    assert "Broken" in page
    assert "written off" in page.lower()


def test_writing_off_units_held_for_checkouts_is_a_form_error_not_a_crash(
    staff_client, service_client, lantern
):
    url = f"{VARIANTS}/{lantern.id}/change/"
    data = {**_open(staff_client, url), "stock_written_off": "9"}
    service_client.post(
        "/internal/v1/reservations/",
        {"key": "held", "lines": [{"variant_id": str(lantern.id), "quantity": 2}]},
        format="json",
    )

    response = staff_client.post(url, data)

    assert _errors(response) == {
        "stock_written_off": [
            "At most 8 units can be written off: 10 on hand, 2 reserved for open checkouts."
        ]
    }
    assert _level(lantern) == (10, 2)
    assert _movements(lantern) == []


def test_one_stock_change_at_a_time(staff_client, lantern):
    url = f"{VARIANTS}/{lantern.id}/change/"
    data = {**_open(staff_client, url), "stock_received": "5", "quantity_on_hand": "3"}

    response = staff_client.post(url, data)

    assert _errors(response) == {
        "__all__": ["Record one stock change at a time: a count, a receipt or a write-off."]
    }
    assert _level(lantern) == (10, 0)


def test_saving_the_variant_page_unchanged_after_a_sale_writes_no_stock(
    staff_client, service_client, lantern
):
    url = f"{VARIANTS}/{lantern.id}/change/"
    data = _open(staff_client, url)
    _sell(service_client, lantern, 3)
    data["title"] = "Renamed"

    assert staff_client.post(url, data).status_code == 302

    assert _level(lantern) == (7, 0)
    assert [kind for kind, *_ in _movements(lantern)] == ["committed"]


# --- who sees the log -----------------------------------------------------------------


def test_another_merchants_staff_cannot_see_the_movements(
    staff_client, staff_b_client, superuser_client, lantern, merchant_b
):
    stock_receive(variant_id=lantern.id, quantity=5, actor="staff-of-a")
    other = VariantFactory(product=ProductFactory(merchant=merchant_b), sku="HARBOR-1")
    stock_receive(variant_id=other.id, quantity=1, actor="staff-of-b")
    movement_a = StockMovement.objects.get(variant=lantern)

    listed_b = staff_b_client.get(f"{MOVEMENTS}/")
    listed_a = staff_client.get(f"{MOVEMENTS}/")

    assert [m.variant_id for m in listed_b.context["cl"].result_list] == [other.id]
    assert [m.variant_id for m in listed_a.context["cl"].result_list] == [lantern.id]
    assert staff_b_client.get(f"{MOVEMENTS}/{movement_a.id}/change/").status_code == 404
    assert staff_b_client.get(f"{VARIANTS}/{lantern.id}/change/").status_code == 404
    assert "LANTERN-1" not in listed_b.content.decode()
    everything = superuser_client.get(f"{MOVEMENTS}/").context["cl"].result_list
    assert {m.variant_id for m in everything} == {lantern.id, other.id}


def test_the_variant_page_links_to_the_list_of_its_own_movements(staff_client, lantern):
    sibling = VariantFactory(product=lantern.product, sku="LANTERN-2")
    stock_receive(variant_id=lantern.id, quantity=5, actor="staff-of-a")
    stock_receive(variant_id=sibling.id, quantity=1, actor="staff-of-a")
    link = f"{MOVEMENTS}/?variant={lantern.id}"

    page = staff_client.get(f"{VARIANTS}/{lantern.id}/change/").content.decode()
    listed = staff_client.get(link)

    assert f'href="{link}"' in page
    assert [m.variant_id for m in listed.context["cl"].result_list] == [lantern.id]


@pytest.mark.parametrize("client_name", ["staff_client", "superuser_client"])
def test_nobody_adds_changes_or_deletes_a_movement_in_the_admin(request, client_name, lantern):
    client = request.getfixturevalue(client_name)
    stock_receive(variant_id=lantern.id, quantity=5, actor="staff-of-a")
    movement = StockMovement.objects.get()

    detail = client.get(f"{MOVEMENTS}/{movement.id}/change/")
    changing = client.post(f"{MOVEMENTS}/{movement.id}/change/", {"delta": "500"})
    deleting = client.post(f"{MOVEMENTS}/{movement.id}/delete/", {"post": "yes"})

    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert changing.status_code == 403
    assert deleting.status_code == 403
    assert client.get(f"{MOVEMENTS}/add/").status_code == 403
    movement.refresh_from_db()
    assert (movement.delta, movement.on_hand_after) == (5, 15)


def test_a_variant_with_movements_cannot_be_deleted_with_its_log(staff_client, lantern):
    stock_receive(variant_id=lantern.id, quantity=5, actor="staff-of-a")

    response = staff_client.post(f"{VARIANTS}/{lantern.id}/delete/", {"post": "yes"})

    assert response.status_code == 200  # Django's "cannot delete: protected" page
    assert Variant.objects.filter(id=lantern.id).exists()
    assert StockMovement.objects.count() == 1


def test_deleting_a_variant_with_movements_on_the_product_page_is_a_form_error(
    staff_client, lantern
):
    stock_receive(variant_id=lantern.id, quantity=5, actor="staff-of-a")
    data = {**_open(staff_client, f"{PRODUCTS}/{lantern.product_id}/change/")}
    data["variants-0-DELETE"] = "on"

    response = staff_client.post(f"{PRODUCTS}/{lantern.product_id}/change/", data)

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.non_form_errors() == [
        "Deleting variant LANTERN-1 Default would require deleting the following protected "
        "related objects: stock movement +5 Received -> 15"
    ]
    assert Variant.objects.filter(id=lantern.id).exists()
