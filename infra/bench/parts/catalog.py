"""Catalog part: the product list against the bare view; reservations on one hot
variant and on distinct ones; the stock counters checked against the answers.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

from harness.load import Scenario, ServiceToken, get, run_scenarios
from harness.processes import fetch_json, serving
from harness.setup import BARE_PATH, CATALOG, BenchError, Request, Seeded, prepare, query

# catalog
LIST_PATH = "/api/v1/products/?limit=20"
RESERVE_PATH = "/internal/v1/reservations/"
RATIO_AIM = 0.50


def check_endpoints(port: int, expected_products: int) -> None:
    results = fetch_json(port, LIST_PATH)["results"]
    if len(results) != min(20, expected_products):
        raise BenchError(f"GET {LIST_PATH} listed {len(results)} products, expected 20")


def reserve(
    token: ServiceToken, run_id: str, scenario: str, variant_for: Callable[[int], str]
) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        body = json.dumps(
            {
                "key": f"bench-{run_id}-{scenario}-{client}-{n}",
                "lines": [{"variant_id": variant_for(client), "quantity": 1}],
                "ttl_seconds": 900,
            }
        ).encode()
        headers = {"Authorization": token.authorization(), "Content-Type": "application/json"}
        return "POST", RESERVE_PATH, body, headers

    return request_for


def reserved_units(database_url: str, variant_ids: list[str]) -> int:
    [(reserved,)] = query(
        database_url,
        "SELECT COALESCE(SUM(quantity_reserved), 0) FROM products_variant "
        "WHERE id = ANY(%s::uuid[])",
        [variant_ids],
    )
    return int(reserved)


def run_catalog(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(CATALOG)
        seeded = Seeded(**answer)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    hot, distinct = seeded.hot_variant, seeded.distinct_variants
    try:
        with serving(CATALOG, environment) as port:
            check_endpoints(port, seeded.list_products)
            token = ServiceToken(environment["SERVICE_AUTH_KEYS"].split(",")[0].strip())
            run_id = uuid.uuid4().hex[:8]
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("product list", get(LIST_PATH)),
                Scenario("reserve: hot variant", reserve(token, run_id, "hot", lambda c: hot)),
                Scenario(
                    "reserve: distinct",
                    reserve(token, run_id, "distinct", lambda c: distinct[c % len(distinct)]),
                ),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    bare, listing, hot_outcome, distinct_outcome = outcomes
    # Every 201 must show up in the counters, no more, no less.
    used = distinct[: min(arguments.concurrency, len(distinct))]
    database_url = environment[CATALOG.database_variable]
    counters = {
        "hot variant": (reserved_units(database_url, [hot]), hot_outcome.created_total),
        "distinct variants": (
            reserved_units(database_url, used),
            distinct_outcome.created_total,
        ),
    }
    mismatched = {k: v for k, v in counters.items() if v[0] != v[1]}

    ratio = listing.rate / bare.rate if bare.rate else math.nan
    contention = hot_outcome.rate / distinct_outcome.rate if distinct_outcome.rate else math.nan
    print()
    print(
        f"product list: {listing.summary()} | bare DRF: {bare.summary()} | "
        f"ratio {ratio:.2f} (aim >= {RATIO_AIM:.2f})"
    )
    print(
        f"reservations: hot variant {hot_outcome.summary()} | "
        f"distinct variants {distinct_outcome.summary()} | ratio hot/distinct {contention:.2f}"
    )
    failures = sum(outcome.failures for outcome in outcomes)
    print(
        f"non-2xx: {failures}; stock counters vs 201 answers: "
        + ", ".join(f"{k} {db} reserved / {ok} created" for k, (db, ok) in counters.items())
        + f"; took {time.monotonic() - began:.0f} s"
    )
    if failures or mismatched:
        print("bench: FAILED (see non-2xx answers / counters above)", file=sys.stderr)
        return 1
    return 0
