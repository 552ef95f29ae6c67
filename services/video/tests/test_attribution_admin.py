"""The attribution admin: a merchant's sales report (table, CSV, daily chart), its paid
lines, windows and product rates; never another merchant's numbers. The sales are the
`shop` fixture's (conftest)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.models import MerchantAttributionSettings, ProductCommissionRate
from clipcart_shared.outbox.services import event_consume
from engagement.models import DailyVideoStats
from tests.conftest import MERCHANT_A, MERCHANT_B
from tests.factories import (
    ProductCardFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    engagement_events,
    order_paid,
    paid_line,
)

pytestmark = pytest.mark.django_db
ADMIN = "/video/admin/attribution"
REPORT = f"{ADMIN}/salesreport/"


def _csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_staff_see_their_sales_by_video_with_engagement_and_rates(staff_client, shop):
    response = staff_client.get(REPORT)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ridge run" in html
    assert "Unattributed" in html
    assert "€110.00" in html  # A's net through the video: 12,000 less 1,000 refunded
    assert "€50.00" not in html  # B's sale is not A's business
    rows = _csv(staff_client.get(REPORT, {"format": "csv"}))
    video, unattributed, total = rows
    assert video["video"] == "Ridge run"
    assert (video["Impressions"], video["Views"], video["Tag taps"]) == ("400", "100", "20")
    assert video["Tap-through rate"] == "0.05"
    assert (video["Orders"], video["Units"]) == ("1", "2")
    assert (video["Attributed sales"], video["Refunds"], video["Net"]) == ("12000", "1000", "11000")
    assert video["Conversion rate"] == "0.01"
    assert video["Net per 1000 views"] == "110000.0"
    assert video["Commission owed"] == "1100"
    assert (unattributed["video"], unattributed["Net"], unattributed["Commission owed"]) == (
        "Unattributed",
        "3000",
        "0",
    )
    assert (total["video"], total["Orders"], total["Net"]) == ("Total", "2", "14000")


@pytest.mark.parametrize(("by", "label"), [("creator", "@trailqueen"), ("product", "Down Jacket")])
def test_the_report_groups_by_creator_and_by_product(staff_client, shop, by, label):
    rows = _csv(staff_client.get(REPORT, {"format": "csv", "by": by}))

    assert [row[by] for row in rows] == [label, "Unattributed", "Total"]
    assert rows[0]["Net"] == "11000"
    assert "Teak Board" not in str(rows)


def test_platform_staff_see_every_merchant(superuser_client, shop):
    rows = _csv(superuser_client.get(REPORT, {"format": "csv", "by": "product"}))

    assert {row["product"]: row["Net"] for row in rows} == {
        "Down Jacket": "11000",
        "Teak Board": "5000",
        "Unattributed": "3000",
        "Total": "19000",
    }


def test_the_model_and_range_change_the_numbers(staff_client, shop):
    yesterday = (timezone.now().date() - timedelta(days=1)).isoformat()
    rows = _csv(staff_client.get(REPORT, {"format": "csv", "end": yesterday}))
    assert [row["video"] for row in rows] == ["Total"]
    assert rows[0]["Net"] == "0"

    linear = _csv(staff_client.get(REPORT, {"format": "csv", "model": "linear"}))
    assert linear[0]["Net"] == "11000"  # one touch: every model agrees


def test_today_is_counted_live_from_the_events_earlier_days_from_the_roll_up(staff_client, shop):
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)
    # A roll-up of today made before most of today's events: not what today shows.
    DailyVideoStats.objects.create(video_id=shop.id, day=today, views=3)
    DailyVideoStats.objects.create(video_id=shop.id, day=yesterday, views=7, impressions=20)
    # An event of yesterday not rolled up yet waits for the roll-up (every 5 minutes).
    late = timezone.now().replace(hour=0, minute=0, second=0) - timedelta(hours=1)
    engagement_events(shop, {"view": 2}, late)

    (video, *_) = _csv(staff_client.get(REPORT, {"format": "csv", "start": yesterday.isoformat()}))
    (today_only, *_) = _csv(staff_client.get(REPORT, {"format": "csv", "start": today.isoformat()}))

    assert (video["Impressions"], video["Views"]) == ("420", "107")
    assert (today_only["Impressions"], today_only["Views"]) == ("400", "100")


def test_the_daily_chart_of_a_video(staff_client, shop):
    response = staff_client.get(REPORT, {"video": str(shop.id)})

    html = response.content.decode()
    assert "Daily attributed sales: Ridge run" in html
    assert html.count("<rect ") == 30  # one bar per day of the default range
    assert f"{timezone.now().date()}: €120.00" in html  # before refunds


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "not-a-day"},
        {"model": "most_liked"},
        {"by": "weather"},
        {"video": "not-a-uuid"},
    ],
)
def test_bad_filters_show_an_error_not_a_500(staff_client, shop, query):
    response = staff_client.get(REPORT, query)

    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()


def test_staff_without_a_merchant_see_nothing(client, shop, django_user_model):
    user = django_user_model.objects.create_user("nobody", is_staff=True)
    client.force_login(user)
    assert client.get(REPORT).status_code == 403


def test_paid_lines_are_listed_for_their_merchant_only(staff_client, superuser_client, shop):
    mine = staff_client.get(f"{ADMIN}/saleline/")
    assert mine.status_code == 200
    assert mine.context["cl"].result_count == 2
    assert superuser_client.get(f"{ADMIN}/saleline/").context["cl"].result_count == 3


def test_staff_set_a_rate_for_their_own_product_only(staff_client, shop):
    jacket = shop.tags.get(merchant_id=MERCHANT_A)
    board = shop.tags.get(merchant_id=MERCHANT_B)
    page = staff_client.get(f"{ADMIN}/productcommissionrate/add/").content.decode()
    assert "Down Jacket" in page
    assert "Teak Board" not in page

    refused = staff_client.post(
        f"{ADMIN}/productcommissionrate/add/", {"product_id": board.product_id, "rate_bps": 1}
    )
    assert refused.status_code == 200  # the form again, with the error
    assert not ProductCommissionRate.objects.exists()

    staff_client.post(
        f"{ADMIN}/productcommissionrate/add/", {"product_id": jacket.product_id, "rate_bps": 1550}
    )
    rate = ProductCommissionRate.objects.get()
    assert (rate.merchant_id, rate.rate_bps) == (MERCHANT_A, 1550)


def test_staff_set_windows_for_their_own_merchant_only(staff_client, shop):
    staff_client.post(
        f"{ADMIN}/merchantattributionsettings/add/",
        {
            "merchant_id": str(MERCHANT_B),
            "click_window": "30 00:00:00",
            "view_window": "1 00:00:00",
            "default_model": "linear",
            "creator_code_rule": "code_wins",
        },
    )
    assert not MerchantAttributionSettings.objects.exists()

    staff_client.post(
        f"{ADMIN}/merchantattributionsettings/add/",
        {
            "merchant_id": str(MERCHANT_A),
            "click_window": "30 00:00:00",
            "view_window": "1 00:00:00",
            "default_model": "linear",
            "creator_code_rule": "code_wins",
        },
    )
    settings = MerchantAttributionSettings.objects.get()
    assert (settings.merchant_id, settings.click_window) == (MERCHANT_A, timedelta(days=30))
    # The report now opens with the merchant's model.
    assert staff_client.get(REPORT).context["report"].model == "linear"


def test_staff_choose_whether_a_creator_code_or_an_in_app_tap_wins(staff_client, shop):
    form = {
        "merchant_id": str(MERCHANT_A),
        "click_window": "7 00:00:00",
        "view_window": "1 00:00:00",
        "default_model": "last_touch",
    }

    unknown = staff_client.post(
        f"{ADMIN}/merchantattributionsettings/add/", {**form, "creator_code_rule": "both"}
    )
    assert unknown.status_code == 200 and not MerchantAttributionSettings.objects.exists()
    staff_client.post(
        f"{ADMIN}/merchantattributionsettings/add/", {**form, "creator_code_rule": "tap_wins"}
    )

    assert MerchantAttributionSettings.objects.get().creator_code_rule == "tap_wins"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_the_csv_makes_a_cell_that_starts_like_a_formula_inert(staff_client, start):
    # Captions are typed by creators: a spreadsheet must not run one as a formula.
    caption = f'{start}HYPERLINK("http://x.io","go")'  # the label: 40 characters at most
    now = timezone.now()
    tag = ProductTagFactory(
        video=VideoFactory(caption=caption),
        merchant_id=MERCHANT_A,
        product_id=ProductCardFactory(merchant_id=MERCHANT_A, title="Down Jacket").product_id,
    )
    engagement_event("buyer", tag.video, "tag_tap", now - timedelta(hours=1))
    event_consume(envelope=order_paid("buyer", [paid_line(tag, 2000)], now))

    rows = _csv(staff_client.get(REPORT, {"format": "csv"}))

    assert rows[0]["video"] == "'" + caption
    assert rows[0]["Net"] == "2000"  # numbers stay numbers
    assert rows[-1]["video"] == "Total"


def test_a_creators_own_purchase_shows_in_the_report_with_no_commission(staff_client, shop):
    now = timezone.now()
    jacket = shop.tags.get(merchant_id=MERCHANT_A)
    creator_user = shop.creator.user_id
    engagement_event(creator_user, shop, "tag_tap", now - timedelta(hours=1))
    event_consume(envelope=order_paid(creator_user, [paid_line(jacket, 4000)], now))

    video, _, total = _csv(staff_client.get(REPORT, {"format": "csv"}))

    assert (video["Attributed sales"], video["Net"]) == ("16000", "15000")
    assert (video["Commission owed"], video["Self-purchases"]) == ("1100", "4000")
    assert total["Self-purchases"] == "4000"
    lines = staff_client.get(f"{ADMIN}/saleline/", {"credits__is_self_purchase__exact": "1"})
    assert lines.context["cl"].result_count == 1
