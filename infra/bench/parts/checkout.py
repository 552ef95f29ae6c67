"""Checkout part: buy-now checkouts, then a flash sale (`parts.flash_sale`), then the
promotions sale against the same sale without promotions (`parts.promo_sale`), with its
own catalog, the Stripe emulator and a checkout Celery worker on a bench broker database.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from harness.load import Scenario, bearer, run_scenarios
from harness.processes import (
    celery_worker,
    free_port,
    serving_together,
    stripe_emulator,
    wait_for_consumer,
)
from harness.setup import (
    CATALOG_FOR_CHECKOUT,
    CHECKOUT,
    HOST,
    WORKERS,
    AnswerError,
    BenchError,
    Request,
    database_at,
    ensure_database,
    log_tail,
    prepare,
    query,
)
from parts.flash_sale import (
    FLASH_BUYERS,
    STRIPE_KEY,
    WEBHOOK_PATH,
    checkout_request,
    flash_orders,
    flash_sale,
    payments_reconcile,
    variant_stock,
    wait_until_paid,
    webhook_deliveries,
    webhook_events,
)
from parts.promo_sale import promo_check, promo_sales

WEBHOOK_SECRET = "whsec_clipcart_bench"
BROKER_DATABASE = "clipcart_checkout_bench_broker"
CHECKOUT_QUEUES = ("checkout", "checkout.events")


def checkout_environment(
    environment: dict[str, str], catalog_port: int, stripe_url: str, broker_url: str | None
) -> dict[str, str]:
    """Checkout's processes (gunicorn, `manage.py`, its Celery worker): the bench catalog,
    the emulator and its webhook secret, the broker (if given; else the bench's in-memory
    one); order events only to checkout's own queue (nobody else consumes a bench broker);
    emails dropped."""
    changes = {
        "CATALOG_URL": f"http://{HOST}:{catalog_port}",
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ORDER_EVENT_QUEUES": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    if broker_url:
        changes["CELERY_BROKER_URL"] = broker_url
    return environment | changes


def buy_now(variants: list[str], authorizations: list[str]) -> Callable[[int, int], Request]:
    """1, 2 or 3 lines in turn, distinct variants spread over the seeded ones; one user
    per client."""

    def request_for(client: int, n: int) -> Request:
        first = 7 * client + 3 * n
        lines = [(variants[(first + k) % len(variants)], 1) for k in range(1 + (client + n) % 3)]
        return checkout_request(authorizations[client % len(authorizations)], lines)

    return request_for


def created(status: int, content: bytes) -> int:
    """A checkout answer must be a 201 (count_units for run_load)."""
    if status != 201:
        raise AnswerError("not 201")
    return 1


def run_checkout(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    webhooks = arguments.paid_by == "webhooks"
    try:
        # Two databases to migrate and seed: side by side (separate processes).
        with ThreadPoolExecutor(2) as pool:
            catalog_job = pool.submit(prepare, CATALOG_FOR_CHECKOUT)
            checkout_job = pool.submit(prepare, CHECKOUT)
            catalog_environment, seeded = catalog_job.result()
            environment, _ = checkout_job.result()
        if webhooks:
            # A broker of its own, emptied each run: the bench's webhook tasks and order
            # events never reach `make run`'s workers, nor stale ones the bench's.
            ensure_database(environment["DATABASE_URL"], BROKER_DATABASE, fresh=True)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    from clipcart_tools.localstripe import LocalstripeError, register_webhook

    server = environment["DATABASE_URL"]
    # The transport `make run` uses (clipcart_shared.settings.broker_url), on that database.
    broker = database_at(server, BROKER_DATABASE, "sqla+postgresql+psycopg") if webhooks else None
    checkout_database = environment[CHECKOUT.database_variable]
    catalog_database = catalog_environment[CATALOG_FOR_CHECKOUT.database_variable]
    variants, flash, stock = seeded["variants"], seeded["flash_variant"], seeded["flash_stock"]
    secret = environment["JWT_HS256_SECRET"]
    # One user per client for scenario 1 (a Stripe customer from its first checkout on);
    # a user of their own for every buyer of the sale.
    buyers = [bearer(f"bench-buyer-{client}", secret) for client in range(arguments.concurrency)]
    crowd = [bearer(f"bench-flash-{n:03d}", secret) for n in range(FLASH_BUYERS)]
    promo_crowds = tuple(
        [bearer(f"bench-{kind}-{n:03d}", secret) for n in range(FLASH_BUYERS)]
        for kind in ("plain", "promo")
    )
    emulator_log, worker_log = io.StringIO(), io.StringIO()
    try:
        with ExitStack() as stack:
            stripe_url = stack.enter_context(stripe_emulator(emulator_log))
            catalog_port, port = free_port(), free_port()
            while port == catalog_port:
                port = free_port()
            environment = checkout_environment(environment, catalog_port, stripe_url, broker)
            worker = None
            if webhooks:
                worker = stack.enter_context(
                    celery_worker(CHECKOUT, environment, CHECKOUT_QUEUES, worker_log)
                )
            # Both at once: checkout needs catalog only once requests come.
            stack.enter_context(
                serving_together(
                    [
                        (CATALOG_FOR_CHECKOUT, catalog_environment, catalog_port),
                        (CHECKOUT, environment, port),
                    ]
                )
            )
            if worker:
                register_webhook(
                    stripe_url,
                    "clipcart-bench",
                    f"http://{HOST}:{port}{WEBHOOK_PATH}",
                    WEBHOOK_SECRET,
                    events=["payment_intent.succeeded"],
                )
                wait_for_consumer(worker, database_at(server, BROKER_DATABASE), CHECKOUT_QUEUES)
            setup_seconds = time.monotonic() - began
            print(
                f"bench: catalog on {HOST}:{catalog_port}, localstripe on {stripe_url}"
                + (
                    f", checkout's Celery worker ({WORKERS} processes) on "
                    f"{', '.join(CHECKOUT_QUEUES)}, the emulator's webhook to checkout"
                    if worker
                    else ""
                ),
                flush=True,
            )
            [checkouts] = run_scenarios(
                port,
                [Scenario("checkout (buy now)", buy_now(variants, buyers), count_units=created)],
                arguments,
            )
            [(orders_stored,)] = query(checkout_database, "SELECT count(*) FROM orders_order")

            print(f"bench: flash sale, {FLASH_BUYERS} buyers for {stock} units …", flush=True)
            sale = flash_sale(port, stripe_url, flash, crowd)
            confirmed = sale.payments["succeeded"]
            by_webhooks, waited = 0, 0.0
            if worker:
                by_webhooks, waited = wait_until_paid(checkout_database, flash, confirmed)
            reconciled, reconcile_seconds = None, 0.0
            if by_webhooks < confirmed:
                # The flash orders are the newest pending ones: within the 500 it looks at.
                started = time.monotonic()
                reconciled = payments_reconcile(CHECKOUT, environment)
                reconcile_seconds = time.monotonic() - started
            orders = flash_orders(checkout_database, flash)
            events, applying = webhook_events(checkout_database)
            on_hand, reserved = variant_stock(catalog_database, flash)

            promo = seeded["promo"]
            sales = promo_sales(port, stripe_url, promo, promo_crowds)  # type: ignore[arg-type]
            for variant_id, promo_sale in (
                (promo["plain_variant"], sales.plain),
                (promo["variant"], sales.promo),
            ):
                succeeded = promo_sale.payments["succeeded"]
                if not worker or wait_until_paid(checkout_database, variant_id, succeeded)[0] < (
                    succeeded
                ):
                    payments_reconcile(CHECKOUT, environment)
            promo_lines, promo_problems = promo_check(
                sales, promo, stock, (checkout_database, catalog_database)
            )
    # RuntimeError: the emulator did not start (localstripe_server).
    except (BenchError, subprocess.CalledProcessError, LocalstripeError, RuntimeError) as error:
        print(f"bench: {error}", file=sys.stderr)
        if worker_log.getvalue():
            print(f"  checkout worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 2

    paid = orders["paid"]
    oversold = paid - stock
    answers = sale.outcome.statuses
    print(
        f"  {sale.outcome.name:<22} {sale.outcome.rate:>8,.0f} checkouts/s over "
        f"{sale.outcome.seconds:.1f} s  p50 {sale.outcome.percentile(0.5):,.0f} ms"
        f"  p99 {sale.outcome.percentile(0.99):,.0f} ms  answers: "
        + ", ".join(f"{label}: {answers[label]}" for label in sorted(answers, key=str))
    )
    print()
    print(
        f"checkout: {checkouts.rate:,.1f} checkouts/s, p99 {checkouts.percentile(0.99):.1f} ms "
        f"(buy now, 1-3 lines, {arguments.concurrency} clients) | orders stored "
        f"{orders_stored} / {checkouts.created_total} created (warm-up included)"
    )
    print(
        f"flash sale: {FLASH_BUYERS} buyers for {stock} units | paid {paid} (must be {stock}), "
        f"oversold {oversold} | 409 out_of_stock {answers['409 out_of_stock']} "
        f"(must be {FLASH_BUYERS - stock}) | {sale.outcome.rate:,.1f} checkouts/s over the sale "
        f"| catalog variant: on hand {on_hand}, reserved {reserved} (must be 0, 0)"
    )
    paths = []
    if worker:
        deliveries = webhook_deliveries(emulator_log.getvalue())
        paths.append(
            f"emulator webhooks ({deliveries['delivered']} delivered, {deliveries['failed']} "
            f"failed) -> checkout -> Celery worker: {by_webhooks} of {confirmed} paid within "
            f"{waited:.0f} s after the sale (the worker applied {events['processed']} events "
            f"in {applying:.1f} s from the first received)"
        )
    if reconciled is not None:
        paths.append(
            ("then " if worker else "")
            + f"payments_reconcile(older_than=0) once, through manage.py shell: {reconciled} "
            f"orders changed in {reconcile_seconds:.1f} s"
            + ("" if worker else " (--paid-by reconcile: no webhook, no worker)")
        )
    print(f"paid through: {'; '.join(paths)}")
    print(
        "payments confirmed on the emulator: "
        + (", ".join(f"{n} {what}" for what, n in sale.payments.items()) or "none")
        + f"; webhook events: {dict(events) or 'none'}; flash orders: {dict(orders)}"
        + f"; took {time.monotonic() - began:.0f} s (setup {setup_seconds:.0f} s)"
    )
    for line in promo_lines:
        print(line)
    problems = list(promo_problems)
    if checkouts.failed_total or orders_stored != checkouts.created_total:
        problems.append("scenario 1: a checkout was not a 201, or the orders do not add up")
    if answers != Counter({201: stock, "409 out_of_stock": FLASH_BUYERS - stock}):
        problems.append(f"unexpected answers: {dict(answers)}; e.g. {sale.outcome.failure_sample}")
    if sale.payments != Counter({"succeeded": stock}):
        problems.append(f"payments: {dict(sale.payments)}")
    if paid != stock or oversold != 0 or (on_hand, reserved) != (0, 0):
        problems.append("paid orders or stock do not add up")
    if problems:
        for problem in problems:
            print(f"bench: FAILED: {problem}", file=sys.stderr)
        if worker_log.getvalue():
            print(f"  checkout worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 1
    return 0
