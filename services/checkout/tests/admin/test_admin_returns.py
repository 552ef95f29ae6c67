"""Returns in the checkout admin: each shop's staff see and decide only their own shop's
returns; "restock these units" on the refund page (the people and orders are
`tests/admin/conftest.py`'s; the refunds real, at the Stripe emulator)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from clipcart_tools.testing.fixtures import signed_in
from orders.models import MerchantPolicy, Order, OrderReturn, Refund, ReturnLine
from tests.admin.conftest import (
    ADMIN,
    _group,
    _line_of,
    _messages,
    _refund,
    _staff,
    _stripe_refunds,
)
from tests.after_payment import deliver, refunded_events_consume

pytestmark = pytest.mark.django_db

RETURNS = f"{ADMIN}/orders/orderreturn"


def _return_of(order: Order, merchant_id: uuid.UUID) -> OrderReturn:
    line = _line_of(order, merchant_id)
    order_return = OrderReturn.objects.create(
        order=order,
        merchant_id=merchant_id,
        user_id=order.user_id,
        reason="damaged",
        idempotency_key=str(uuid.uuid4()),
    )
    ReturnLine.objects.create(order_return=order_return, line=line, quantity=1)
    return order_return


@pytest.fixture
def delivered_order_of_both(paid_order_of_both: Order) -> Order:
    return deliver(paid_order_of_both)


def _decide(client: Client, order_return: OrderReturn, **data: object):
    return client.post(f"{RETURNS}/{order_return.id}/decide/", data)


def test_staff_see_only_their_shops_returns(
    staff_client, delivered_order_of_both, merchant_a, merchant_b
):
    own = _return_of(delivered_order_of_both, merchant_a)
    theirs = _return_of(delivered_order_of_both, merchant_b)
    listed = staff_client.get(f"{RETURNS}/")
    assert listed.status_code == 200
    assert {r.id for r in listed.context["cl"].result_list} == {own.id}
    assert staff_client.get(f"{RETURNS}/{own.id}/change/").status_code == 200
    assert staff_client.get(f"{RETURNS}/{theirs.id}/change/").status_code == 404


def test_staff_cannot_decide_another_shops_return(
    staff_client, delivered_order_of_both, merchant_b
):
    theirs = _return_of(delivered_order_of_both, merchant_b)
    assert _decide(staff_client, theirs, action="approve").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "requested"


def test_staff_approve_then_receive_with_restock_and_the_refund_is_made(
    staff_client, delivered_order_of_both, merchant_a, stripe_emulator, catalog, variants
):
    MerchantPolicy.objects.create(merchant_id=merchant_a, return_instructions="Send it to A.")
    order_return = _return_of(delivered_order_of_both, merchant_a)
    page = staff_client.get(f"{RETURNS}/{order_return.id}/change/")
    assert "decision_form" in page.context

    response = _decide(staff_client, order_return, action="approve")
    assert response.status_code == 302
    order_return.refresh_from_db()
    assert (order_return.status, order_return.instructions) == ("approved", "Send it to A.")

    before = catalog.stock(variants[0]["id"])
    response = _decide(staff_client, order_return, action="receive", restock="on")
    assert response.status_code == 302
    order_return.refresh_from_db()
    assert (order_return.status, order_return.restock) == ("refunded", True)
    line = _line_of(delivered_order_of_both, merchant_a)
    assert _stripe_refunds(stripe_emulator, delivered_order_of_both) == [line.line_total_amount]
    refunded_events_consume()
    assert catalog.stock(variants[0]["id"])[0] == before[0] + 1


def test_a_rejection_needs_a_reason_and_a_second_approval_is_refused(
    staff_client, delivered_order_of_both, merchant_a
):
    order_return = _return_of(delivered_order_of_both, merchant_a)
    response = _decide(staff_client, order_return, action="reject", rejection_reason=" ")
    assert response.status_code == 200  # the form again, with the error
    assert response.context["decision_form"].errors["rejection_reason"]
    order_return.refresh_from_db()
    assert order_return.status == "requested"

    _decide(staff_client, order_return, action="reject", rejection_reason="Used")
    response = _decide(staff_client, order_return, action="approve")
    assert response.status_code == 302
    assert _messages(response)[-1].startswith("Nothing was changed: The return is rejected")
    order_return.refresh_from_db()
    assert (order_return.status, order_return.rejection_reason) == ("rejected", "Used")


def test_staff_who_may_only_look_cannot_decide(delivered_order_of_both, merchant_a):
    looking = [("orders", "view_order"), ("orders", "view_orderreturn")]
    client = signed_in(_staff("looks-at-a", merchant_a, _group("Looking", looking)))
    order_return = _return_of(delivered_order_of_both, merchant_a)
    assert "decision_form" not in client.get(f"{RETURNS}/{order_return.id}/change/").context
    assert _decide(client, order_return, action="approve").status_code == 403
    order_return.refresh_from_db()
    assert order_return.status == "requested"


def test_the_refund_page_restocks_the_units_asked_once_refunded(
    staff_client, paid_order_of_both, merchant_a, catalog, variants
):
    line = _line_of(paid_order_of_both, merchant_a)
    before = catalog.stock(variants[0]["id"])
    response = _refund(staff_client, paid_order_of_both, **{f"restock_{line.id}": "1"})
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.units, refund.restock) == ({str(line.id): 1}, True)
    assert refunded_events_consume() == 1
    assert catalog.stock(variants[0]["id"])[0] == before[0] + 1


def test_the_refund_page_refuses_restocking_more_units_than_the_line_has(
    staff_client, paid_order_of_both, merchant_a
):
    line = _line_of(paid_order_of_both, merchant_a)
    response = _refund(staff_client, paid_order_of_both, **{f"restock_{line.id}": "2"})
    assert response.status_code == 200
    assert response.context["form"].errors[f"restock_{line.id}"]
    assert not Refund.objects.exists()
