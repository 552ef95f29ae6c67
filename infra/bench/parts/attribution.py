"""Attribution part: bench_attribution.py seeds and times the statement; then the
video worker on its own queue is fed order.paid events and the delays are measured.
"""

from __future__ import annotations

import argparse
import io
import math
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from harness.processes import celery_worker, wait_for_consumer
from harness.setup import (
    ATTRIBUTION,
    WORKERS,
    BenchError,
    database_at,
    ensure_database,
    log_tail,
    prepare,
    query,
)

# attribution
ATTRIBUTION_RATIO_AIM = 3.0  # attribution / plain-SQL last touch, at most
ATTRIBUTION_BROKER_DATABASE = "clipcart_video_attribution_bench_broker"
ATTRIBUTION_QUEUES = ("video.attribution",)
EVENT_TASK = "clipcart.events.receive"  # clipcart_shared.outbox.services.EVENT_TASK_NAME
DELAY_ORDERS_PER_SECOND = 20
DELAY_WAIT_SECONDS = 60


def order_paid_envelope(user_id: str, product_id: str, merchant_id: str) -> dict[str, Any]:
    """An `order.paid` as checkout's relay sends it, published now."""
    now = datetime.now(UTC).isoformat()
    order_id = str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "type": "order.paid",
        "source": "checkout",
        "time": now,
        "subject": order_id,
        "data": {
            "order_id": order_id,
            "user_id": user_id,
            "currency": "EUR",
            "paid_at": now,
            "lines": [
                {
                    "line_id": str(uuid.uuid4()),
                    "product_id": product_id,
                    "variant_id": str(uuid.uuid4()),
                    "merchant_id": merchant_id,
                    "quantity": 1,
                    "amount": 4990,
                    "source": None,
                }
            ],
        },
    }


def publish_orders(broker_url: str, sample: list[list[str]]) -> dict[str, float]:
    """Send one `order.paid` per (user, product, merchant) to the attribution queue, at
    DELAY_ORDERS_PER_SECOND, as the relay would. Returns {order id: publish time (epoch)}."""
    from celery import Celery

    app = Celery("bench", broker=broker_url)
    published: dict[str, float] = {}
    with app.producer_or_acquire() as producer:
        for user_id, product_id, merchant_id in sample:
            envelope = order_paid_envelope(user_id, product_id, merchant_id)
            published[envelope["data"]["order_id"]] = time.time()
            app.send_task(
                EVENT_TASK, args=[envelope], queue=ATTRIBUTION_QUEUES[0], producer=producer
            )
            time.sleep(1 / DELAY_ORDERS_PER_SECOND)
    return published


def attribution_delays(database: str, published: dict[str, float]) -> list[float]:
    """Seconds from each order's publication to its line being written, once all are (or
    DELAY_WAIT_SECONDS have passed)."""
    deadline = time.monotonic() + DELAY_WAIT_SECONDS
    while True:
        rows = query(
            database,
            "SELECT order_id::text, extract(epoch FROM recorded_at) FROM attribution_saleline "
            "WHERE order_id = ANY(%s::uuid[])",
            [list(published)],
        )
        if len(rows) == len(published) or time.monotonic() > deadline:
            return sorted(float(written) - published[order] for order, written in rows)
        time.sleep(0.2)


def run_attribution(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(ATTRIBUTION)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2
    floor, ours = answer["floor_seconds"], answer["attribution_seconds"]
    ratio = ours / floor if floor else math.nan
    print(
        f"attribution: {answer['lines']:,} paid lines against {answer['events']:,} events, "
        f"all five models: {ours:.2f} s ({answer['lines'] / ours:,.0f} lines/s, "
        f"{answer['credits']:,} credits written) | plain-SQL last touch {floor:.2f} s | "
        f"ratio attribution/last-touch SQL {ratio:.1f}x (aim: at most {ATTRIBUTION_RATIO_AIM:.0f}x)"
    )
    agreeing = answer["compared_with_floor"] - answer["disagreeing_with_floor"]
    print(
        f"checks: {answer['line_model_groups']:,} (line, model) sums, "
        f"{answer['wrong_sums']} not equal to the line amount (must be 0); last touch "
        f"agrees with the SQL floor on {agreeing:,} "
        f"of {answer['compared_with_floor']:,} lines with a click (must be all); "
        f"{answer['attributed_lines']:,} lines attributed"
    )

    server = environment["DATABASE_URL"]
    database = environment[ATTRIBUTION.database_variable]
    ensure_database(server, ATTRIBUTION_BROKER_DATABASE, fresh=True)
    broker = database_at(server, ATTRIBUTION_BROKER_DATABASE, "sqla+postgresql+psycopg")
    worker_environment = environment | {"CELERY_BROKER_URL": broker}
    worker_log = io.StringIO()
    try:
        with celery_worker(
            ATTRIBUTION, worker_environment, ATTRIBUTION_QUEUES, worker_log
        ) as worker:
            wait_for_consumer(
                worker, database_at(server, ATTRIBUTION_BROKER_DATABASE), ATTRIBUTION_QUEUES
            )
            print(
                f"bench: {len(answer['sample'])} order.paid events to video.attribution at "
                f"{DELAY_ORDERS_PER_SECOND}/s, Celery worker ({WORKERS} processes) on the "
                "PostgreSQL broker …",
                flush=True,
            )
            published = publish_orders(broker, answer["sample"])
            delays = attribution_delays(database, published)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        print(f"  attribution worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 2
    written = len(delays)
    if delays:
        median = delays[len(delays) // 2]
        p99 = delays[min(len(delays) - 1, math.ceil(0.99 * len(delays)) - 1)]
        print(
            f"order.paid published -> credits written: median {median * 1000:,.0f} ms, "
            f"p99 {p99 * 1000:,.0f} ms over {written} orders (the PostgreSQL broker is polled "
            f"every 0.1 s) | took {time.monotonic() - began:.0f} s"
        )
    problems = []
    if answer["wrong_sums"] or answer["disagreeing_with_floor"]:
        problems.append("credits that do not add up, or last touch unlike the SQL floor")
    if written != len(published):
        problems.append(f"only {written} of {len(published)} orders attributed in time")
    for problem in problems:
        print(f"bench: FAILED: {problem}", file=sys.stderr)
    if problems and worker_log.getvalue():
        print(f"  attribution worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
    return 1 if problems else 0
