"""The checkout admin's refund page: merchant staff refund their own lines, platform staff
any line or the whole order, through the real Stripe SDK against the emulator (the people
and the orders are `tests/admin/conftest.py`'s).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order, Refund
from tests.admin.conftest import (
    ORDERS,
    _line_of,
    _messages,
    _nothing_refunded,
    _refund,
    _refund_form,
    _stripe_refunds,
)

pytestmark = pytest.mark.django_db

# --- refunds ----------------------------------------------------------------------------------


def test_staff_refund_their_line_of_a_paid_order_on_stripe_with_a_record_and_an_event(
    staff_client, paid_order_of_both, merchant_a, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_a, line_b = _line_of(order, merchant_a), _line_of(order, merchant_b)
    form = _refund_form(staff_client, order)
    assert [line.id for line in form.fields["lines"].queryset] == [line_a.id]
    assert form.initial["amount"] == Decimal(line_a.line_total_amount) / 100

    response = _refund(staff_client, order)

    assert response.status_code == 302
    assert response["Location"] == f"{ORDERS}/{order.id}/change/"
    order.refresh_from_db()
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    amount = line_a.line_total_amount
    assert (order.status, order.refunded_amount) == ("partially_refunded", amount)
    assert (line_a.refunded_amount, line_b.refunded_amount) == (amount, 0)
    refund = Refund.objects.get()
    assert (refund.amount, refund.lines, refund.created_by, refund.reason) == (
        amount,
        {str(line_a.id): amount},
        "admin:staff-of-a",
        "Arrived damaged",
    )
    assert refund.stripe_refund_id.startswith("re_")
    assert _stripe_refunds(stripe_emulator, order) == [amount]
    event = OutboxEvent.objects.get(type="order.refunded")
    assert event.data["order_id"] == str(order.id)
    assert event.data["lines"] == [{"line_id": str(line_a.id), "amount": amount}]
    assert _messages(response) == [
        f"Refunded €{Decimal(amount) / 100:,.2f} of order {str(order.id)[:8]}; "
        "the order is now partially refunded."
    ]


def test_staff_refund_part_of_their_line(staff_client, paid_order_of_both, merchant_a):
    order = paid_order_of_both

    response = _refund(staff_client, order, amount="5.05")

    assert response.status_code == 302
    line_a = _line_of(order, merchant_a)
    assert line_a.refunded_amount == 505
    assert Refund.objects.get().lines == {str(line_a.id): 505}
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("partially_refunded", 505)


def test_a_refund_above_what_is_left_on_the_lines_is_refused_and_writes_nothing(
    staff_client, paid_order_of_both, merchant_a, stripe_emulator
):
    order = paid_order_of_both
    left = Decimal(_line_of(order, merchant_a).line_total_amount) / 100

    response = _refund(staff_client, order, amount=str(left + Decimal("0.01")))

    assert response.status_code == 200
    assert _messages(response) == [
        f"Nothing was refunded: at most €{left:,.2f} is left to refund on the ticked lines."
    ]
    _nothing_refunded(order, stripe_emulator)


def test_staff_cannot_refund_another_merchants_line(
    staff_client, paid_order_of_both, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_b = _line_of(order, merchant_b)

    response = _refund(staff_client, order, lines=[str(line_b.id)], amount="1.00")

    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == [
        f"Select a valid choice. {line_b.id} is not one of the available choices."
    ]
    _nothing_refunded(order, stripe_emulator)


def test_staff_must_tick_one_of_their_lines(staff_client, paid_order_of_both, stripe_emulator):
    response = _refund(staff_client, paid_order_of_both, lines=[], amount="1.00")

    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == ["This field is required."]
    _nothing_refunded(paid_order_of_both, stripe_emulator)


def test_a_pending_order_cannot_be_refunded(staff_client, checkout, variants, stripe_emulator):
    order = checkout(variants[0])

    response = _refund(staff_client, order)

    assert response.status_code == 200
    assert _messages(response) == [
        "Nothing was refunded: the order is pending payment, so there is no payment to refund."
    ]
    # (The emulator cannot list refunds of an unpaid PaymentIntent: it answers 500.)
    _nothing_refunded(order)


def test_with_stripe_down_a_refund_shows_a_message_and_stays_pending(
    staff_client, paid_order_of_both, stripe_down
):
    response = _refund(staff_client, paid_order_of_both)

    assert response.status_code == 200
    assert _messages(response) == [
        "Stripe cannot be reached right now. The refund is pending: it is sent again "
        "automatically, with the same key so never twice. Do not refund it again."
    ]
    paid_order_of_both.refresh_from_db()
    assert (paid_order_of_both.status, paid_order_of_both.refunded_amount) == ("paid", 0)
    pending = Refund.objects.get()
    assert (pending.status, pending.stripe_refund_id) == ("pending", "")
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 0


def test_when_stripe_refuses_the_refund_it_is_a_message_and_nothing_is_written(
    superuser_client, order_of_a, stripe_emulator
):
    # Cancelled orders are refundable by the service (a payment may arrive after the
    # cancel); this one was never paid, so Stripe refuses.
    Order.objects.filter(id=order_of_a.id).update(status=Order.Status.CANCELLED)
    order_of_a.refresh_from_db()

    response = _refund(superuser_client, order_of_a)

    assert response.status_code == 200
    (message,) = _messages(response)
    assert message.startswith("Stripe refused the refund (")
    assert message.endswith("). Nothing was refunded.")
    _nothing_refunded(order_of_a)
    assert Refund.objects.get().status == "failed"


def test_submitting_the_same_refund_page_twice_refunds_once(
    staff_client, paid_order_of_both, merchant_a, stripe_emulator
):
    order = paid_order_of_both
    form = _refund_form(staff_client, order)
    data = {
        "lines": [str(line_id) for line_id in form.initial["lines"]],
        "amount": "1.00",
        "refunded_when_shown": "0",
    }

    first = staff_client.post(f"{ORDERS}/{order.id}/refund/", data)
    second = staff_client.post(f"{ORDERS}/{order.id}/refund/", data)

    assert first.status_code == 302
    assert (second.status_code, second["Location"]) == (302, f"{ORDERS}/{order.id}/refund/")
    # Both show on the next page (the first redirect was not followed).
    assert _messages(second) == [
        f"Refunded €1.00 of order {str(order.id)[:8]}; the order is now partially refunded.",
        "This order was refunded since the page was opened, so nothing was refunded now. "
        "Check what is left and refund again if it is still needed.",
    ]
    assert Refund.objects.count() == 1
    assert _stripe_refunds(stripe_emulator, order) == [100]


def test_superuser_refunds_the_whole_order_shipping_included(
    superuser_client, paid_order_of_both, merchant_a, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_a, line_b = _line_of(order, merchant_a), _line_of(order, merchant_b)
    form = _refund_form(superuser_client, order)
    assert {line.id for line in form.fields["lines"].queryset} == {line_a.id, line_b.id}
    assert form.initial["lines"] == []
    assert form.initial["amount"] == Decimal(order.total_amount) / 100

    response = _refund(superuser_client, order)

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", order.total_amount)
    refund = Refund.objects.get()
    assert (refund.amount, refund.created_by) == (order.total_amount, "admin:platform")
    assert refund.lines == {
        str(line_a.id): line_a.line_total_amount,
        str(line_b.id): line_b.line_total_amount,
    }
    assert _stripe_refunds(stripe_emulator, order) == [order.total_amount]
    event = OutboxEvent.objects.get(type="order.refunded")
    assert sorted(event.data["lines"], key=lambda line: line["line_id"]) == sorted(
        [
            {"line_id": str(line_a.id), "amount": line_a.line_total_amount},
            {"line_id": str(line_b.id), "amount": line_b.line_total_amount},
        ],
        key=lambda line: line["line_id"],
    )
    assert _messages(response) == [
        f"Refunded €{Decimal(order.total_amount) / 100:,.2f} of order {str(order.id)[:8]}; "
        "the order is now refunded."
    ]
