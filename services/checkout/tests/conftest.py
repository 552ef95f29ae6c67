"""Checkout tests run against the real catalog and video services (over HTTP) and the
real Stripe SDK talking to the localstripe emulator."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.test import TestCase

from clipcart_tools.localstripe import localstripe_server
from clipcart_tools.testing.services import RunningService, free_port, running_service

pytest_plugins = ["clipcart_tools.testing.fixtures"]

SERVICE_KEY = "test-only-service-key-current-0000000"
WEBHOOK_SECRET = "whsec_test_checkout"
STRIPE_KEY = "sk_test_checkout_tests"


@dataclass
class Catalog:
    service: RunningService

    @property
    def url(self) -> str:
        return self.service.url

    def variants(self) -> list[dict[str, Any]]:
        """Every variant of every active product, as catalog's public API shows them."""
        products = requests.get(f"{self.url}/api/v1/products/?limit=100", timeout=30).json()
        return [
            {**variant, "product_id": product["id"], "merchant_id": product["merchant"]["id"]}
            for product in products["results"]
            for variant in product["variants"]
        ]

    def set_stock(self, variant_id: str, on_hand: int) -> None:
        """Put exactly `on_hand` units on the shelf, none reserved."""
        self.set_stocks([variant_id], on_hand)

    def set_stocks(self, variant_ids: list[str], on_hand: int) -> None:
        self.hook("variants_stock_set", variant_ids=list(variant_ids), on_hand=on_hand)

    def set_max_units_per_buyer(self, merchant_id: str, units: int) -> None:
        """The merchant's cap on units of one variant in one buyer's unpaid checkouts."""
        self.hook("merchant_max_units_per_buyer_set", merchant_id=merchant_id, units=units)

    def stock(self, variant_id: str) -> tuple[int, int]:
        """(on hand, reserved) of a variant."""
        on_hand, reserved = self.hook("variant_stock", variant_id=variant_id)
        return int(on_hand), int(reserved)

    def hook(self, name: str, **arguments: Any) -> Any:
        """One of catalog's test hooks (`manage.py testhook`, owned by catalog)."""
        out = self.service.manage("testhook", name, json.dumps(arguments))
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def _catalog_process() -> Iterator[Catalog]:
    with running_service(
        "catalog",
        database="clipcart_catalog_for_checkout_tests",
        setup=[["seed_demo"]],
        # A cool-off of its own: the admin's lockout message must say catalog's.
        environment={"SERVICE_AUTH_KEYS": SERVICE_KEY, "ADMIN_LOGIN_COOLOFF_MINUTES": "7"},
    ) as service:
        yield Catalog(service)


@pytest.fixture
def catalog(_catalog_process: Catalog, settings) -> Catalog:
    settings.CATALOG_URL = _catalog_process.url
    return _catalog_process


@pytest.fixture
def catalog_down(settings) -> None:
    settings.CATALOG_URL = f"http://127.0.0.1:{free_port()}"


@dataclass
class Video:
    service: RunningService

    @property
    def url(self) -> str:
        return self.service.url

    def tag(self, product_id: str, *, status: str = "published") -> dict[str, str]:
        """A source for a cart line of `product_id`: a new video of a demo creator, with
        `status`, and its tag of the product (`{video_id, tag_id}`)."""
        out = self.service.manage(
            "testhook",
            "video_tag_create",
            json.dumps(
                {"product_id": product_id, "status": status, "created_by": "checkout-tests"}
            ),
        )
        return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.fixture(scope="session")
def _video_process() -> Iterator[Video]:
    with running_service(
        "video",
        database="clipcart_video_for_checkout_tests",
        setup=[["seed_demo"]],
        # A cool-off of its own: the admin's lockout message must say catalog's.
        environment={"SERVICE_AUTH_KEYS": SERVICE_KEY, "ADMIN_LOGIN_COOLOFF_MINUTES": "7"},
    ) as service:
        yield Video(service)


@pytest.fixture
def video(_video_process: Video, settings, video_down: None) -> Video:
    """The real video service, reached over HTTP (cart sources are checked there)."""
    settings.VIDEO_URL = _video_process.url
    return _video_process


@pytest.fixture(autouse=True)
def video_down(settings) -> None:
    """Video unreachable (nothing listens on its port): the default, so that no test
    reaches a video service it did not start; the `video` fixture points at the real one."""
    settings.VIDEO_URL = f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def source(video: Video, variants: list[dict[str, Any]]) -> dict[str, str]:
    """A valid source for a cart line of `variants[0]`: a published video tagging it."""
    return video.tag(variants[0]["product_id"])


@pytest.fixture(scope="session")
def _stripe_process() -> Iterator[str]:
    with localstripe_server() as url:
        yield url


@pytest.fixture
def stripe_emulator(_stripe_process: str, settings) -> str:
    """The localstripe emulator, with the checkout settings pointing at it."""
    settings.STRIPE_API_BASE = _stripe_process
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return _stripe_process


@pytest.fixture
def stripe_down(settings) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.STRIPE_SECRET_KEY = STRIPE_KEY


def signed(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, age: int = 0
) -> tuple[bytes, str]:
    """A Stripe-signed webhook body and its `Stripe-Signature` header."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) - age
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={digest.hexdigest()}"


def stripe_event(type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event as its webhook sends it."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def intent_object(order: Any, status: str = "succeeded") -> dict[str, Any]:
    """The order's PaymentIntent as a webhook event carries it."""
    return {
        "id": order.payment_intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": order.total_amount,
        "amount_received": order.total_amount if status == "succeeded" else 0,
        "currency": order.currency.lower(),
        "metadata": {"order_id": str(order.id)},
    }


def webhook_post(api_client: Any, event: dict[str, Any], **signing: Any) -> Any:
    """Deliver a signed event; the worker's task runs when the request's transaction
    commits (inline here: tests run tasks eagerly)."""
    payload, header = signed(event, **signing)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api_client.generic(
            "POST",
            "/api/v1/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )


ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@pytest.fixture(scope="session")
def _variants(_catalog_process: Catalog) -> list[dict[str, Any]]:
    """Demo variants of one merchant (one currency), each given a large stock."""
    variants = _catalog_process.variants()
    merchant = variants[0]["merchant_id"]
    mine = [variant for variant in variants if variant["merchant_id"] == merchant]
    _catalog_process.set_stocks([variant["id"] for variant in mine], 100_000)
    return mine


@pytest.fixture
def variants(catalog: Catalog, _variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _variants
