"""The product admin's thumbnails, and its links to the other admins: a product's page
links to the videos tagging it (video's admin) and to its orders (checkout's), at the
addresses the browser reaches them (`CONSOLE_ADMIN_URLS`)."""

from __future__ import annotations

import pytest

from products.models import Product
from tests.admin_pages import PRODUCTS

pytestmark = pytest.mark.django_db


def test_the_product_list_shows_the_first_image_as_a_thumbnail(staff_client, product_a, merchant_a):
    Product.objects.filter(id=product_a.id).update(
        images=['https://img.example.com/"x".jpg', "https://img.example.com/second.jpg"]
    )

    content = staff_client.get(f"{PRODUCTS}/").content.decode()

    assert '<img src="https://img.example.com/&quot;x&quot;.jpg" alt=""' in content
    assert "second.jpg" not in content


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:image/png;base64,AAAA", "//img.example.com/p.jpg"]
)
def test_an_image_that_is_not_an_http_address_gets_no_thumbnail(staff_client, product_a, url):
    Product.objects.filter(id=product_a.id).update(images=[url])

    content = staff_client.get(f"{PRODUCTS}/").content.decode()

    assert "clipcart-thumbnail" not in content
    assert url not in content


def test_a_products_page_links_to_its_videos_and_orders_in_the_other_admins(
    staff_client, product_a, settings
):
    content = staff_client.get(f"{PRODUCTS}/{product_a.id}/change/").content.decode()

    assert (
        f'<a href="http://127.0.0.1:8002/video/admin/videos/video/?tags__product_id={product_a.id}">'
        "Videos tagging it</a>"
    ) in content
    assert (
        '<a href="http://127.0.0.1:8003/checkout/admin/orders/order/'
        f'?lines__product_id={product_a.id}">Its orders</a>'
    ) in content


def test_behind_the_gateway_the_links_are_paths_on_the_one_origin(
    staff_client, product_a, settings
):
    settings.CONSOLE_ADMIN_URLS = {
        service: f"/{service}/admin/" for service in ["catalog", "video", "checkout"]
    }

    content = staff_client.get(f"{PRODUCTS}/{product_a.id}/change/").content.decode()

    assert f'href="/video/admin/videos/video/?tags__product_id={product_a.id}"' in content
    assert f'href="/checkout/admin/orders/order/?lines__product_id={product_a.id}"' in content


def test_the_add_page_has_no_links_yet(staff_client):
    content = staff_client.get(f"{PRODUCTS}/add/").content.decode()

    assert "Videos tagging it" not in content
