"""Shipping in the checkout admin: the order's Ship page, the shipments list and its
"Mark delivered", merchant policies and merchant API keys, each scoped: a merchant's
staff see and ship only their own lines (other merchants' objects are 404)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_tools.testing.fixtures import signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from merchant_api.models import MerchantApiKey
from merchant_api.services import key_hash
from orders.models import MerchantPolicy, Shipment
from orders.services import shipment_create
from tests.admin.conftest import ADMIN, ORDERS, _group, _inline_objects, _messages
from tests.shipping_rows import MERCHANT_A, MERCHANT_B, paid_order

pytestmark = pytest.mark.django_db

SHIPMENTS = f"{ADMIN}/orders/shipment"
POLICIES = f"{ADMIN}/orders/merchantpolicy"
KEYS = f"{ADMIN}/merchant_api/merchantapikey"


def _staff_of(merchant_id: uuid.UUID, permissions=STAFF_PERMISSIONS) -> Client:
    user = get_user_model().objects.create_user(username=f"staff-{merchant_id}", is_staff=True)
    user.groups.add(_group(f"group-{merchant_id}", list(permissions)))
    MerchantMembership.objects.create(user=user, merchant_id=merchant_id, merchant_name="Shop")
    return signed_in(user)


@pytest.fixture
def staff_a() -> Client:
    return _staff_of(MERCHANT_A)


@pytest.fixture
def staff_b() -> Client:
    return _staff_of(MERCHANT_B)


def _ship_form(client: Client, order, **fields: Any):
    page = client.get(f"{ORDERS}/{order.id}/ship/")
    assert page.status_code == 200
    data = {
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "tracking_url": "https://track.example/JD0001",
        **{
            name: str(page.context["form"].fields[name].initial)
            for name in page.context["form"].fields
            if name.startswith("line_")
        },
    } | fields
    return page, client.post(f"{ORDERS}/{order.id}/ship/", data)


def test_merchant_staff_ship_only_their_own_lines_from_the_ship_page(staff_a, staff_b):
    order = paid_order((MERCHANT_A, 2), (MERCHANT_B, 1))
    line_a = order.lines.get(merchant_id=MERCHANT_A)
    line_b = order.lines.get(merchant_id=MERCHANT_B)

    page, response = _ship_form(staff_a, order, **{f"line_{line_a.id}": "1"})
    assert [name for name in page.context["form"].fields if name.startswith("line_")] == [
        f"line_{line_a.id}"
    ]
    assert response.status_code == 302, _messages(response)
    # A unit of B's line posted by A's staff is not a field of A's form: ignored.
    _, sneaky = _ship_form(staff_a, order, **{f"line_{line_b.id}": "1", f"line_{line_a.id}": "1"})
    assert sneaky.status_code == 302
    line_b.refresh_from_db()
    assert line_b.shipped_quantity == 0
    line_a.refresh_from_db()
    assert line_a.shipped_quantity == 2

    shown = _inline_objects(staff_b.get(f"{ORDERS}/{order.id}/change/"), Shipment)
    assert shown == []
    _, by_b = _ship_form(staff_b, order)
    assert by_b.status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    assert {
        s.merchant_id
        for s in _inline_objects(staff_b.get(f"{ORDERS}/{order.id}/change/"), Shipment)
    } == {MERCHANT_B}


def test_another_merchants_order_ship_page_is_404_and_over_shipping_is_refused(staff_a):
    theirs = paid_order((MERCHANT_B, 1))
    assert staff_a.get(f"{ORDERS}/{theirs.id}/ship/").status_code == 404
    assert staff_a.post(f"{ORDERS}/{theirs.id}/ship/", {"carrier": "x"}).status_code == 404

    mine = paid_order((MERCHANT_A, 1))
    line = mine.lines.get()
    _, response = _ship_form(staff_a, mine, **{f"line_{line.id}": "2"})
    assert response.status_code == 200  # the form, with the error
    assert not Shipment.objects.exists()


def test_staff_without_the_ship_permission_are_403(staff_a):
    order = paid_order((MERCHANT_A, 1))
    viewer = _staff_of(MERCHANT_B, [("orders", "view_order")])
    other = paid_order((MERCHANT_B, 1))
    assert viewer.get(f"{ORDERS}/{other.id}/ship/").status_code == 403
    assert staff_a.get(f"{ORDERS}/{order.id}/ship/").status_code == 200


def test_mark_delivered_delivers_only_the_users_own_shipments(staff_a):
    order = paid_order((MERCHANT_A, 1), (MERCHANT_B, 1))
    shipments = [
        shipment_create(
            order_id=order.id,
            merchant_id=line.merchant_id,
            carrier="DHL",
            tracking_number=f"T{index}",
            tracking_url="",
            lines=[(line.id, 1)],
            created_by="t",
        )
        for index, line in enumerate(order.lines.order_by("title"))
    ]
    listed = staff_a.get(f"{SHIPMENTS}/")
    assert {s.id for s in listed.context["cl"].result_list} == {shipments[0].id}
    assert staff_a.get(f"{SHIPMENTS}/{shipments[1].id}/change/").status_code == 404

    staff_a.post(
        f"{SHIPMENTS}/",
        {"action": "mark_delivered", "_selected_action": [str(s.id) for s in shipments]},
    )
    statuses = dict(Shipment.objects.values_list("id", "status"))
    assert statuses == {shipments[0].id: "delivered", shipments[1].id: "shipped"}


def test_merchant_staff_edit_only_their_own_policy(staff_a):
    theirs = MerchantPolicy.objects.create(merchant_id=MERCHANT_B, return_window_days=30)
    assert staff_a.get(f"{POLICIES}/{theirs.pk}/change/").status_code == 404
    refused = staff_a.post(
        f"{POLICIES}/add/", {"merchant_id": str(MERCHANT_B), "return_window_days": "5"}
    )
    assert refused.status_code == 200  # not one of their merchants: the form refuses
    created = staff_a.post(
        f"{POLICIES}/add/",
        {"merchant_id": str(MERCHANT_A), "return_window_days": "14", "return_instructions": "Box"},
    )
    assert created.status_code == 302
    assert MerchantPolicy.objects.get(merchant_id=MERCHANT_A).return_window_days == 14
    theirs.refresh_from_db()
    assert theirs.return_window_days == 30


def test_a_key_is_shown_once_stored_hashed_scoped_and_revoked(staff_a, staff_b):
    response = staff_a.post(
        f"{KEYS}/add/", {"merchant_id": str(MERCHANT_A), "name": "WMS"}, follow=True
    )
    [message] = [m for m in _messages(response) if "copy it now" in m]
    key = message.split("The new key is ")[1].split(" ")[0]
    row = MerchantApiKey.objects.get()
    assert (row.merchant_id, row.key_hash) == (MERCHANT_A, key_hash(key))
    assert key not in staff_a.get(f"{KEYS}/{row.id}/change/").content.decode()

    assert staff_b.get(f"{KEYS}/{row.id}/change/").status_code == 404
    assert (
        staff_b.post(f"{KEYS}/add/", {"merchant_id": str(MERCHANT_A), "name": "x"}).status_code
        == 200
    )
    staff_b.post(f"{KEYS}/", {"action": "revoke", "_selected_action": [str(row.id)]})
    row.refresh_from_db()
    assert row.revoked_at is None

    staff_a.post(f"{KEYS}/", {"action": "revoke", "_selected_action": [str(row.id)]})
    row.refresh_from_db()
    assert row.revoked_at is not None
