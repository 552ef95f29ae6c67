"""docs/API.md's promises for the checkout service, one entry per operation (see
`test_schema_covers_contract`)."""

from __future__ import annotations

from typing import Any

from tests.contract.promise import ORDER_STATUSES, Promise, page

RETURN_STATUSES = frozenset({"requested", "approved", "rejected", "received", "refunded"})

CHECKOUT_PROMISES: list[Any] = [
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
                    "flash_deal.price.amount",
                )
            ),
            # "Discounts": what the cart charges, for the checkout's `prices_changed`.
            "price_version",
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
        "/api/v1/cart/discount/",
        "POST /api/v1/cart/discount/ {code} … The cart and the order show discounts [{code | "
        "null, kind, description, amount}] and per line list_price, discount, line_total (net).",
        status="200",
        request=("code",),
        response=(
            "discounts[].code",
            "discounts[].kind",
            "discounts[].description",
            "discounts[].amount.amount",
            "lines[].list_price.amount",
            "lines[].discount.amount",
            "lines[].line_total.amount",
        ),
    ),
    Promise(
        "checkout",
        "DELETE",
        "/api/v1/cart/discount/{code}/",
        "DELETE /api/v1/cart/discount/{code}/",
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
            "price_version",
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
        response=page(("id", "status")),
        enums={"results[].status": ORDER_STATUSES},
    ),
    Promise(
        "checkout",
        "GET",
        "/api/v1/orders/{id}/",
        "GET /api/v1/orders/{id}/: status one of ...; shipments [{id, merchant {id, name}, "
        "carrier, tracking_number, tracking_url, shipped_at, delivered_at, lines [{line_id, "
        "quantity}]}], ... and per line fulfilment_status",
        status="200",
        response=(
            "id",
            "status",
            "lines[].fulfilment_status",
            *(
                f"shipments[].{name}"
                for name in (
                    "id",
                    "merchant",
                    "carrier",
                    "tracking_number",
                    "tracking_url",
                    "shipped_at",
                    "delivered_at",
                    "lines[].line_id",
                    "lines[].quantity",
                )
            ),
        ),
        enums={"status": ORDER_STATUSES},
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/orders/{id}/cancel/",
        "POST /api/v1/orders/{id}/cancel/ while pending_payment; after payment, cancels (and "
        "refunds) the lines not yet shipped, {lines?: [{line_id, quantity}]}",
        status="200",
        request=("lines[].line_id", "lines[].quantity"),
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/orders/{id}/returns/",
        "POST /api/v1/orders/{id}/returns/ {lines: [{line_id, quantity}], reason, note?} ... → "
        "{id, status: requested, lines, ...}; statuses requested → approved | rejected → "
        "received → refunded",
        status="201",
        parameters=("Idempotency-Key",),
        request=("lines[].line_id", "lines[].quantity", "reason", "note"),
        response=("id", "status", "lines[].line_id", "lines[].quantity"),
        enums={"status": RETURN_STATUSES},
    ),
    Promise(
        "checkout",
        "GET",
        "/api/v1/orders/{id}/returns/",
        "GET /api/v1/orders/{id}/returns/",
        status="200",
        response=page(("id", "status", "lines")),
        enums={"results[].status": RETURN_STATUSES},
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/webhooks/stripe/",
        "POST /api/v1/webhooks/stripe/ (Stripe): ... 2xx for duplicates",
        status="200",
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/webhooks/tracking/",
        "Carrier tracking: POST /api/v1/webhooks/tracking/ — one generic signed JSON format "
        "{tracking_number, carrier, status: in_transit | delivered | exception, occurred_at} "
        "(... header X-Clipcart-Signature: t=<unix>,v1=<hex>, 300 s tolerance)",
        status="200",
        parameters=("X-Clipcart-Signature",),
        request=("tracking_number", "carrier", "status", "occurred_at"),
        enums={"request.status": frozenset({"in_transit", "delivered", "exception"})},
    ),
    Promise(
        "checkout",
        "GET",
        "/api/v1/merchant/orders/",
        "Merchant systems: /api/v1/merchant/... with Authorization: MerchantKey <key>: GET "
        "orders/?status=to_ship (their lines only)",
        status="200",
        parameters=("status",),
        response=page(("id", "status", "lines[].id")),
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/merchant/orders/{id}/shipments/",
        "POST orders/{id}/shipments/ {carrier, tracking_number, tracking_url?, lines}",
        status="201",
        request=("carrier", "tracking_number", "tracking_url", "lines"),
    ),
    Promise(
        "checkout",
        "POST",
        "/api/v1/merchant/shipments/{id}/delivered/",
        "POST shipments/{id}/delivered/",
        status="200",
    ),
]
