"""Catalog, video and checkout bench: `make bench` (ARGS="--seconds 3 --only video").

Runs under `clipcart exec`, which provides DATABASE_URL (the embedded PostgreSQL) and the
local secrets. In one run it benches the catalog, the video service, then checkout
(`--only` picks one). For each it migrates and seeds a separate database,
`clipcart_<service>_bench` (demo data untouched), and starts gunicorn (2 sync workers,
127.0.0.1, a free port) on the service with a bench-only URLconf that adds `/bench/bare/`,
a bare DRF view. Then:

catalog
1. measures `GET /api/v1/products/?limit=20` against that bare view, served by the same
   processes, and prints the ratio list/bare;
2. measures reservations on one hot variant and on distinct variants, and prints the ratio;
3. checks the stock counters against the reservations answered, and stops gunicorn.

video
1. measures `GET /api/v1/feed/?limit=20` against the bare view and prints the ratio;
2. posts engagement events in batches of 500 (`POST /api/v1/events/`, every event must be
   accepted), stops gunicorn, then COPYs as many rows of the same kind into the same table
   and prints events/s for both and the ratio API/COPY;
3. checks the events stored against the events the API accepted.

checkout (with its own catalog, `clipcart_catalog_checkout_bench`, the localstripe
emulator and a checkout Celery worker on a bench broker database)
1. measures buy-now checkouts, `POST /api/v1/checkouts/` with 1-3 lines (every answer 201);
2. runs a flash sale: 500 buyers at once for a variant with 100 units, every winner paying
   on the emulator; waits until the webhooks, through the worker, have marked every paid
   order paid (reconciling at the end if some never arrive) and checks that exactly 100
   were paid, 400 refused `out_of_stock`, and the variant ends with nothing on hand or
   reserved.

shipping (`clipcart_checkout_shipping_bench`, paid orders seeded by bench_seed_shipping.py)
1. shipments created through the merchant API (`POST /api/v1/merchant/orders/{id}/shipments/`,
   3 lines each) against the bare view, with the ratio; every answer a 201, and the
   shipments and `order.shipped` events stored counted.

discovery (`clipcart_video_discovery_bench`, filled by bench_discovery.py)
1. offline: a generated engagement log of 300 users over 600 videos, each user's last tag
   tap held out; hit rate at 10 of "for you", chronological and trending;
2. search and "for you" (first pages, which rank and keep a snapshot, and next pages,
   which read one) against the bare view, with the ratios.

payouts (`clipcart_video_payouts_bench`, settled sales seeded by bench_payouts.py, the
Stripe emulator)
1. 10,000 orders of 3 merchants credited to 20 creators: the creators' payout batch
   (settle, then pay) against a plain SQL aggregation of the same payables, with the
   ratio and the number of Stripe calls.

Each part is a module of `parts/` (`run_<part>`), over the `harness/` every part uses
(setup and databases, processes, load).

It prints figures and asserts nothing about speed; it exits non-zero only when something
failed (the server did not start, a non-2xx answer, counters that do not add up).
"""

from __future__ import annotations

import argparse
import sys

from parts.attribution import run_attribution
from parts.catalog import run_catalog
from parts.checkout import run_checkout
from parts.discovery import run_discovery
from parts.payouts import run_payouts
from parts.shipping import run_shipping
from parts.video import run_video

PARTS = ("catalog", "video", "checkout", "shipping", "attribution", "discovery", "payouts")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured, per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded, per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--only", choices=PARTS, help="bench one service only")
    parser.add_argument(
        "--paid-by",
        choices=("reconcile", "webhooks"),
        default="reconcile",
        help="checkout: how the flash sale's orders get paid: checkout's reconciliation, run "
        "once after the sale (default), or the emulator's webhooks applied by a Celery "
        "worker (slower: see README)",
    )
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0 or arguments.warmup < 0 or not 1 <= arguments.concurrency <= 200:
        parser.error("need --seconds > 0, --warmup >= 0 and 1 <= --concurrency <= 200")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    parts = {
        "catalog": run_catalog,
        "video": run_video,
        "checkout": run_checkout,
        "shipping": run_shipping,
        "attribution": run_attribution,
        "discovery": run_discovery,
        "payouts": run_payouts,
    }
    codes: list[int] = []
    for name in [arguments.only] if arguments.only else list(parts):
        if codes:
            print(flush=True)
        codes.append(parts[name](arguments))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
