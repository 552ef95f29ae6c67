"""Catalog's events as contracts (ADR 19): `manage.py event_samples`, which video's
contract tests feed to video's handlers, prints what `products.events` builds, and every
type catalog routes is one it builds there."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command

from clipcart_shared.outbox.models import OutboxEvent
from merchants.models import Merchant
from products.events import PRODUCT_CHANGED, ProductChanged
from products.models import Product

pytestmark = pytest.mark.django_db


def test_event_samples_prints_product_changed_as_declared_and_leaves_nothing_behind():
    out = io.StringIO()

    call_command("event_samples", stdout=out)

    active, archived = json.loads(out.getvalue())
    assert [active["type"], archived["type"]] == [PRODUCT_CHANGED, PRODUCT_CHANGED]
    assert set(active) == {"id", "type", "source", "time", "subject", "data"}
    assert active["source"] == "catalog"
    assert set(active["data"]) == ProductChanged.__required_keys__
    assert active["data"]["id"] == active["subject"]
    assert (active["data"]["status"], archived["data"]["status"]) == ("active", "archived")
    assert active["data"]["price"] == {"amount": 12_900, "currency": "EUR"}
    assert [variant["stock_status"] for variant in active["data"]["variants"]] == [
        "in_stock",
        "out_of_stock",
    ]
    assert archived["data"]["category"] is None
    assert (Merchant.objects.count(), Product.objects.count(), OutboxEvent.objects.count()) == (
        0,
        0,
        0,
    )


def test_every_routed_type_is_one_products_events_builds():
    assert set(settings.EVENT_ROUTES) == {PRODUCT_CHANGED}
