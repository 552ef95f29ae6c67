from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from products.models import Product
from products.services import product_changes_publish, products_set_status
from tests.factories import MerchantFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_product_list_shows_active_products_with_cards(api_client):
    product = ProductFactory(title="Trail jacket")
    VariantFactory(product=product, price_amount=2500, quantity_on_hand=3)
    VariantFactory(product=product, price_amount=1999, quantity_on_hand=0)
    ProductFactory(status=Product.Status.DRAFT)
    ProductFactory(status=Product.Status.ARCHIVED)

    response = api_client.get("/api/v1/products/")

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [card["id"] for card in body["results"]] == [str(product.id)]
    card = body["results"][0]
    assert card["merchant"] == {"id": str(product.merchant.id), "name": product.merchant.name}
    assert card["price"] == {"amount": 1999, "currency": "EUR"}
    assert card["stock_status"] == "low_stock"
    assert [v["stock_status"] for v in card["variants"]] == ["low_stock", "out_of_stock"]
    assert card["images"] == ["https://img.example.com/p.jpg"]


def test_product_list_paginates_by_cursor_without_repeats(api_client):
    created = {str(VariantFactory().product.id) for _ in range(5)}
    seen: list[str] = []
    url = "/api/v1/products/?limit=2"
    while url:
        body = api_client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [card["id"] for card in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_product_list_filters_by_merchant(api_client):
    mine = VariantFactory().product
    VariantFactory()
    response = api_client.get(f"/api/v1/products/?merchant={mine.merchant.id}")
    assert [card["id"] for card in response.json()["results"]] == [str(mine.id)]


def test_product_search_uses_full_text_on_title_and_description(api_client):
    jacket = ProductFactory(title="Waterproof hiking jackets", description="Breathable shell")
    boots = ProductFactory(title="Leather boots", description="For jackets lovers too")
    ProductFactory(title="Coffee mug", description="Ceramic")

    body = api_client.get("/api/v1/products/?q=jacket").json()

    assert {card["id"] for card in body["results"]} == {str(jacket.id), str(boots.id)}


@pytest.mark.parametrize(
    ("query", "field"),
    [("merchant=not-a-uuid", "merchant"), ("q=" + "x" * 201, "q"), ("cursor=garbage", "cursor")],
)
def test_product_list_rejects_bad_parameters_with_problem_json(api_client, query, field):
    response = api_client.get(f"/api/v1/products/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert [error["field"] for error in body["errors"]] == [field]


def test_product_detail_returns_active_product_and_404s_otherwise(api_client):
    active = VariantFactory().product
    draft = VariantFactory(product=ProductFactory(status=Product.Status.DRAFT)).product

    assert api_client.get(f"/api/v1/products/{active.id}/").json()["id"] == str(active.id)
    for missing in (draft.id, uuid.uuid4()):
        response = api_client.get(f"/api/v1/products/{missing}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_unknown_url_answers_problem_json_404(api_client):
    response = api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_bad_token_on_a_public_endpoint_is_401_not_anonymous(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def _list_queries(api_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/products/?limit=100").status_code == 200
    return len(queries)


def test_product_list_query_count_is_the_same_for_1_and_50_products(api_client):
    merchant = MerchantFactory()
    VariantFactory(product=ProductFactory(merchant=merchant))
    one = _list_queries(api_client)
    for _ in range(49):
        product = ProductFactory(merchant=MerchantFactory())
        VariantFactory.create_batch(3, product=product)
    fifty = _list_queries(api_client)
    assert one == fifty == 1  # cards are stored: the page is one query


def test_an_empty_search_is_no_search_as_the_schema_says(api_client):
    # `?q=` (a cleared search box) lists every active product; the schema allows it.
    product = VariantFactory().product

    response = api_client.get("/api/v1/products/?q=")
    schema = api_client.get("/api/schema/?format=json").json()

    assert response.status_code == 200
    assert [card["id"] for card in response.json()["results"]] == [str(product.id)]
    [q] = [
        parameter
        for parameter in schema["paths"]["/api/v1/products/"]["get"]["parameters"]
        if parameter["name"] == "q"
    ]
    assert q["schema"].get("minLength", 0) == 0


def test_a_stored_product_list_page_and_its_304_cost_no_query(api_client):
    VariantFactory(product=ProductFactory())
    first = api_client.get("/api/v1/products/?limit=100")

    with CaptureQueriesContext(connection) as stored:
        again = api_client.get("/api/v1/products/?limit=100")
    with CaptureQueriesContext(connection) as not_modified:
        unchanged = api_client.get("/api/v1/products/?limit=100", HTTP_IF_NONE_MATCH=first["ETag"])

    assert (len(stored), len(not_modified)) == (0, 0)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert unchanged.status_code == 304 and unchanged["ETag"] == first["ETag"]


def test_a_price_change_shows_on_the_next_product_list_page(api_client):
    variant = VariantFactory(price_amount=2500)
    before = api_client.get("/api/v1/products/")
    assert before.json()["results"][0]["price"]["amount"] == 2500

    type(variant).objects.filter(id=variant.id).update(price_amount=1800)
    with transaction.atomic():
        product_changes_publish(product_ids=[variant.product_id])  # as every write does
    after = api_client.get("/api/v1/products/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after.json()["results"][0]["price"]["amount"] == 1800
    assert after["ETag"] != before["ETag"]


def test_an_archived_product_leaves_the_stored_product_list(api_client):
    product = VariantFactory().product
    assert len(api_client.get("/api/v1/products/").json()["results"]) == 1

    products_set_status(product_ids=[product.id], status=Product.Status.ARCHIVED)

    assert api_client.get("/api/v1/products/").json()["results"] == []


def test_each_query_of_the_product_list_is_a_page_of_its_own(api_client):
    shoes, bags = (ProductFactory(title="Running shoes"), ProductFactory(title="Leather bag"))
    VariantFactory(product=shoes)
    VariantFactory(product=bags)

    everything = api_client.get("/api/v1/products/").json()["results"]
    found = api_client.get("/api/v1/products/?q=shoes").json()["results"]
    one = api_client.get("/api/v1/products/?limit=1").json()

    assert len(everything) == 2
    assert [card["id"] for card in found] == [str(shoes.id)]
    assert len(one["results"]) == 1 and one["next"] is not None
