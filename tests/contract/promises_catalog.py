"""docs/API.md's promises for the catalog service, one entry per operation (see
`test_schema_covers_contract`)."""

from __future__ import annotations

from typing import Any

from tests.contract.promise import PRODUCT_CARD, STOCK_STATUSES, Promise, page

CATALOG_PROMISES: list[Any] = [
    Promise(
        "catalog",
        "GET",
        "/api/v1/products/",
        "GET /api/v1/products/?merchant=&q=&cursor=&limit= ... id, merchant {id, name}, title, "
        "description, images [url], price, stock_status, variants [...]",
        status="200",
        response=page(PRODUCT_CARD),
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
    Promise(
        "catalog",
        "POST",
        "/internal/v1/restocks/",
        "POST /internal/v1/restocks/ {key, lines: [{variant_id, quantity}], reason} puts "
        "returned units back (idempotent by key)",
        status="200",
        request=("key", "lines[].variant_id", "lines[].quantity", "reason"),
    ),
]
