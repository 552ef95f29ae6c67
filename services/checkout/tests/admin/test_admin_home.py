"""The checkout admin's home page (ADR 28): today's and the last 7 days' sales of the
user's merchants (net of refunds, split by lines picked from a video), orders waiting to
ship, and for platform staff the pipes. Every number links to a list the admin accepts
that holds what was counted. Orders are rows made here (no checkout is needed to count).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from clipcart_shared.merchant_access.demo_logins import STAFF_GROUP
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.testing.fixtures import signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from orders.models import Order, OrderLine, Refund
from payments.models import WebhookEvent
from tests.admin.conftest import ADDRESS, MERCHANT_IDS, _group, _merchant_name, _staff

pytestmark = pytest.mark.django_db

HOME = "/checkout/admin/"
A, B = sorted(MERCHANT_IDS.values())
VIDEO = uuid.uuid4()


def _line(merchant_id: uuid.UUID, *, unit: int, quantity: int = 1, **fields: Any) -> dict:
    return {
        "variant_id": uuid.uuid4(),
        "product_id": uuid.uuid4(),
        "merchant_id": merchant_id,
        "merchant_name": _merchant_name(merchant_id),
        "sku": "SKU-1",
        "title": "A thing",
        "quantity": quantity,
        "unit_price_amount": unit,
        "line_total_amount": unit * quantity,
        **fields,
    }


def _order(lines: list[dict], *, paid_days_ago: int | None = 0, status: str = "paid") -> Order:
    subtotal = sum(line["line_total_amount"] for line in lines)
    refunded = sum(line.get("refunded_amount", 0) for line in lines)
    now = timezone.now()
    order = Order.objects.create(
        user_id="buyer",
        email="buyer@example.com",
        shipping_address=ADDRESS,
        status=status,
        currency="EUR",
        subtotal_amount=subtotal,
        shipping_amount=490,
        total_amount=subtotal + 490,
        refunded_amount=refunded,
        reservation_id=uuid.uuid4(),
        payment_intent_id=f"pi_home_{uuid.uuid4().hex}",
        stripe_customer_id="cus_home",
        expires_at=now + timedelta(minutes=15),
        paid_at=None if paid_days_ago is None else now - timedelta(days=paid_days_ago),
    )
    OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in lines])
    return order


@pytest.fixture
def sales() -> dict[str, Order]:
    """Today: A sells 2 x €10.00 from a video (€5.00 refunded since) and, in an order
    shared with B, €30.00 not from a video; B sells €70.00 from a video. Three days ago
    A sold 3 x €4.00 from a video (shipped). Not counted: A's €99.99 paid eight days ago
    and €55.55 not paid."""
    return {
        "refunded": _order(
            [_line(A, unit=1000, quantity=2, source_video_id=VIDEO, refunded_amount=500)],
            status="partially_refunded",
        ),
        "both": _order([_line(A, unit=3000), _line(B, unit=7000, source_video_id=VIDEO)]),
        "shipped": _order(
            [_line(A, unit=400, quantity=3, source_video_id=VIDEO, shipped_quantity=3)],
            paid_days_ago=3,
            status="shipped",
        ),
        "old": _order([_line(A, unit=9999)], paid_days_ago=8),
        "unpaid": _order([_line(A, unit=5555)], paid_days_ago=None, status="pending_payment"),
    }


def _client_of(merchant_id: uuid.UUID) -> Client:
    group = _group(STAFF_GROUP, STAFF_PERMISSIONS)
    return signed_in(_staff(f"staff-{merchant_id}", merchant_id, group))


@pytest.fixture
def client_of_a() -> Client:
    return _client_of(A)


@pytest.fixture
def client_of_b() -> Client:
    return _client_of(B)


def _figures(response: Any) -> dict[tuple[str, str], Any]:
    """{(panel, label): figure} of the home page."""
    assert response.status_code == 200
    return {
        (panel.title, figure.label): figure
        for panel in response.context["home_panels"]
        for figure in panel.figures
    }


def _values(response: Any, panel: str) -> dict[str, str]:
    return {
        label: figure.value
        for (title, label), figure in _figures(response).items()
        if title == panel
    }


def test_merchant_staff_see_their_lines_sales_net_of_refunds_split_by_video(client_of_a, sales):
    response = client_of_a.get(HOME)

    assert _values(response, "Today") == {
        "Net sales": "€45.00",
        "Orders": "2",
        "Units": "3",
        "Net from videos": "€15.00",
        "Net not from a video": "€30.00",
    }
    figures = _figures(response)
    assert figures[("Today", "Net sales")].hint == "€5.00 refunded"
    assert figures[("Today", "Net from videos")].hint == "1 orders, 2 units"
    assert figures[("Today", "Net not from a video")].hint == "1 orders, 1 units"
    assert _values(response, "Last 7 days") == {
        "Net sales": "€57.00",
        "Orders": "3",
        "Units": "6",
        "Net from videos": "€27.00",
        "Net not from a video": "€30.00",
    }
    # Paid and not shipped: today's two and the one of eight days ago.
    assert _values(response, "To do") == {"Orders waiting to ship": "3", "Returns to decide": "0"}
    assert "Pipes" not in {panel.title for panel in response.context["home_panels"]}
    assert "€70.00" not in response.content.decode()  # B's line of the shared order


def test_merchant_b_sees_only_b_numbers(client_of_b, sales):
    response = client_of_b.get(HOME)

    assert _values(response, "Today") == {
        "Net sales": "€70.00",
        "Orders": "1",
        "Units": "1",
        "Net from videos": "€70.00",
        "Net not from a video": "€0.00",
    }
    assert _values(response, "Last 7 days")["Net sales"] == "€70.00"
    assert _values(response, "To do")["Orders waiting to ship"] == "1"
    content = response.content.decode()
    assert "€45.00" not in content and "€57.00" not in content


def test_staff_of_no_merchant_see_nothing_sold(sales):
    group = _group(STAFF_GROUP, STAFF_PERMISSIONS)
    user = get_user_model().objects.create_user(username="nobody", is_staff=True)
    user.groups.add(group)

    response = signed_in(user).get(HOME)

    assert _values(response, "Last 7 days")["Net sales"] == "€0.00"
    assert _values(response, "To do")["Orders waiting to ship"] == "0"


def test_the_chart_has_a_bar_per_day_scaled_to_the_best_linking_to_its_orders(client_of_a, sales):
    response = client_of_a.get(HOME)

    (week,) = [panel for panel in response.context["home_panels"] if panel.title == "Last 7 days"]
    assert [bar.text for bar in week.bars] == ["€0.00"] * 3 + ["€12.00"] + ["€0.00"] * 2 + [
        "€45.00"
    ]
    assert [bar.height for bar in week.bars][-4:] == [round(1200 / 4500 * 100, 1), 0, 0, 100.0]
    content = response.content.decode()
    assert f'<a href="{escape(week.bars[3].url)}" style="height: 26.7%"' in content
    listed = client_of_a.get(week.bars[3].url)
    assert {order.id for order in listed.context["cl"].result_list} == {sales["shipped"].id}
    assert '<script src="http' not in content  # nothing from a CDN


def _listed_ids(client: Client, url: str) -> set[uuid.UUID]:
    response = client.get(url)
    # A filter the change list does not accept redirects to `?e=1`.
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    return {order.id for order in response.context["cl"].result_list}


def test_each_number_links_to_a_list_holding_what_it_counted(client_of_a, sales):
    figures = _figures(client_of_a.get(HOME))

    def listed(panel: str, label: str) -> set[uuid.UUID]:
        return _listed_ids(client_of_a, figures[(panel, label)].url)

    today = {sales["refunded"].id, sales["both"].id}
    assert listed("Today", "Orders") == today
    assert listed("Today", "Net sales") == today
    assert listed("Today", "Net from videos") == {sales["refunded"].id}
    assert listed("Today", "Net not from a video") == {sales["both"].id}
    assert listed("Last 7 days", "Orders") == today | {sales["shipped"].id}
    assert listed("To do", "Orders waiting to ship") == today | {sales["old"].id}
    response = client_of_a.get(figures[("To do", "Returns to decide")].url)
    assert response.status_code == 200 and response.context["cl"].result_count == 0


def test_platform_staff_see_every_merchant_and_the_pipes(superuser_client, sales):
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(type="order.paid", source="checkout", subject="1", data={}),
            OutboxEvent(type="order.paid", source="checkout", subject="2", data={}),
            OutboxEvent(
                type="order.paid",
                source="checkout",
                subject="3",
                data={},
                published_at=timezone.now(),
            ),
        ]
    )
    for status in ["received", "received", "failed", "mismatch", "processed"]:
        WebhookEvent.objects.create(
            event_id=f"evt_{uuid.uuid4().hex}", type="charge.refunded", payload={}, status=status
        )
    order = sales["both"]
    for status in ["failed", "pending", "pending", "succeeded"]:
        Refund.objects.create(order=order, status=status, amount=100, lines={}, created_by="x")
    stuck = Refund.objects.filter(status="pending").first()
    assert stuck is not None
    Refund.objects.filter(id=stuck.id).update(created_at=timezone.now() - timedelta(minutes=11))

    response = superuser_client.get(HOME)

    assert _values(response, "Today") == {
        "Net sales": "€115.00",
        "Orders": "2",
        "Units": "4",
        "Net from videos": "€85.00",
        "Net not from a video": "€30.00",
    }
    assert _values(response, "To do")["Orders waiting to ship"] == "3"
    assert _values(response, "Pipes") == {
        "Outbox events not yet sent": "2",
        "Stripe events waiting": "2",
        "Stripe events failed or mismatched": "2",
        "Refunds failed": "1",
        "Refunds pending over 10 minutes": "1",
    }
    figures = _figures(response)
    for (panel, label), figure in figures.items():
        answer = superuser_client.get(figure.url)
        assert answer.status_code == 200, (panel, label, figure.url, answer.get("Location"))
        if figure.value.isdigit() and label != "Units":  # a count of the rows listed
            assert answer.context["cl"].result_count == int(figure.value), (panel, label)
    assert _listed_ids(superuser_client, figures[("Pipes", "Refunds failed")].url) == {order.id}


def _seed_orders(count: int) -> None:
    for index in range(count):
        _order(
            [
                _line(A, unit=100 + index, source_video_id=VIDEO if index % 2 else None),
                _line(B, unit=200),
            ],
            paid_days_ago=index % 7,
        )


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_home_queries_do_not_grow_with_orders(
    client_of_a, superuser_client, django_assert_max_num_queries
):
    _seed_orders(1)
    merchant_one, platform_one = _home_queries(client_of_a), _home_queries(superuser_client)
    _seed_orders(20)

    assert _home_queries(client_of_a) == merchant_one
    assert _home_queries(superuser_client) == platform_one
    # The page's own three (and three of pipes, two of the ledger), beside the session,
    # the user, their merchants, permissions and the recent actions Django's index shows.
    with django_assert_max_num_queries(9):
        client_of_a.get(HOME)
    with django_assert_max_num_queries(11):
        superuser_client.get(HOME)
