"""Links from checkout's admin to the other two: an order line links to its product in
catalog's admin and to the video it was bought from in video's; and the order list takes
the filter catalog's product page links with (`?lines__product_id=`), still scoped."""

from __future__ import annotations

import uuid

import pytest

from orders.models import Order, OrderLine
from tests.admin.conftest import ORDERS, _line, _listed, _order

pytestmark = pytest.mark.django_db

PRODUCT_FILTER = "lines__product_id"  # as catalog's product page links


def test_an_order_line_links_to_its_product_and_the_video_it_was_bought_from(
    staff_client, order_of_a, settings
):
    video_id = uuid.uuid4()
    OrderLine.objects.filter(order=order_of_a).update(source_video_id=video_id)
    line = OrderLine.objects.get(order=order_of_a)

    content = staff_client.get(f"{ORDERS}/{order_of_a.id}/change/").content.decode()

    catalog, video = settings.CONSOLE_ADMIN_URLS["catalog"], settings.CONSOLE_ADMIN_URLS["video"]
    assert catalog == "http://127.0.0.1:8001/catalog/admin/"  # the embedded run's ports
    assert f'<a href="{catalog}products/product/{line.product_id}/change/">In catalog</a>' in (
        content
    )
    assert f'<a href="{video}videos/video/{video_id}/change/">The video</a>' in content


def test_behind_the_gateway_the_links_are_paths_on_the_one_origin(
    staff_client, order_of_a, settings
):
    settings.CONSOLE_ADMIN_URLS = {
        service: f"/{service}/admin/" for service in ["catalog", "video", "checkout"]
    }
    line = OrderLine.objects.get(order=order_of_a)

    content = staff_client.get(f"{ORDERS}/{order_of_a.id}/change/").content.decode()

    assert f'href="/catalog/admin/products/product/{line.product_id}/change/"' in content
    assert "The video</a>" not in content  # bought from no video


def test_the_order_list_filters_by_product_within_the_staffs_scope(
    staff_client, variants, variant_b_row, merchant_a, merchant_b, order_of_a
):
    other = next(v for v in variants if v["product_id"] != variants[0]["product_id"])
    both = _order(
        "bo@example.com",
        [_line(other, merchant_a, unit=3100), _line(variant_b_row, merchant_b, unit=1775)],
    )
    second = _order("di@example.com", [_line(other, merchant_a, unit=3100)])
    of_b_only = _order("ed@example.com", [_line(variant_b_row, merchant_b, unit=900)])

    by_a_product = staff_client.get(f"{ORDERS}/", {PRODUCT_FILTER: other["product_id"]})
    by_b_product = staff_client.get(f"{ORDERS}/", {PRODUCT_FILTER: variant_b_row["product_id"]})

    assert _listed(by_a_product) == {both.id, second.id}
    # B's product: only the orders A's staff see anyway (those with a line of their own).
    assert _listed(by_b_product) == {both.id}
    assert of_b_only.id not in _listed(by_b_product)
    assert Order.objects.count() == 4


def test_a_product_filter_that_is_not_an_id_is_the_admins_own_error_page(staff_client, order_of_a):
    response = staff_client.get(f"{ORDERS}/", {"lines__product_id": "not-an-id"})

    assert (response.status_code, response["Location"]) == (302, f"{ORDERS}/?e=1")


def test_an_unknown_filter_is_still_refused(staff_client, order_of_a):
    # Django's answer to a lookup the admin does not allow: 400, as before.
    response = staff_client.get(f"{ORDERS}/", {"lines__merchant_name": "x"})

    assert response.status_code == 400
