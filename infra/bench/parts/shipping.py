"""Shipping part: shipments created per second through the merchant API
(`POST /api/v1/merchant/orders/{id}/shipments/`, a `MerchantKey`, 3 lines of 1 unit each)
against the bare view served by the same gunicorn processes, with the ratio, on checkout
code over `clipcart_checkout_shipping_bench` (paid orders seeded by
bench_seed_shipping.py). Each request ships a different order (one unit of each of its
three lines), so every answer must be a 201; the shipments stored are counted after.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from harness.load import Scenario, get, run_scenarios
from harness.processes import serving
from harness.setup import (
    BARE_PATH,
    BENCH_DIR,
    AnswerError,
    BenchError,
    Request,
    Service,
    prepare,
    query,
)

SHIPPING = Service(
    "checkout",
    BENCH_DIR / "bench_seed_shipping.py",
    ("SERVICE_AUTH_KEYS", "JWT_HS256_SECRET"),
    database_name="clipcart_checkout_shipping_bench",
)
# What the merchant API should reach of the bare view's rate (printed, never asserted):
# a shipment is a locked transaction with five writes, the bare view none.
RATIO_AIM = 0.15


def shipment_requests(
    key: str, orders: dict[str, list[str]], clients: int
) -> Callable[[int, int], Request]:
    """Client c takes the orders c, c + clients, c + 2 clients, …: never one twice."""
    order_ids = list(orders)

    def request_for(client: int, n: int) -> Request:
        index = client + n * clients
        if index >= len(order_ids):
            raise BenchError("the bench ran out of seeded orders; seed more (ORDERS)")
        order_id = order_ids[index]
        body = json.dumps(
            {
                "carrier": "DHL",
                "tracking_number": f"BENCH-{index}",
                "tracking_url": f"https://track.example/BENCH-{index}",
                "lines": [{"line_id": line, "quantity": 1} for line in orders[order_id]],
            }
        ).encode()
        headers = {"Authorization": f"MerchantKey {key}", "Content-Type": "application/json"}
        return "POST", f"/api/v1/merchant/orders/{order_id}/shipments/", body, headers

    return request_for


def shipment_queries(port: int, key: str, order_id: str, lines: list[str]) -> int:
    """The SQL statements one shipment of `lines` ran (the bench middleware counts them)."""
    body = json.dumps(
        {
            "carrier": "DHL",
            "tracking_number": f"BENCH-COUNT-{order_id}",
            "lines": [{"line_id": line, "quantity": 1} for line in lines],
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/merchant/orders/{order_id}/shipments/",
        data=body,
        headers={
            "Authorization": f"MerchantKey {key}",
            "Content-Type": "application/json",
            "X-Bench-Count-Queries": "1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status != 201:
                raise BenchError(f"counting queries: a shipment answered {answer.status}")
            return int(answer.headers["X-Bench-Queries"])
    except urllib.error.URLError as error:
        raise BenchError(f"counting queries: {error}") from error


def created(status: int, content: bytes) -> int:
    if status != 201:
        raise AnswerError("not 201")
    return 1


def run_shipping(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, seeded = prepare(SHIPPING)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2
    database = environment[SHIPPING.database_variable]
    environment = environment | {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    try:
        with serving(SHIPPING, environment) as port:
            bare, shipments = run_scenarios(
                port,
                [
                    Scenario("bare DRF", get(BARE_PATH)),
                    Scenario(
                        "merchant API shipment",
                        shipment_requests(seeded["key"], seeded["orders"], arguments.concurrency),
                        count_units=created,
                    ),
                ],
                arguments,
            )
            # Two orders no client reached: one line shipped of the first, three of the other.
            order_ids = list(seeded["orders"])
            one, three = order_ids[-1], order_ids[-2]
            queries = {
                len(lines): shipment_queries(port, seeded["key"], order_id, lines)
                for order_id, lines in (
                    (one, seeded["orders"][one][:1]),
                    (three, seeded["orders"][three]),
                )
            }
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    # This run's orders only: the bench database keeps earlier runs' shipments.
    this_run = [list(seeded["orders"])]
    [(stored,)] = query(
        database, "SELECT count(*) FROM orders_shipment WHERE order_id::text = ANY(%s)", this_run
    )
    [(events,)] = query(
        database,
        "SELECT count(*) FROM outbox_outboxevent WHERE type = 'order.shipped'"
        " AND data->>'order_id' = ANY(%s)",
        this_run,
    )
    ratio = shipments.rate / bare.rate if bare.rate else 0.0
    stored -= len(queries)  # the two counted shipments
    events -= len(queries)
    print()
    print(
        f"shipping: {shipments.rate:,.1f} shipments/s through the merchant API (3 lines each), "
        f"p99 {shipments.percentile(0.99):.1f} ms | bare {bare.rate:,.0f} req/s | ratio "
        f"{ratio:.2f} (aim >= {RATIO_AIM:.2f}) | shipments stored {stored}, order.shipped "
        f"{events}, of {shipments.created_total} created (warm-up included) | queries per "
        f"shipment: {queries[1]} for 1 line, {queries[3]} for 3 | took "
        f"{time.monotonic() - began:.0f} s"
    )
    if shipments.failed_total or stored != shipments.created_total or events != stored:
        print("bench: FAILED: a shipment was not a 201, or they do not add up", file=sys.stderr)
        return 1
    return 0
