"""The three services running for real for schemathesis: each under gunicorn on a free
port and a fresh database of its own (`clipcart_contract_<service>`), migrated and seeded
with the demo data (`clipcart_tools.testing.services.running_service`), video and
checkout calling that catalog, checkout asking that video about cart sources and paying
on the localstripe emulator. No Celery worker: nothing here waits for background work.

Runs under `clipcart exec` (`make test`), which sets DATABASE_URL and JWT_HS256_SECRET.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from clipcart_tools.localstripe import localstripe_server
from clipcart_tools.testing.services import RunningService, running_service

SERVICE_KEY = "contract-tests-only-service-key-000000"
# One user sends every request, and a failure's shrinking sends many more: at the real
# rates a throttle would answer 429 to valid data. What throttles count is tested apart.
UNTHROTTLED = ",".join(
    f"{scope}.{kind}=100000/min"
    for scope in ("checkout", "cart", "events", "writes", "search")
    for kind in ("user", "ip")
)


@pytest.fixture(scope="session")
def contract_services() -> Iterator[dict[str, RunningService]]:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("JWT_HS256_SECRET"):
        pytest.fail("DATABASE_URL or JWT_HS256_SECRET is not set: run under `clipcart exec`.")
    with ExitStack() as stack:
        stripe_url = stack.enter_context(localstripe_server())

        def start(service: str, **environment: str) -> RunningService:
            return stack.enter_context(
                running_service(
                    service,
                    database=f"clipcart_contract_{service}",
                    setup=[["seed_demo"]],
                    environment={
                        "SERVICE_AUTH_KEYS": SERVICE_KEY,
                        "THROTTLE_RATES": UNTHROTTLED,
                        **environment,
                    },
                )
            )

        catalog = start("catalog")
        # Video makes creators' payout accounts at Stripe: the emulator too.
        video = start(
            "video",
            CATALOG_URL=catalog.url,
            STRIPE_API_BASE=stripe_url,
            STRIPE_SECRET_KEY="sk_test_clipcart_contract",
        )
        checkout = start(
            "checkout",
            CATALOG_URL=catalog.url,
            VIDEO_URL=video.url,
            STRIPE_API_BASE=stripe_url,
            STRIPE_SECRET_KEY="sk_test_clipcart_contract",
        )
        yield {"catalog": catalog, "video": video, "checkout": checkout}
