from __future__ import annotations

import pytest
from django.utils import timezone

from discovery.services import search_index_rebuild, trending_recompute
from tests.factories import CreatorFactory, VideoFactory, engagement_event

pytestmark = pytest.mark.django_db


def test_platform_staff_see_what_is_trending_best_first(superuser_client):
    quiet = VideoFactory(caption="Quiet one", creator=CreatorFactory(handle="quietly"))
    busy = VideoFactory(caption="Busy one", creator=CreatorFactory(handle="busybee"))
    engagement_event("a", quiet, "view", timezone.now())
    for index in range(3):
        engagement_event(f"u{index}", busy, "add_to_cart", timezone.now())
    trending_recompute()

    page = superuser_client.get("/video/admin/discovery/videotrend/").content.decode()

    assert page.index("Busy one") < page.index("Quiet one")
    assert "@busybee" in page
    assert "15.0" in page  # three add-to-carts just now


def test_platform_staff_see_hashtags_by_use(superuser_client):
    VideoFactory.create_batch(2, caption="#haul")
    VideoFactory(caption="#haul #ootd")
    search_index_rebuild()

    response = superuser_client.get("/video/admin/discovery/hashtaguse/")

    rows = [row for row in response.context["cl"].result_list]
    assert [(row.tag, row.video_count) for row in rows] == [("haul", 3), ("ootd", 1)]


def test_merchant_staff_cannot_open_discovery_pages(staff_client):
    for page in ("videotrend", "hashtaguse"):
        assert staff_client.get(f"/video/admin/discovery/{page}/").status_code == 403
