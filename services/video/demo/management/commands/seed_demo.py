"""Demo data for a local run: three creators, six published videos tagging catalog's demo
products. No admin logins: staff are catalog's (ADR 23), mirrored here at first sign-in.

Idempotent (fixed ids; only what is missing is created). Catalog's demo ids follow its
documented convention — uuid5 of `<kind>:<slug>` in the demo namespace — so no catalog
code is imported. The product cards themselves arrive through catalog's
`product.changed` events once both workers run (or `manage.py sync_product_cards`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clipcart_shared.merchant_access.demo_logins import (
    demo_id,
    demo_seed_refuse_in_production,
)
from clipcart_shared.settings import service_url
from creators.models import Creator
from discovery.services import search_index_rebuild
from videos.models import ProductTag, Video

# The "Merchant staff" group's permissions here, as (app label, codename): the console
# gives the group to catalog's merchant staff at their first sign-in (settings).
STAFF_PERMISSIONS: list[tuple[str, str]] = [
    (name.split(".", 1)[0], name.split(".", 1)[1]) for name in settings.CONSOLE_STAFF_PERMISSIONS
]
CREATORS = [
    # (handle, display name, brand merchant slug or None)
    ("trailqueen", "Trail Queen", None),
    ("cosyhome", "Cosy Home Diaries", None),
    ("alpine_official", "Alpine Outfitters", "alpine"),
]
VIDEOS = [
    # (creator handle, caption, [product slugs])
    (
        "trailqueen",
        "Sunrise ridge run in the new GTX #trailrunning #tiktokmademebuyit",
        ["alpine-trail-runner", "alpine-merino-beanie"],
    ),
    (
        "trailqueen",
        "What is in my daypack #hiking",
        ["alpine-summit-daypack", "alpine-insulated-bottle"],
    ),
    (
        "cosyhome",
        "Sunday reset: linen and a wool throw #cosy",
        ["harbor-linen-duvet-cover", "harbor-wool-throw"],
    ),
    (
        "cosyhome",
        "Coffee corner glow-up #homedecor",
        ["harbor-stoneware-mugs", "harbor-teak-serving-board"],
    ),
    (
        "alpine_official",
        "Packing light for three days #ultralight",
        ["alpine-down-jacket", "alpine-trekking-poles"],
    ),
    ("trailqueen", "Cold start, warm head #winter", ["alpine-merino-beanie"]),
]


def demo_thumbnail_url(position: int) -> str:
    """A small picture the video service serves itself (`videos/static/videos/demo/`), so
    the tag editor and the lists show it offline: `<VIDEO_URL>/video/static/...`."""
    return f"{service_url('video')}{settings.STATIC_URL}videos/demo/{position % 6}.png"


class Command(BaseCommand):
    help = "Create the video service's demo data (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_seed_refuse_in_production()
        with transaction.atomic():
            self._seed()

    def _seed(self) -> None:
        # No logins here: staff sign in at catalog (ADR 23).
        created = self._creators_and_videos()
        if created:
            # Rows made here, not through the services: index them for search and hashtags.
            search_index_rebuild()
        self.stdout.write(
            f"Video demo data: {created} objects created."
            if created
            else "Video demo data already seeded; nothing changed."
        )

    def _creators_and_videos(self) -> int:
        created = 0
        creators = {}
        for handle, display_name, brand in CREATORS:
            creators[handle], is_new = Creator.objects.get_or_create(
                id=demo_id("creator", handle),
                defaults={
                    "user_id": f"demo-{handle}",
                    "handle": handle,
                    "display_name": display_name,
                    "commission_rate_bps": 1550 if brand is None else 0,
                    "brand_merchant_id": demo_id("merchant", brand) if brand else None,
                },
            )
            created += is_new
        now = timezone.now()
        for position, (handle, caption, products) in enumerate(VIDEOS):
            video, is_new = Video.objects.get_or_create(
                id=demo_id("video", str(position)),
                defaults={
                    "creator": creators[handle],
                    "stream_url": f"https://videos.clipcart.dev/demo/{position}.m3u8",
                    "thumbnail_url": demo_thumbnail_url(position),
                    "caption": caption,
                    "duration_ms": 30_000,
                    "status": Video.Status.PUBLISHED,
                    "published_at": now - timedelta(hours=position * 5),
                },
            )
            created += is_new
            if not is_new:
                continue
            for order, slug in enumerate(products):
                ProductTag.objects.create(
                    video=video,
                    product_id=demo_id("product", slug),
                    merchant_id=demo_id("merchant", slug.split("-")[0]),
                    start_ms=2000 + order * 8000,
                    end_ms=9000 + order * 8000,
                    x=0.3 + 0.3 * order,
                    y=0.6,
                    created_by="seed",
                )
                created += 1
        return created
