"""Every path and field that docs/API.md promises is in the owning service's OpenAPI
schema (the one it serves at /api/schema/), generated in-process by drf-spectacular.

The promises are written out below as a table, one entry per operation, each quoting the
API.md text it comes from: reading field lists out of prose would be brittle. A path
that API.md names and the table does not fails `test_the_table_covers_every_path_of_the
_contract`, so a new path in API.md needs a new entry here (and a schema that has it).

Lists follow API.md's Lists convention, `{"results": [...], "next": ...}`: the feed's
items are under `results`, where the video section's prose says `videos`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api_contract import SERVICES, contract_paths, path_shape
from tests.contract import openapi

PRODUCT_CARD = (
    "id",
    "merchant.id",
    "merchant.name",
    "title",
    "description",
    "images",
    "price.amount",
    "price.currency",
    "stock_status",
    "variants[].id",
    "variants[].sku",
    "variants[].title",
    "variants[].options",
    "variants[].price.amount",
    "variants[].price.currency",
    "variants[].stock_status",
)
STOCK_STATUSES = frozenset({"in_stock", "low_stock", "out_of_stock"})
VIDEO = (
    "id",
    "creator.id",
    "creator.handle",
    "creator.display_name",
    "creator.avatar_url",
    "stream_url",
    "thumbnail_url",
    "caption",
    "duration_ms",
    "published_at",
    "tags[].id",
    "tags[].start_ms",
    "tags[].end_ms",
    "tags[].x",
    "tags[].y",
    "tags[].product.id",
    "tags[].product.title",
    "tags[].product.image",
    "tags[].product.price.amount",
    "tags[].product.stock_status",
    "tags[].variant_id",
)
CREATOR = ("id", "handle", "display_name", "avatar_url")
ORDER_STATUSES = frozenset(
    {"pending_payment", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded"}
)
EVENT_TYPES = frozenset(
    {"impression", "view", "tag_tap", "product_view", "add_to_cart", "like", "unlike", "share"}
)


def _page(fields: tuple[str, ...]) -> tuple[str, ...]:
    return ("next", *(f"results[].{name}" for name in fields))


@dataclass(frozen=True)
class Promise:
    """What API.md says about one operation of one service."""

    service: str
    method: str
    path: str  # as API.md writes it
    api_md: str  # the words of API.md this entry comes from
    status: str = ""  # the success answer whose body `response` describes
    response: tuple[str, ...] = ()
    request: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    # field → the values API.md lists for it (in the response, or `request.<field>`)
    enums: dict[str, frozenset[str]] = field(default_factory=dict)


PROMISES: list[Any] = [
    # --- catalog
    Promise(
        "catalog",
        "GET",
        "/api/v1/products/",
        "GET /api/v1/products/?merchant=&q=&cursor=&limit= ... id, merchant {id, name}, title, "
        "description, images [url], price, stock_status, variants [...]",
        status="200",
        response=_page(PRODUCT_CARD),
        parameters=("merchant", "q", "cursor", "limit"),
        enums={"results[].stock_status": STOCK_STATUSES},
    ),
    Promise(
        "catalog",
        "GET",
        "/api/v1/products/{id}/",
        "GET /api/v1/products/{id}/ (the same card)",
        status="200",
        response=PRODUCT_CARD,
        enums={"stock_status": STOCK_STATUSES, "variants[].stock_status": STOCK_STATUSES},
    ),
    Promise(
        "catalog",
        "POST",
        "/internal/v1/quotes/",
        "POST /internal/v1/quotes/ {lines: [{variant_id, quantity}]} → priced lines",
        status="200",
        request=("lines[].variant_id", "lines[].quantity"),
        response=("lines[].variant_id", "lines[].unit_price.amount", "lines[].line_total.amount"),
    ),
    Promise(
        "catalog",
        "POST",
        "/internal/v1/reservations/",
        "POST /internal/v1/reservations/ {key, lines: [{variant_id, quantity}], ttl_seconds} "
        "→ {id, expires_at, lines}",
        status="201",
        request=("key", "lines[].variant_id", "lines[].quantity", "ttl_seconds"),
        response=("id", "expires_at", "lines[].variant_id", "lines[].quantity"),
    ),
    Promise(
        "catalog",
        "POST",
        "/internal/v1/reservations/{id}/commit/",
        "POST /internal/v1/reservations/{id}/commit/ ... idempotent",
        status="200",
    ),
    Promise(
        "catalog",
        "POST",
        "/internal/v1/reservations/{id}/release/",
        "... and .../release/ are idempotent",
        status="200",
    ),
    # --- video
    Promise(
        "video",
        "GET",
        "/api/v1/feed/",
        "GET /api/v1/feed/?cursor=&limit=: videos [{id, creator {id, handle, display_name, "
        "avatar_url}, stream_url, thumbnail_url, caption, duration_ms, published_at, tags [{id, "
        "start_ms, end_ms, x, y, product {id, title, image, price, stock_status}, variant_id}]}]",
        status="200",
        response=_page(VIDEO),
        parameters=("cursor", "limit"),
        enums={"results[].tags[].product.stock_status": STOCK_STATUSES},
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "Feed modes: ?mode=for_you (default with a token), trending (default without), latest.",
            status="200",
            parameters=("mode",),
        ),
        id="GET /api/v1/feed/ ?mode",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "Product cards in feeds also carry sold_via_videos_30d.",
            status="200",
            response=("results[].tags[].product.sold_via_videos_30d",),
        ),
        id="GET /api/v1/feed/ sold_via_videos_30d",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/hashtags/{tag}/videos/",
            "Discovery: GET /api/v1/hashtags/{tag}/videos/",
            status="200",
            response=("results[].id", "results[].tags[].product.sold_via_videos_30d", "next"),
        ),
        id="GET /api/v1/hashtags/{tag}/videos/",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/search/",
            "GET /api/v1/search/?q=&type=videos|products|creators",
            status="200",
            parameters=("q", "type", "cursor", "limit"),
            response=("results[].id", "next"),
        ),
        id="GET /api/v1/search/",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/videos/{id}/",
        "GET /api/v1/videos/{id}/ the same shape for one video",
        status="200",
        response=VIDEO,
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/events/",
        "POST /api/v1/events/ (user) {events: [{event_id, type, video_id, tag_id?, product_id?, "
        "occurred_at, watch_ms?}]} ... → 202 {accepted, duplicates, rejected: [{index, code}]}",
        status="202",
        request=tuple(
            f"events[].{name}"
            for name in (
                "event_id",
                "type",
                "video_id",
                "tag_id",
                "product_id",
                "occurred_at",
                "watch_ms",
            )
        ),
        response=("accepted", "duplicates", "rejected[].index", "rejected[].code"),
        enums={"request.events[].type": EVENT_TYPES},
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/creators/",
        "POST /api/v1/creators/ {handle, display_name, avatar_url?} → the caller's creator profile",
        status="201",
        request=("handle", "display_name", "avatar_url"),
        response=CREATOR,
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/",
        "GET /api/v1/creators/me/",
        status="200",
        response=CREATOR,
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/",
        "POST /api/v1/videos/ {stream_url, thumbnail_url, caption, duration_ms} (draft)",
        status="201",
        request=("stream_url", "thumbnail_url", "caption", "duration_ms"),
        response=("id",),
    ),
    Promise(
        "video", "PATCH", "/api/v1/videos/{id}/", "PATCH/DELETE /api/v1/videos/{id}/", status="200"
    ),
    Promise(
        "video", "DELETE", "/api/v1/videos/{id}/", "PATCH/DELETE /api/v1/videos/{id}/", status="204"
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/publish/",
        "POST /api/v1/videos/{id}/publish/",
        status="200",
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/tags/",
        "POST /api/v1/videos/{id}/tags/ {product_id, variant_id?, start_ms, end_ms, x, y, "
        "keyframes?: [{t_ms, x, y}]}",
        status="201",
        request=(
            "product_id",
            "variant_id",
            "start_ms",
            "end_ms",
            "x",
            "y",
            "keyframes[].t_ms",
            "keyframes[].x",
            "keyframes[].y",
        ),
    ),
    Promise(
        "video",
        "PATCH",
        "/api/v1/videos/{id}/tags/{tag_id}/",
        "PATCH/DELETE /api/v1/videos/{id}/tags/{tag_id}/",
        status="200",
    ),
    Promise(
        "video",
        "DELETE",
        "/api/v1/videos/{id}/tags/{tag_id}/",
        "PATCH/DELETE /api/v1/videos/{id}/tags/{tag_id}/",
        status="204",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/earnings/",
        "GET /api/v1/creators/me/earnings/?from=&to=&model=: attributed sales and commission, "
        "by video, pending vs settled.",
        status="200",
        parameters=("from", "to", "model"),
        response=(
            "videos[].video.id",
            "videos[].sales.amount",
            "videos[].commission.amount",
            "videos[].pending.net",
            "videos[].pending.commission",
            "videos[].settled.net",
            "videos[].settled.commission",
        ),
    ),
    # Social and feedback (issue 19)
    Promise(
        "video",
        "POST",
        "/api/v1/creators/{id}/follow/",
        "Social: POST/DELETE /api/v1/creators/{id}/follow/ (idempotent); creator cards carry "
        "followers",
        status="200",
        response=(*CREATOR, "followers"),
    ),
    Promise(
        "video",
        "DELETE",
        "/api/v1/creators/{id}/follow/",
        "Social: POST/DELETE /api/v1/creators/{id}/follow/ (idempotent)",
        status="204",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/following/",
        "GET /api/v1/creators/me/following/",
        status="200",
        response=_page(tuple(f"creator.{name}" for name in (*CREATOR, "followers"))),
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "?mode=following on the feed; creator cards carry followers, video cards likes.",
            status="200",
            parameters=("mode",),
            response=("results[].likes", "results[].creator.followers"),
        ),
        id="GET /api/v1/feed/ following, likes, followers",
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/not-interested/",
        "POST /api/v1/videos/{id}/not-interested/ {reason?: creator | product | seen_too_often}",
        status="204",
        request=("reason",),
        enums={"request.reason": frozenset({"creator", "product", "seen_too_often"})},
    ),
    # --- checkout
    Promise(
        "checkout",
        "GET",
        "/api/v1/cart/",
        "GET /api/v1/cart/ → {id, currency, lines [{id, variant_id, product_id, title, quantity, "
        "unit_price, line_total, source {video_id, tag_id} | null}], subtotal}",
        status="200",
        response=(
            "id",
            "currency",
            "subtotal.amount",
            *(
                f"lines[].{name}"
                for name in (
                    "id",
                    "variant_id",
                    "product_id",
                    "title",
                    "quantity",
                    "unit_price.amount",
                    "line_total.amount",
                    "source.video_id",
                    "source.tag_id",
                )
            ),
        ),
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/cart/lines/",
        "POST /api/v1/cart/lines/ {variant_id, quantity, source?: {video_id, tag_id}}",
        status="201",
        request=("variant_id", "quantity", "source.video_id", "source.tag_id"),
    ),
    Promise(
        "checkout",
        "PATCH",
        "/api/v1/cart/lines/{id}/",
        "PATCH /api/v1/cart/lines/{id}/ {quantity}",
        status="200",
        request=("quantity",),
    ),
    Promise(
        "checkout",
        "DELETE",
        "/api/v1/cart/lines/{id}/",
        "DELETE /api/v1/cart/lines/{id}/",
        status="200",
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/checkouts/",
        "POST /api/v1/checkouts/ (Idempotency-Key) {email, shipping_address {name, line1, line2?, "
        "city, postal_code, country}, lines?: [...]} → 201 {order {id, status, total, lines}, "
        "payment {provider, client_secret, customer, customer_session_client_secret | "
        "ephemeral_key | null, publishable_key}}",
        status="201",
        parameters=("Idempotency-Key",),
        request=(
            "email",
            "lines",
            *(
                f"shipping_address.{name}"
                for name in ("name", "line1", "line2", "city", "postal_code", "country")
            ),
        ),
        response=(
            "order.id",
            "order.status",
            "order.total.amount",
            "order.lines",
            *(
                f"payment.{name}"
                for name in (
                    "provider",
                    "client_secret",
                    "customer",
                    "customer_session_client_secret",
                    "ephemeral_key",
                    "publishable_key",
                )
            ),
        ),
        enums={"order.status": ORDER_STATUSES},
    ),
    Promise(
        "checkout",
        "GET",
        "/api/v1/orders/",
        "GET /api/v1/orders/ ...: status one of pending_payment, paid, fulfilled, cancelled, "
        "refunded, partially_refunded",
        status="200",
        response=_page(("id", "status")),
        enums={"results[].status": ORDER_STATUSES},
    ),
    Promise(
        "checkout",
        "GET",
        "/api/v1/orders/{id}/",
        "GET /api/v1/orders/{id}/: status one of ...",
        status="200",
        response=("id", "status"),
        enums={"status": ORDER_STATUSES},
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/orders/{id}/cancel/",
        "POST /api/v1/orders/{id}/cancel/ while pending_payment",
        status="200",
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/webhooks/stripe/",
        "POST /api/v1/webhooks/stripe/ (Stripe): ... 2xx for duplicates",
        status="200",
    ),
]


def _promise(entry: Any) -> Promise:
    return entry.values[0] if hasattr(entry, "values") else entry


def _parameters() -> list[Any]:
    return [
        entry
        if hasattr(entry, "values")
        else pytest.param(entry, id=f"{entry.method} {entry.path}")
        for entry in PROMISES
    ]


def _body(schema: openapi.Schema, node: openapi.Schema) -> openapi.Schema:
    content = node.get("content", {})
    assert "application/json" in content, f"no JSON body; has {sorted(content)}"
    return openapi.resolved(schema, content["application/json"]["schema"])


def test_the_table_covers_every_path_of_the_contract():
    documented = contract_paths()
    listed = {(p.service, path_shape(p.path)) for p in map(_promise, PROMISES)}

    assert sorted(documented) == SERVICES
    missing = {
        (service, path_shape(path)) for service, paths in documented.items() for path in paths
    } - listed
    assert missing == set(), "paths in docs/API.md without an entry in PROMISES"


@pytest.mark.parametrize("promise", _parameters())
def test_the_owning_services_schema_keeps_the_contracts_promise(promise: Promise):
    schema = openapi.service_schema(promise.service)
    operation = openapi.operation(schema, promise.method, promise.path)

    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    assert set(promise.parameters) <= names, (
        f"parameters missing: {set(promise.parameters) - names}"
    )
    if promise.status:
        assert promise.status in operation["responses"], sorted(operation["responses"])
    response = _body(schema, operation["responses"][promise.status]) if promise.response else {}
    for name in promise.response:
        openapi.field(schema, response, name)
    request = _body(schema, operation["requestBody"]) if promise.request else {}
    for name in promise.request:
        openapi.field(schema, request, name)
    for name, values in promise.enums.items():
        if name.startswith("request."):
            found = openapi.field(schema, request, name.removeprefix("request."))
        else:
            found = openapi.field(schema, response, name)
        assert set(found.get("enum", [])) - {None} == values, name
