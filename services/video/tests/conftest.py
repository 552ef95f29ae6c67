from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from clipcart_shared.merchant_access.demo_logins import STAFF_GROUP, demo_id
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_shared.outbox.services import event_consume
from clipcart_tools.testing.services import free_port
from creators.models import Creator
from demo.management.commands.seed_demo import STAFF_PERMISSIONS
from tests.catalog_server import CatalogServer, catalog_server
from tests.checkout_server import CheckoutServer, checkout_server
from tests.factories import (
    CreatorFactory,
    ProductCardFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    engagement_events,
    order_paid,
    order_refunded,
    paid_line,
)
from videos.models import ProductTag, Video

pytest_plugins = ["clipcart_tools.testing.fixtures"]

# Catalog's demo merchants: the real catalog's cards belong to one or the other.
MERCHANT_A = demo_id("merchant", "alpine")
MERCHANT_B = demo_id("merchant", "harbor")


@pytest.fixture(scope="session")
def _catalog_process() -> Iterator[CatalogServer]:
    with catalog_server() as server:
        yield server


@pytest.fixture
def catalog(_catalog_process: CatalogServer, settings) -> CatalogServer:
    """The real catalog service, reached over HTTP."""
    settings.CATALOG_URL = _catalog_process.url
    return _catalog_process


@pytest.fixture
def catalog_down(settings) -> None:
    """Catalog unreachable: nothing listens on its port."""
    settings.CATALOG_URL = f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def _checkout_process() -> Iterator[CheckoutServer]:
    with checkout_server() as server:
        yield server


@pytest.fixture
def checkout(_checkout_process: CheckoutServer, settings) -> CheckoutServer:
    """The real checkout service, reached over HTTP (its orders made by its own code)."""
    settings.CHECKOUT_URL = _checkout_process.url
    return _checkout_process


@pytest.fixture
def checkout_down(settings) -> None:
    """Checkout unreachable: nothing listens on its port."""
    settings.CHECKOUT_URL = f"http://127.0.0.1:{free_port()}"


# Admin users: a merchant's staff (as seed_demo makes them) and platform staff.


def _staff_group() -> Group:
    """The group as `seed_demo` makes it."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in STAFF_PERMISSIONS
        ]
    )
    return group


@pytest.fixture
def staff_user() -> Any:
    user = get_user_model().objects.create_user(username="staff-of-a", is_staff=True)
    user.groups.add(_staff_group())
    MerchantMembership.objects.create(
        user=user, merchant_id=MERCHANT_A, merchant_name="Alpine Outfitters"
    )
    return user


# --- creators, videos and tags, for the admin tests ---------------------------------


@pytest.fixture
def brand_creator() -> Creator:
    return CreatorFactory(handle="alpine_official", brand_merchant_id=MERCHANT_A)


@pytest.fixture
def creator() -> Creator:
    return CreatorFactory(handle="trailqueen")


@pytest.fixture
def brand_video(brand_creator: Creator) -> Video:
    return VideoFactory(creator=brand_creator, caption="Packing light", duration_ms=30_000)


@pytest.fixture
def creator_video(creator: Creator) -> Video:
    return VideoFactory(creator=creator, caption="Sunrise ridge run")


@pytest.fixture
def other_video(creator: Creator) -> Video:
    """A regular creator's video tagging only B's products."""
    return VideoFactory(creator=creator, caption="Linen and a wool throw")


@pytest.fixture
def untagged_video(creator: Creator) -> Video:
    return VideoFactory(creator=creator, caption="Nothing to buy here")


MERCHANT_NAMES = {MERCHANT_A: "Alpine Outfitters", MERCHANT_B: "Harbor Home"}


def _tag(video: Video, merchant_id: uuid.UUID, title: str, **fields: Any) -> ProductTag:
    card = ProductCardFactory(
        merchant_id=merchant_id, merchant_name=MERCHANT_NAMES[merchant_id], title=title
    )
    return ProductTagFactory(
        video=video, product_id=card.product_id, merchant_id=merchant_id, **fields
    )


@pytest.fixture
def tag_a_on_brand_video(brand_video: Video) -> ProductTag:
    return _tag(brand_video, MERCHANT_A, "Down Jacket", start_ms=2000, end_ms=9000, x=0.3, y=0.6)


@pytest.fixture
def tag_b_on_brand_video(brand_video: Video) -> ProductTag:
    """The brand's creator tagged another merchant's product (allowed in the app)."""
    return _tag(brand_video, MERCHANT_B, "Teak Board")


@pytest.fixture
def tag_a_on_creator_video(creator_video: Video) -> ProductTag:
    return _tag(creator_video, MERCHANT_A, "Trail Runner", start_ms=0, end_ms=2500, x=1, y=0)


@pytest.fixture
def tag_b_on_other_video(other_video: Video) -> ProductTag:
    return _tag(other_video, MERCHANT_B, "Linen Duvet Cover")


@pytest.fixture
def world(
    tag_a_on_brand_video,
    tag_b_on_brand_video,
    tag_a_on_creator_video,
    tag_b_on_other_video,
    untagged_video,
) -> None:
    """Every video and tag above."""


# --- sales, for the attribution admin and the home page -------------------------------


@pytest.fixture
def shop() -> Video:
    """One video by @trailqueen tagging A's jacket and B's teak board. Each sold once
    today through it (A: 12,000 with 1,000 refunded; B: 5,000), and A sold 3,000 with
    no video; today the video had 400 impressions, 100 views and 20 tag taps (events, not
    yet rolled up: today is counted live)."""
    now = timezone.now()
    # A minute ago, but never yesterday (a run just after midnight UTC).
    moment = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0, second=0))
    video = VideoFactory(
        creator=CreatorFactory(handle="trailqueen", commission_rate_bps=1000),
        caption="Ridge run",
    )
    jacket = ProductTagFactory(
        video=video,
        merchant_id=MERCHANT_A,
        product_id=ProductCardFactory(merchant_id=MERCHANT_A, title="Down Jacket").product_id,
    )
    board = ProductTagFactory(
        video=video,
        merchant_id=MERCHANT_B,
        product_id=ProductCardFactory(merchant_id=MERCHANT_B, title="Teak Board").product_id,
    )
    engagement_event("buyer", video, "tag_tap", moment)
    paid = order_paid("buyer", [a := paid_line(jacket, 12_000, 2), paid_line(board, 5000)], now)
    event_consume(envelope=paid)
    event_consume(envelope=order_refunded(paid, {a["line_id"]: 1000}, now))
    event_consume(envelope=order_paid("walk-in", [paid_line(jacket, 3000)], now))
    engagement_events(video, {"impression": 400, "view": 100, "tag_tap": 19}, moment)
    return video
