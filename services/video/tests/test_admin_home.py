"""Video's admin home (ADR 28): attributed and unattributed net today and over 7 days,
the top videos and creators, today's engagement counted live — of the user's merchants
only — each linking to the sales report that holds it; platform staff see every
merchant's and the outbox. The sales are `shop`'s (test_attribution_admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import event_consume
from clipcart_tools.testing.fixtures import signed_in
from tests.conftest import MERCHANT_A, MERCHANT_B, _staff_group
from tests.factories import (
    CreatorFactory,
    ProductCardFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_paid,
    paid_line,
)

pytestmark = pytest.mark.django_db

HOME = "/video/admin/"


@pytest.fixture
def staff_b_client() -> Any:
    user = get_user_model().objects.create_user(username="staff-of-b", is_staff=True)
    user.groups.add(_staff_group())
    MerchantMembership.objects.create(user=user, merchant_id=MERCHANT_B, merchant_name="Harbor")
    return signed_in(user)


def _panels(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    return {panel.title: panel for panel in response.context["home_panels"]}


def _values(response: Any, title: str) -> dict[str, str]:
    return {figure.label: figure.value for figure in _panels(response)[title].figures}


def _table(response: Any, title: str) -> list[list[str]]:
    tables = [table for panel in _panels(response).values() for table in panel.tables]
    (table,) = [table for table in tables if table.title == title]
    return [[cell.text for cell in row] for row in table.rows]


def test_merchant_staff_see_their_attributed_sales_and_todays_engagement(staff_client, shop):
    response = staff_client.get(HOME)

    assert _values(response, "Today") == {
        "Attributed net": "€110.00",  # 12,000 less 1,000 refunded
        "Unattributed net": "€30.00",
        "Orders": "2",
        "Units": "3",
        "Views": "100",  # events of a minute ago, before any roll-up
        "Impressions": "400",
        "Tag taps": "20",
    }
    assert _values(response, "Last 7 days")["Attributed net"] == "€110.00"
    assert _table(response, "Top videos by attributed net") == [
        ["Ridge run", "€110.00", "1", "2", "100"]
    ]
    assert _table(response, "Top creators by attributed net") == [
        ["@trailqueen", "€110.00", "1", "2", "100"]
    ]
    assert "Pipes" not in _panels(response)
    assert "€50.00" not in response.content.decode()  # B's sale


def test_merchant_b_sees_only_b_numbers(staff_b_client, shop):
    response = staff_b_client.get(HOME)

    assert _values(response, "Today")["Attributed net"] == "€50.00"
    assert _values(response, "Today")["Unattributed net"] == "€0.00"
    assert "€110.00" not in response.content.decode()


def test_platform_staff_see_every_merchant_and_the_outbox(superuser_client, shop):
    OutboxEvent.objects.filter(published_at__isnull=True).update(published_at=timezone.now())
    OutboxEvent.objects.create(type="video.published", source="video", subject="x", data={})

    response = superuser_client.get(HOME)

    assert _values(response, "Today")["Attributed net"] == "€160.00"
    assert _values(response, "Today")["Unattributed net"] == "€30.00"
    assert _values(response, "Pipes") == {"Outbox events not yet sent": "1"}
    (outbox,) = _panels(response)["Pipes"].figures
    listed = superuser_client.get(outbox.url)
    assert listed.status_code == 200
    assert [event.subject for event in listed.context["cl"].result_list] == ["x"]


def test_each_number_links_to_the_report_that_holds_it(staff_client, shop):
    response = staff_client.get(HOME)
    panels = _panels(response)
    urls = [figure.url for panel in panels.values() for figure in panel.figures]
    urls += [
        row[0].url for panel in panels.values() for table in panel.tables for row in table.rows
    ]

    for url in urls:
        report = staff_client.get(url)
        assert report.status_code == 200, url
        assert not report.context["form"].errors, (url, report.context["form"].errors)
        assert "report" in report.context
    today = staff_client.get(panels["Today"].figures[0].url).context["report"]
    assert sum(row.net for row in today.rows if row.key is not None) == 11_000
    top_video = panels["Last 7 days"].tables[0].rows[0][0].url
    assert staff_client.get(top_video).context["chart_video"] == "Ridge run"


def _more_sales(count: int) -> None:
    now = timezone.now()
    moment = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0, second=0))
    for index in range(count):
        video = VideoFactory(
            creator=CreatorFactory(handle=f"maker{index}"), caption=f"Clip {index}"
        )
        tag = ProductTagFactory(
            video=video,
            merchant_id=MERCHANT_A,
            product_id=ProductCardFactory(merchant_id=MERCHANT_A).product_id,
        )
        engagement_event(f"buyer-{index}", video, "tag_tap", moment)
        event_consume(envelope=order_paid(f"buyer-{index}", [paid_line(tag, 1000 + index)], now))


def _home_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_home_queries_do_not_grow_with_videos_or_sales(
    staff_client, superuser_client, shop, django_assert_max_num_queries
):
    merchant_before, platform_before = _home_queries(staff_client), _home_queries(superuser_client)
    _more_sales(12)

    assert _home_queries(staff_client) == merchant_before
    assert _home_queries(superuser_client) == platform_before
    # Three reports of at most six queries each (today by video, 7 days by video and by
    # creator), the currencies and the default model, beside the session, the user,
    # their merchants, permissions and the recent actions Django's index shows.
    with django_assert_max_num_queries(24):
        staff_client.get(HOME)
    with django_assert_max_num_queries(24):
        superuser_client.get(HOME)
