"""`make demo`, after payment: the shopper buys again from the same video, two lines (or
two units of one); the merchant's staff ship them in two parcels from the order's "Ship"
page; the carrier's signed tracking webhook delivers both; the shopper returns the first
line; the staff approve the return, then mark it received with "restock", so it is
refunded (its credits reversed) and its units go back to catalog's stock; and once the
return window closes (`RETURN_WINDOW_SECONDS`, short in the demo) the line kept settles:
the creators' earnings show it `settled` and the returned line `ineligible`. Money out:
the merchant's staff set up payouts from the admin and the creators from the app (Stripe
Connect onboarding, on the emulator); once the part settles, checkout transfers the
merchant its share in its next batch (`MERCHANT_TRANSFER_PERIOD_SECONDS`), and video's
next payout batch (`CREATOR_PAYOUT_PERIOD_SECONDS`, short
in the demo) pays the creators their settled commission.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from clipcart_shared.money import Money
from clipcart_tools.admin_session import AdminSession
from clipcart_tools.journey import (
    MODELS,
    Journey,
    JourneyError,
    difference,
    settlement_by_video,
)

if TYPE_CHECKING:
    from clipcart_tools.demo_journey import Steps

CARRIER = "DHL"
# The demo shortens every return window to this (checkout's RETURN_WINDOW_SECONDS).
DEMO_RETURN_WINDOW_SECONDS = 30
# And money out: checkout's transfer sweep, video's payout batches and their run, and the
# least a payout sends (minor units).
DEMO_ENVIRONMENT = {
    "RETURN_WINDOW_SECONDS": str(DEMO_RETURN_WINDOW_SECONDS),
    "MERCHANT_TRANSFER_SWEEP_SECONDS": "5",
    "MERCHANT_TRANSFER_PERIOD_SECONDS": "20",
    "CREATOR_PAYOUT_PERIOD_SECONDS": "20",
    "CREATOR_PAYOUT_RUN_SECONDS": "5",
    "CREATOR_PAYOUT_MINIMUM_AMOUNT": "1",
}


def _paid_out(earnings: dict[str, Any]) -> dict[str, int]:
    """{currency: paid out} of an earnings answer."""
    return {row["currency"]: row["paid_out"] for row in earnings.get("payouts", [])}


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def _units(order: dict[str, Any]) -> list[tuple[str, int]]:
    """The order's units as (line id, 1) pairs, line by line."""
    return [(line["id"], 1) for line in order["lines"] for _ in range(line["quantity"])]


def _parcel(order: dict[str, Any], units: list[tuple[str, int]]) -> dict[str, str]:
    """The Ship page's quantities for a parcel of `units` (every line field given)."""
    counts = {line["id"]: 0 for line in order["lines"]}
    for line_id, quantity in units:
        counts[line_id] += quantity
    return {f"line_{line_id}": str(quantity) for line_id, quantity in counts.items()}


def demo_after_payment(
    journey: Journey,
    steps: Steps,
    *,
    shopper: str,
    creators: list[str],
    product: dict[str, Any],
    source: dict[str, str],
    admin: AdminSession,
    catalog_admin: AdminSession,
) -> dict[str, Any]:
    """Play the part after payment (signed-in `admin` at checkout, `catalog_admin` at
    catalog); returns what it saw. JourneyError when a step fails."""
    say = journey.say
    before = {
        (creator, model): settlement_by_video(journey.earnings(creator, model))
        for creator in creators
        for model in MODELS
    }
    in_stock = [v for v in product["variants"] if v["stock_status"] != "out_of_stock"]
    with steps.step(f"The shopper buys {product['title']} again from the same video"):
        if len(in_stock) >= 2:
            for variant in in_stock[:2]:
                journey.add_to_cart(shopper, variant["id"], source)
        else:
            journey.add_to_cart(shopper, in_stock[0]["id"], source, quantity=2)
        checkout = journey.checkout(shopper)
        if journey.pay(checkout) != "succeeded":
            raise JourneyError("The second order's payment did not succeed.")
        order = journey.wait_for_status(shopper, checkout["order"]["id"], "paid")
        for line in order["lines"]:
            say(f"    {line['quantity']} x {line['title']}")

    merchant = order["lines"][0]["merchant"]
    with steps.step(f"Staff of {merchant['name']} set up payouts (Stripe Connect onboarding)"):
        onboarded = admin.post_form(
            "payments/merchantpayoutaccount/set-up/", {"merchant_id": merchant["id"]}
        )
        merchant_account = str(onboarded.json()["account"]["id"])

        def merchant_enabled() -> bool:
            listed = admin.session.get(
                f"{admin.base}/payments/merchantpayoutaccount/",
                params={"status__exact": "enabled"},
                timeout=30,
            )
            return merchant_account in listed.text

        journey.wait("account.updated to enable the merchant's account", merchant_enabled)
        say(f"    payout account {merchant_account}: enabled")
    creator_accounts: dict[str, str] = {}
    paid_before = {creator: _paid_out(journey.earnings(creator)) for creator in creators}
    with steps.step("The creators set up payouts in the app (Stripe Connect onboarding)"):
        for creator in creators:
            creator_accounts[creator] = journey.creator_payout_set_up(creator)
            journey.wait(
                f"account.updated to enable {creator}'s account",
                lambda creator=creator: journey.creator_payout_status(creator) == "enabled",
            )
            say(f"    {creator}: payout account {creator_accounts[creator]} enabled")

    units = _units(order)
    parcels = [units[:1], units[1:]]
    shipped_as = ["partially_shipped", "shipped"]
    for number, (parcel, status) in enumerate(zip(parcels, shipped_as, strict=True), start=1):
        tracking = f"DEMO{order['id'][:8].upper()}{number}"
        with steps.step(f"Staff ship parcel {number} of 2 on the order's Ship page ({tracking})"):
            admin.post_form(
                f"orders/order/{order['id']}/ship/",
                {
                    "carrier": CARRIER,
                    "tracking_number": tracking,
                    "tracking_url": f"https://tracking.example/{tracking}",
                    **_parcel(order, parcel),
                },
            )
            shipped = journey.wait_for_status(shopper, order["id"], status, timeout=30)
            say(f"    order {shipped['id'][:8]}: {shipped['status']}")

    with steps.step("The carrier's tracking webhook reports both parcels delivered"):
        for shipment in shipped["shipments"]:
            answer = journey.carrier_reports(shipment["tracking_number"], CARRIER, "delivered")
            if not answer.get("matched"):
                raise JourneyError(f"The carrier's report matched no shipment: {answer}")
        delivered = journey.wait_for_status(shopper, order["id"], "delivered", timeout=30)
        say(f"    order {delivered['id'][:8]}: delivered; returns taken for a short while")

    returned = delivered["lines"][0]
    whole = len(delivered["lines"]) > 1  # otherwise one unit of the single line
    quantity = returned["quantity"] if whole else 1
    with steps.step(f"The shopper returns {quantity} x {returned['title']}: changed mind"):
        asked = journey.return_request(
            shopper,
            order["id"],
            [{"line_id": returned["id"], "quantity": quantity}],
            reason="changed_mind",
        )
        say(f"    return {asked['id'][:8]}: {asked['status']}")

    with steps.step("Staff approve the return, then mark it received and restock it"):
        decide = f"orders/orderreturn/{asked['id']}/decide/"
        admin.post_form(decide, {"action": "approve"})
        admin.post_form(decide, {"action": "receive", "restock": "on"})
        journey.wait(
            "the return to be refunded",
            lambda: journey.returns(shopper, order["id"])[0]["status"] == "refunded",
        )
        reference = f"return-{asked['id']}"
        # What the merchant sees in catalog's admin: the movement that put the units back.
        journey.wait(
            "the returned units back in catalog's stock",
            lambda: re.search(
                rf"\b{reference}\b",
                catalog_admin.session.get(
                    f"{catalog_admin.base}/inventory/stockmovement/",
                    params={"q": reference, "kind__exact": "restocked"},
                    timeout=30,
                ).text,
            ),
        )
        refunded = journey.order(shopper, order["id"])
        say(f"    refunded {refunded['refunded']['amount']}; restocked ({reference})")

    # What settles: the lines less the refund; what never does: the line returned whole.
    kept = sum(line["line_total"]["amount"] for line in order["lines"])
    kept -= refunded["refunded"]["amount"]
    ineligible = returned["line_total"]["amount"] if whole else 0

    def changes() -> dict[tuple[str, str], dict[str, tuple[int, ...]]]:
        return {
            (creator, model): difference(
                settlement_by_video(journey.earnings(creator, model)), before[(creator, model)]
            )
            for creator in creators
            for model in MODELS
        }

    def summed(now: dict[tuple[str, str], dict[str, tuple[int, ...]]], model: str) -> list[int]:
        """The model's (pending, settled net, settled commission, ineligible) changes."""
        rows = [
            values
            for (_, row_model), per in now.items()
            if row_model == model
            for values in per.values()
        ]
        return [sum(values[index] for values in rows) for index in range(4)]

    def settled() -> dict[tuple[str, str], dict[str, tuple[int, ...]]] | None:
        now = changes()
        wanted = all(
            (settled_net, ineligible_sales) == (kept, ineligible)
            for _, settled_net, _, ineligible_sales in (summed(now, model) for model in MODELS)
        )
        return now if wanted else None

    with steps.step(
        f"The return window closes ({DEMO_RETURN_WINDOW_SECONDS} s in the demo): the kept "
        "line's commission settles"
    ):
        seen_settled = journey.wait(
            "the kept line to settle in the creators' earnings",
            settled,
            timeout=DEMO_RETURN_WINDOW_SECONDS + 60,
        )
        for model in MODELS:
            _, settled_net, commission, ineligible_sales = summed(seen_settled, model)
            say(
                f"    {model}: settled {settled_net} (commission {commission}), "
                f"ineligible {ineligible_sales}"
            )

    with steps.step(
        "The merchant's part settles: checkout's next batch transfers its share to its "
        "Stripe account (one transfer per account and batch)"
    ):
        transfer = journey.wait(
            "the merchant transfer on the emulator",
            lambda: next(iter(journey.stripe_transfers(destination=merchant_account)), None),
            timeout=120,
        )
        orders_in_batch = (transfer.get("metadata") or {}).get("orders", "?")
        say(
            f"    transfer {transfer['id']}: {_money(transfer['amount'], transfer['currency'])} "
            f"to {merchant_account}, batch of {orders_in_batch} order(s) (its lines and "
            "shipping kept, less the platform fee and the creators' commission)"
        )

    def payouts() -> dict[str, dict[str, int]] | None:
        gained = {}
        for creator in creators:
            now = _paid_out(journey.earnings(creator))
            was = paid_before[creator]
            gained[creator] = {c: now[c] - was.get(c, 0) for c in now if now[c] > was.get(c, 0)}
        return gained if any(gained.values()) else None

    with steps.step("Video's payout batch pays the creators their settled commission"):
        paid = journey.wait("a creator payout", payouts, timeout=120)
        for creator, amounts in sorted(paid.items()):
            for currency, amount in amounts.items():
                sent = journey.stripe_transfers(destination=creator_accounts[creator])
                if not any(t["amount"] == amount for t in sent):
                    raise JourneyError(f"No transfer of {amount} to {creator} on the emulator.")
                say(
                    f"    payout of {_money(amount, currency)} to {creator} "
                    f"({creator_accounts[creator]})"
                )
    return {
        "transfer": transfer,
        "payouts": paid,
        "order": journey.order(shopper, order["id"]),
        "return": journey.returns(shopper, order["id"])[0],
        "settled": seen_settled,
        "kept": kept,
        "ineligible": ineligible,
    }
