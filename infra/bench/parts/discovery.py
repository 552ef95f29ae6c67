"""Discovery part: bench_discovery.py evaluates "for you" offline; then search and
"for you" (first and next pages) under load against the bare view.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from harness.load import Scenario, bearer, get, run_scenarios
from harness.processes import fetch_json, serving
from harness.setup import BARE_PATH, DISCOVERY, HOST, BenchError, Request, prepare
from parts.video import FEED_PAGE

# discovery
SEARCH_PATH = "/api/v1/search/"
FOR_YOU_PATH = "/api/v1/feed/?mode=for_you&limit=20"
NEXT_PAGE_USERS = 16  # users whose second page the "next pages" scenario reads, in turn


def search_requests(queries: list[str]) -> Callable[[int, int], Request]:
    """`GET /api/v1/search/?q=…`, anonymous, the queries in turn (each client starting
    at a different one)."""
    paths = [f"{SEARCH_PATH}?{urlencode({'q': query})}" for query in queries]

    def request_for(client: int, n: int) -> Request:
        return "GET", paths[(client * 5 + n) % len(paths)], None, {}

    return request_for


def for_you_first_pages(authorizations: list[str]) -> Callable[[int, int], Request]:
    """A first page of "for you" for each user in turn: it reads the user's ranking, kept
    by the worker (ranked ahead after the seed), or ranks and keeps one."""

    def request_for(client: int, n: int) -> Request:
        user = (client * 37 + n) % len(authorizations)
        return "GET", FOR_YOU_PATH, None, {"Authorization": authorizations[user]}

    return request_for


def for_you_next_pages(pages: list[tuple[str, str]]) -> Callable[[int, int], Request]:
    """The second page of a kept snapshot, (path, user's Authorization) in turn: one read."""

    def request_for(client: int, n: int) -> Request:
        path, authorization = pages[(client * 7 + n) % len(pages)]
        return "GET", path, None, {"Authorization": authorization}

    return request_for


def fetch_as(port: int, path: str, authorization: str) -> Any:
    """GET `path` as a user: the JSON of a 200, else BenchError."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": authorization})
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def discovery_pages(port: int, queries: list[str], users: list[tuple[str, str]]) -> list[Any]:
    """Check that every query finds something and that "for you" pages; returns the
    second page (its path, the user's Authorization) of the first NEXT_PAGE_USERS users."""
    for query_text in queries:
        path = f"{SEARCH_PATH}?{urlencode({'q': query_text})}"
        if not fetch_json(port, path)["results"]:
            raise BenchError(f"GET {path} found nothing")
    pages = []
    for user_id, authorization in users[:NEXT_PAGE_USERS]:
        first = fetch_as(port, FOR_YOU_PATH, authorization)
        if len(first["results"]) != FEED_PAGE or not first["next"]:
            raise BenchError(f"for you of {user_id}: {len(first['results'])} videos, no next")
        parts = urlsplit(first["next"])
        pages.append((f"{parts.path}?{parts.query}", authorization))
    second = fetch_as(port, pages[0][0], pages[0][1])
    if len(second["results"]) != FEED_PAGE:
        raise BenchError(f"for you, second page: {len(second['results'])} videos")
    return pages


def run_discovery(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(DISCOVERY)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2
    evaluation = answer["evaluation"]
    evaluated, hits = evaluation["users"], evaluation["hits"]
    rates = {name: hits[name] / evaluated if evaluated else math.nan for name in hits}
    print(
        f"offline: {answer['videos']} videos, {len(answer['users'])} users, "
        f"{answer['events']:,} events in {answer['sessions']:,} sessions "
        f"({answer['taps']:,} taps); each user's last tap held out ({evaluated} users)"
    )
    print(
        f"hit@10: for you {rates['for_you']:.3f} ({hits['for_you']}/{evaluated}) | "
        f"chronological {rates['chronological']:.3f} ({hits['chronological']}/{evaluated}) | "
        f"trending {rates['trending']:.3f} ({hits['trending']}/{evaluated})"
    )
    matching, matching_hits = evaluation["matching_taste"], evaluation["hits_matching_taste"]
    print(
        f"  held-out videos by a favourite creator or with a favourite hashtag: {matching} of "
        f"{evaluated}; found among those: for you {matching_hits['for_you']}, chronological "
        f"{matching_hits['chronological']}, trending {matching_hits['trending']}"
    )
    for line in evaluation.get("report", []):  # bench_discovery.py's own figures
        print(line)
    print(
        f"  evaluation took {evaluation['seconds']:.1f} s: {evaluation['trending_recomputes']} "
        f"trending recomputes (one per hour holding an as_of) "
        f"{evaluation['trending_seconds']:.1f} s, {evaluated} for-you rankings "
        f"({evaluation['ranking_threads']} at a time) "
        f"{1000 * evaluation['for_you_seconds'] / max(evaluated, 1):.0f} ms each"
    )

    ahead = answer["ranked_ahead"]
    each_ms = 1000 * ahead["seconds"] / max(ahead["users"], 1)
    print(
        f"ranked ahead (as the worker does for active users): {ahead['users']} users' "
        f"for you in {ahead['seconds']:.1f} s, {each_ms:.0f} ms each, one connection; "
        "a first page then reads the kept ranking"
    )

    secret = environment["JWT_HS256_SECRET"]
    users = [(user, bearer(user, secret)) for user in answer["users"]]
    authorizations = [authorization for _, authorization in users]
    try:
        with serving(DISCOVERY, environment) as port:
            pages = discovery_pages(port, answer["queries"], users)
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("search", search_requests(answer["queries"])),
                Scenario("for you: first page", for_you_first_pages(authorizations)),
                Scenario("for you: next page", for_you_next_pages(pages)),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    bare, searching, first, following = outcomes
    print()
    for outcome in (searching, first, following):
        ratio = outcome.rate / bare.rate if bare.rate else math.nan
        print(
            f"{outcome.name}: {outcome.summary()} | bare DRF: {bare.summary()} | ratio {ratio:.3f}"
        )
    failures = sum(outcome.failed_total for outcome in outcomes)
    print(f"failed answers (warm-up included): {failures}; took {time.monotonic() - began:.0f} s")
    if failures:
        print("bench: FAILED (see failed answers above)", file=sys.stderr)
        return 1
    return 0
