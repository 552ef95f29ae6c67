"""The checkout part, its flash sale: 500 buyers at once for a variant with 100 units,
every winner paying on the emulator, then the orders, payments and stock checked.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from harness.load import Outcome, exchange
from harness.setup import HOST, BenchError, Request, Service, query

# checkout
CHECKOUTS_PATH = "/api/v1/checkouts/"
WEBHOOK_PATH = "/api/v1/webhooks/stripe/"
FLASH_BUYERS = 500
SALE_REQUEST_TIMEOUT = 120  # s: the last of 500 buyers waits behind the other 499
PAID_WAIT_SECONDS = 60  # at most, for the webhooks to have every paid order marked paid
PAID_STALL_SECONDS = 15  # ... and at most this long without one more order paid
STRIPE_KEY = "sk_test_clipcart_bench"  # the emulator takes any sk_ key
SHIPPING_ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def checkout_request(authorization: str, lines: list[tuple[str, int]] | None) -> Request:
    """Buy now: `POST /api/v1/checkouts/` for these (variant, quantity) lines (None: the
    buyer's cart), with a fresh Idempotency-Key."""
    fields: dict[str, object] = {
        "email": "buyer@bench.example.com",
        "shipping_address": SHIPPING_ADDRESS,
    }
    if lines is not None:
        fields["lines"] = [{"variant_id": variant, "quantity": q} for variant, q in lines]
    body = json.dumps(fields).encode()
    headers = {
        "Authorization": authorization,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return "POST", CHECKOUTS_PATH, body, headers


def answer_label(status: int | str, content: bytes) -> int | str:
    """The status, and for a problem its code: 201, "409 out_of_stock", "ConnectionError"."""
    if not isinstance(status, int) or status < 400:
        return status
    try:
        code = json.loads(content).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"{status} {code}" if code else status


@dataclass
class Sale:
    outcome: Outcome  # the checkouts, labelled by `answer_label`
    payments: Counter[str] = field(default_factory=Counter)  # "succeeded", or what failed


def flash_sale(
    port: int,
    stripe_url: str,
    variant: str,
    authorizations: list[str],
    *,
    from_cart: bool = False,
    name: str = "flash sale",
) -> Sale:
    """One thread per buyer, all released at once: each checks out 1 unit of `variant`
    (or, `from_cart`, the cart each buyer filled before) and, on a 201, pays as the app's
    payment sheet would (the PaymentIntent updated with pm_card_visa, then confirmed) on
    the emulator. The rate is over the checkouts: from the release to the last answer."""
    import stripe

    from clipcart_tools.localstripe import stripe_client

    sale = Sale(Outcome(name=f"{name} ({len(authorizations)} buyers)", seconds=0.0))
    outcome = sale.outcome
    lock = threading.Lock()
    barrier = threading.Barrier(len(authorizations) + 1)
    answered: list[float] = []

    def pay(content: bytes) -> str:
        try:
            secret = json.loads(content)["payment"]["client_secret"]
            intent = secret.split("_secret_")[0]  # Stripe's `<id>_secret_<…>`
            client = stripe_client(stripe_url, STRIPE_KEY)
            client.v1.payment_intents.update(intent, {"payment_method": "pm_card_visa"})
            return str(client.v1.payment_intents.confirm(intent).status)
        except (stripe.StripeError, ValueError, KeyError, TypeError) as error:
            return f"{type(error).__name__}: {error}"[:200]

    def buyer(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=SALE_REQUEST_TIMEOUT)
        request = checkout_request(authorizations[index], None if from_cart else [(variant, 1)])
        barrier.wait()
        began = time.perf_counter()
        status, content = exchange(connection, request)
        finished = time.perf_counter()
        connection.close()
        label = answer_label(status, content)
        payment = pay(content) if status == 201 else ""
        with lock:
            outcome.latencies.append(finished - began)
            outcome.statuses[label] += 1
            answered.append(finished)
            outcome.created_total += status == 201
            if label not in (201, "409 out_of_stock") and not outcome.failure_sample:
                outcome.failure_sample = f"{label}: {content[:300].decode(errors='replace')}"
            if payment:
                sale.payments[payment] += 1

    threads = [
        threading.Thread(target=buyer, args=(i,), daemon=True) for i in range(len(authorizations))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=SALE_REQUEST_TIMEOUT + 60)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("flash sale: buyers did not finish")
    outcome.seconds = max(answered) - started
    return sale


def flash_orders(database: str, variant: str) -> Counter[str]:
    """Checkout's orders holding `variant`, by status."""
    rows = query(
        database,
        "SELECT o.status, count(*) FROM orders_order o WHERE EXISTS (SELECT 1 FROM "
        "orders_orderline l WHERE l.order_id = o.id AND l.variant_id = %s) GROUP BY o.status",
        [variant],
    )
    return Counter({status: count for status, count in rows})


def wait_until_paid(database: str, variant: str, expected: int) -> tuple[int, float]:
    """Poll until `expected` orders of `variant` are paid: at most PAID_WAIT_SECONDS, and
    at most PAID_STALL_SECONDS without one more. (paid, seconds waited)."""
    started = progressed = time.monotonic()
    paid = -1
    while True:
        now_paid = flash_orders(database, variant)["paid"]
        now = time.monotonic()
        if now_paid != paid:
            paid, progressed = now_paid, now
        if (
            paid >= expected
            or now - started > PAID_WAIT_SECONDS
            or now - progressed > PAID_STALL_SECONDS
        ):
            return paid, now - started
        time.sleep(0.2)


def payments_reconcile(service: Service, environment: dict[str, str]) -> int:
    """Checkout's safety net, once: `orders.services.payments_reconcile(older_than=0)`
    through `manage.py shell`. How many orders it changed."""
    finished = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from datetime import timedelta\n"
            "from orders.services import payments_reconcile\n"
            "print(payments_reconcile(older_than=timedelta(0)))",
        ],
        cwd=service.directory,
        env=environment,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return int(finished.stdout.split()[-1])


def webhook_events(database: str) -> tuple[Counter[str], float]:
    """Checkout's webhook log by status (processed, received …), and the seconds from the
    first event received to the last one applied."""
    rows = query(database, "SELECT status, count(*) FROM payments_webhookevent GROUP BY status")
    [(span,)] = query(
        database,
        "SELECT EXTRACT(EPOCH FROM max(processed_at) - min(received_at)) "
        "FROM payments_webhookevent",
    )
    return Counter({status: count for status, count in rows}), float(span or 0)


def variant_stock(database: str, variant: str) -> tuple[int, int]:
    """(on hand, reserved) of a catalog variant."""
    [(on_hand, reserved)] = query(
        database,
        "SELECT quantity_on_hand, quantity_reserved FROM products_variant WHERE id = %s",
        [variant],
    )
    return int(on_hand), int(reserved)


def webhook_deliveries(emulator_log: str) -> Counter[str]:
    """What the emulator logged of its webhook deliveries: delivered, failed."""
    return Counter(
        "delivered" if "successfully delivered" in line else "failed"
        for line in emulator_log.splitlines()
        if 'webhook "' in line
    )
