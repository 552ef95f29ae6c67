"""Load: client threads sending requests for a while, counting answers and latencies,
scenarios measured against the bare view; tokens for the callers.
"""

from __future__ import annotations

import argparse
import http.client
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeGuard

from harness.setup import HOST, WORKERS, AnswerError, BenchError, Request

# clipcart_shared.auth.SERVICE_TOKEN_SECONDS is 60: re-mint well before expiry.
TOKEN_REFRESH_SECONDS = 30


def exchange(connection: http.client.HTTPConnection, request: Request) -> tuple[int | str, bytes]:
    """Send one request: (status, body), or (the error's name, its message) when the
    connection failed (closed, so that the next request opens a new one)."""
    method, path, body, headers = request
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return type(error).__name__, str(error).encode()


def succeeded(status: int | str) -> TypeGuard[int]:
    """2xx; a str status is a transport error or a 2xx answer judged wrong."""
    return isinstance(status, int) and status < 300


@dataclass
class Outcome:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # measured window only
    statuses: Counter[int | str] = field(default_factory=Counter)  # measured window only
    created_total: int = 0  # 201 answers, warm-up included (for the stock check)
    failed_total: int = 0  # failed answers, warm-up and stragglers included
    failure_sample: str = ""
    client_cpu: float = 0.0  # share of one core used by this (load-generating) process
    unit: str = ""  # what `count_units` counts in an answer ("events"), if anything
    units: int = 0  # measured window only
    units_total: int = 0  # warm-up and stragglers included (for the stored-rows check)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def unit_rate(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        return sum(n for s, n in self.statuses.items() if not succeeded(s))

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000

    def summary(self) -> str:
        return f"{self.rate:,.0f} req/s, p99 {self.percentile(0.99):.1f} ms"

    def detail(self) -> str:
        failures = self.failures
        text = (
            f"  {self.name:<22} {self.rate:>8,.0f} req/s  p50 {self.percentile(0.5):6.1f} ms"
            f"  p99 {self.percentile(0.99):6.1f} ms  {self.requests:>6} requests"
            f"  {failures} non-2xx  (client cpu {self.client_cpu:.0%})"
        )
        if self.unit:
            text += (
                f"\n  {'':<22} {self.unit_rate:>8,.0f} {self.unit}/s  ({self.units:,} {self.unit})"
            )
        if failures:
            breakdown = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items(), key=str))
            text += f"\n    answers: {breakdown}\n    e.g. {self.failure_sample}"
        return text


def run_load(
    name: str,
    port: int,
    request_for: Callable[[int, int], Request],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    count_units: Callable[[int, bytes], int] | None = None,
    unit: str = "",
) -> Outcome:
    """`concurrency` threads, each with its own connection, send requests back to back:
    `warmup` seconds unrecorded, then `seconds` recorded. `request_for(client, n)` builds
    the n-th request of a client. `count_units(status, body)`, if given, reads each 2xx
    answer: how many `unit`s it stands for, or AnswerError to count it as a failure."""
    outcome = Outcome(name=name, seconds=seconds, unit=unit)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        latencies: list[float] = []
        statuses: Counter[int | str] = Counter()
        created = 0
        units = units_total = failed_total = 0
        sample = ""
        # gunicorn's sync workers close the connection after each answer;
        # http.client reopens it transparently on the next request.
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        barrier.wait()
        start, end = window["start"], window["end"]
        n = 0
        try:
            while True:
                request = request_for(index, n)
                n += 1
                began = time.perf_counter()
                if began >= end:
                    break
                status, content = exchange(connection, request)
                finished = time.perf_counter()
                if status == 201:
                    created += 1
                counted = 0
                if count_units is not None and succeeded(status):
                    try:
                        counted = count_units(status, content)
                    except (AnswerError, ValueError, KeyError, TypeError) as error:
                        status = f"{status} but {error}"
                units_total += counted
                if not succeeded(status):
                    failed_total += 1
                if finished < start or finished > end:
                    continue
                latencies.append(finished - began)
                statuses[status] += 1
                units += counted
                if not succeeded(status) and not sample:
                    sample = f"{status}: {content[:300].decode(errors='replace')}"
        finally:
            connection.close()
            with lock:
                outcome.latencies.extend(latencies)
                outcome.statuses.update(statuses)
                outcome.created_total += created
                outcome.units += units
                outcome.units_total += units_total
                outcome.failed_total += failed_total
                outcome.failure_sample = outcome.failure_sample or sample

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["start"] = now + warmup
    window["end"] = now + warmup + seconds
    barrier.wait()
    time.sleep(warmup)
    cpu_start = time.process_time()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"{name}: clients did not finish")
    outcome.client_cpu = (time.process_time() - cpu_start) / seconds
    return outcome


@dataclass(frozen=True)
class Scenario:
    name: str
    request_for: Callable[[int, int], Request]
    count_units: Callable[[int, bytes], int] | None = None
    unit: str = ""


def run_scenarios(
    port: int, scenarios: list[Scenario], arguments: argparse.Namespace
) -> list[Outcome]:
    """Each scenario in turn against the server on `port`, printing its line as it ends."""
    print(
        f"bench: gunicorn ({WORKERS} sync workers) on {HOST}:{port}, "
        f"{arguments.concurrency} clients, {arguments.warmup:g} s warm-up + "
        f"{arguments.seconds:g} s per scenario",
        flush=True,
    )
    outcomes = []
    for scenario in scenarios:
        outcome = run_load(
            scenario.name,
            port,
            scenario.request_for,
            concurrency=arguments.concurrency,
            warmup=arguments.warmup,
            seconds=arguments.seconds,
            count_units=scenario.count_units,
            unit=scenario.unit,
        )
        outcomes.append(outcome)
        print(outcome.detail(), flush=True)
    return outcomes


def get(path: str) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        return "GET", path, None, {}

    return request_for


def bearer(user_id: str, secret: str) -> str:
    """A mobile user's `Authorization`, the token minted as the app's provider would
    (`clipcart_shared.tokens.user_token_mint`, with the exported `JWT_HS256_SECRET`)."""
    from clipcart_shared.tokens import user_token_mint

    return "Bearer " + user_token_mint(user_id=user_id, secret=secret)


class ServiceToken:
    """A service token minted exactly like `clipcart_shared.auth.service_token_mint`,
    re-minted before it expires."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.minted_at = 0.0
        self.header = ""

    def authorization(self) -> str:
        now = time.monotonic()
        if now - self.minted_at > TOKEN_REFRESH_SECONDS:
            with self.lock:
                if now - self.minted_at > TOKEN_REFRESH_SECONDS:
                    self.header = f"Service {self._mint()}"
                    self.minted_at = now
        return self.header

    def _mint(self) -> str:
        import jwt

        from clipcart_shared.tokens import SERVICE_AUDIENCE

        issued = int(time.time())
        claims = {
            "iss": "checkout",
            "aud": SERVICE_AUDIENCE,
            "iat": issued,
            "exp": issued + 60,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="HS256")
