"""`make demo`: start the whole embedded stack and watch a sale travel from a video to a
creator's commission, step by step, over the real HTTP APIs.

The journey, in order: a shopper reads the feed, finds a creator by searching with a
typo, watches two videos that tag the same
product and taps the tag on the first, adds the product to the cart from the second,
checks out, pays with a test card on the Stripe emulator; the webhook marks the order
paid and the attribution worker credits both videos under every model. A second shopper's
card is declined. The merchant's staff refund half of the first order in the checkout
admin, and the credits are reversed. Tables at the end; then the stack keeps running
until Ctrl-C (`--once`: it stops, with a non-zero status if a step failed).

Demo creators sign in as `demo-<handle>` (the video service's seed), demo merchants'
staff as `<slug>` / `<slug>-demo` (`clipcart_shared.merchant_access.demo_logins`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from clipcart_shared.merchant_access.demo_logins import DEMO_MERCHANTS, demo_id
from clipcart_shared.money import Money, currency_exponent
from clipcart_tools.admin_session import AdminSession
from clipcart_tools.demo_after_payment import demo_after_payment
from clipcart_tools.journey import (
    MODELS,
    Journey,
    JourneyError,
    difference,
    earnings_by_video,
)

# New shoppers every run: an earlier run's cart and taps would be part of this journey.
RUN = uuid.uuid4().hex[:6]
SHOPPER, SECOND_SHOPPER = f"demo-shopper-{RUN}", f"demo-shopper-{RUN}-2"


class Steps:
    """Numbered steps printed as they happen, with their time."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.number = 0

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.number += 1
        self.say(f"\n{self.number:>2}. {title}")
        started = time.monotonic()
        yield
        self.say(f"    done in {time.monotonic() - started:.1f} s")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table: the first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, ["-" * width for width in widths], *rows]:
        cells = [
            str(cell).ljust(width) if index == 0 else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells))
    return "\n".join(lines)


def money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def merchant_login(merchant_id: str) -> tuple[str, str]:
    for slug in DEMO_MERCHANTS:
        if str(demo_id("merchant", slug)) == merchant_id:
            return slug, f"{slug}-demo"
    raise JourneyError(f"Merchant {merchant_id} is not one of the demo merchants.")


def demo_play(journey: Journey, *, admin_bases: dict[str, str]) -> dict[str, Any]:
    """Play the journey, printing each step; returns what it saw (for the tables and the
    end-to-end tests). JourneyError when a step fails."""
    steps = Steps(journey.say)
    say = journey.say
    seen: dict[str, Any] = {}

    with steps.step("Shopper opens the app and reads the feed"):
        first, second, product_id = journey.shoppable_pair(SHOPPER)
        product = journey.product(product_id)
        variant = next(v for v in product["variants"] if v["stock_status"] != "out_of_stock")
        tag_first = next(t for t in first["tags"] if t["product"]["id"] == product_id)
        tag_second = next(t for t in second["tags"] if t["product"]["id"] == product_id)
        say(f"    {len(journey.feed(SHOPPER))} videos; both of these tag {product['title']}:")
        for video in (first, second):
            say(f'    - "{video["caption"]}" by @{video["creator"]["handle"]}')
    with steps.step("Searches the shop for the first video's creator, one letter wrong"):
        handle = first["creator"]["handle"]
        typo = handle[: len(handle) // 2] + handle[len(handle) // 2 + 1 :]
        found = journey.search(typo)
        if first["id"] not in {video["id"] for video in found}:
            raise JourneyError(f'Searching "{typo}" did not find @{handle}\'s video.')
        say(f'    "{typo}" finds {len(found)} videos, @{handle}\'s among them')
    creators = sorted({f"demo-{v['creator']['handle']}" for v in (first, second)})
    before = {
        (creator, model): earnings_by_video(journey.earnings(creator, model))
        for creator in creators
        for model in MODELS
    }

    with steps.step(f'Watches "{first["caption"]}" and taps the {product["title"]} tag'):
        journey.watch(SHOPPER, first, tap=tag_first["id"])
    with steps.step(f'Watches "{second["caption"]}"'):
        journey.watch(SHOPPER, second)
    with steps.step(f"Adds {product['title']} ({variant['title']}) to the cart from that video"):
        journey.add_to_cart(
            SHOPPER, variant["id"], {"video_id": second["id"], "tag_id": tag_second["id"]}
        )
    with steps.step("Checks out"):
        checkout = journey.checkout(SHOPPER)
        order = checkout["order"]
        say(f"    order {order['id']}: {money(**order['total'])}, {order['status']}")
    with steps.step("Pays with a test card on the Stripe emulator"):
        say(f"    PaymentIntent: {journey.pay(checkout)}")
    with steps.step("Stripe's webhook reaches checkout; its worker marks the order paid"):
        paid = journey.wait_for_status(SHOPPER, order["id"], "paid")
        say(f"    order {paid['id']}: {paid['status']} at {paid['paid_at']}")
    seen["order"] = paid

    sold = sum(line["line_total"]["amount"] for line in paid["lines"])

    def changes() -> dict[tuple[str, str], dict[str, tuple[int, ...]]]:
        """What the creators' earnings gained since the journey began, per model."""
        return {
            (creator, model): difference(
                earnings_by_video(journey.earnings(creator, model)), before[(creator, model)]
            )
            for creator in creators
            for model in MODELS
        }

    def summed(
        per_model: dict[tuple[str, str], dict[str, tuple[int, ...]]], index: int
    ) -> dict[str, int]:
        """{model: the sum of one figure (0 sales, 1 refunds) over creators and videos}."""
        return {
            model: sum(
                values[index]
                for (_, row_model), per_video in per_model.items()
                if row_model == model
                for values in per_video.values()
            )
            for model in MODELS
        }

    def credited() -> dict[tuple[str, str], dict[str, tuple[int, ...]]] | None:
        now = changes()
        return now if all(total >= sold for total in summed(now, 0).values()) else None

    with steps.step("The attribution worker credits the sale to the videos and creators"):
        credits = journey.wait("the sale's credits (order.paid → video.attribution)", credited)
    seen["credits"] = credits

    with steps.step("A second shopper's card is declined"):
        journey.add_to_cart(SECOND_SHOPPER, variant["id"], None)
        declined = journey.checkout(SECOND_SHOPPER)
        say(f"    card: {journey.pay(declined, card='pm_card_chargeCustomerFail')}")
        still = journey.order(SECOND_SHOPPER, declined["order"]["id"])
        say(f"    order {still['id']}: {still['status']} (nothing charged; payable again)")
        if still["status"] != "pending_payment":
            raise JourneyError(f"A declined order should still be pending: {still['status']}")

    line = paid["lines"][0]
    merchant_slug, password = merchant_login(line["merchant"]["id"])
    refund_amount = line["line_total"]["amount"] // 2
    currency = line["line_total"]["currency"]
    with steps.step(
        f"Staff of {DEMO_MERCHANTS[merchant_slug]} refund {money(refund_amount, currency)} "
        "in the checkout admin"
    ):
        admin = AdminSession(
            admin_bases["checkout"], merchant_slug, password, admin_bases["catalog"]
        ).login()
        admin.post_form(
            f"orders/order/{paid['id']}/refund/",
            {
                "lines": [line["id"]],
                "amount": str(Decimal(refund_amount).scaleb(-currency_exponent(currency))),
                "reason": "demo: one item arrived damaged",
                "refunded_when_shown": paid["refunded"]["amount"],
            },
        )
        refunded = journey.wait_for_status(SHOPPER, paid["id"], "partially_refunded")
        say(f"    order {refunded['id']}: {refunded['status']}")

    def reversed_() -> dict[tuple[str, str], dict[str, tuple[int, ...]]] | None:
        now = changes()
        return now if all(total >= refund_amount for total in summed(now, 1).values()) else None

    with steps.step("The refund reverses the credits in proportion"):
        seen["after_refund"] = journey.wait("the reversing credits", reversed_)

    # Signed in once (at catalog, for the refund): the same browser opens the video admin.
    reports = AdminSession(admin_bases["video"], merchant_slug, password, session=admin.session)
    reports.session.get(f"{reports.base}/", timeout=30).raise_for_status()
    seen["report"] = reports.csv("attribution/salesreport/", {"by": "video"})
    seen["merchant"] = DEMO_MERCHANTS[merchant_slug]
    seen["videos"] = {video["id"]: video for video in (first, second)}
    seen["order"] = refunded

    seen["after_payment"] = demo_after_payment(
        journey,
        steps,
        shopper=SHOPPER,
        creators=creators,
        product=journey.product(product_id),
        source={"video_id": second["id"], "tag_id": tag_second["id"]},
        admin=admin,
        catalog_admin=AdminSession(
            admin_bases["catalog"], merchant_slug, password, session=admin.session
        ),
    )
    return seen


def demo_tables(seen: dict[str, Any]) -> str:
    """The order, the credits per model (sale and refund) and the merchant's report."""
    order = seen["order"]
    currency = order["total"]["currency"]
    captions = {
        video_id: f'"{video["caption"][:34]}" @{video["creator"]["handle"]}'
        for video_id, video in seen["videos"].items()
    }
    parts = ["", "The order", ""]
    parts.append(
        table(
            ["line", "qty", "unit price", "total", "refunded"],
            [
                [
                    line["title"],
                    str(line["quantity"]),
                    money(**line["unit_price"]),
                    money(**line["line_total"]),
                    "",
                ]
                for line in order["lines"]
            ]
            + [["shipping", "", "", money(**order["shipping"]), ""]]
            + [
                [
                    f"total ({order['status']})",
                    "",
                    "",
                    money(**order["total"]),
                    money(**order["refunded"]),
                ]
            ],
        )
    )
    parts += ["", "Attribution of the sale, per model (credited, after the refund, commission)", ""]
    rows = []
    for model in MODELS:
        for (creator, row_model), per_video in sorted(seen["after_refund"].items()):
            if row_model != model:
                continue
            sale = seen["credits"][(creator, model)]
            for video_id, (sales, refunds, commission) in sorted(per_video.items()):
                rows.append(
                    [
                        model,
                        captions.get(video_id, video_id),
                        money(sale.get(video_id, (0,))[0], currency),
                        money(sales - refunds, currency),
                        money(commission, currency),
                    ]
                )
    parts.append(table(["model", "video", "credited", "net", "commission"], rows))
    parts += ["", f"{seen['merchant']}: sales by video today (last touch, admin report)", ""]
    parts.append(
        table(
            ["video", "views", "tag taps", "orders", "net", "commission"],
            [
                [
                    row["video"][:44],
                    row["Views"],
                    row["Tag taps"],
                    row["Orders"],
                    money(int(row["Net"]), currency),
                    money(int(row["Commission owed"]), currency),
                ]
                for row in seen["report"]
            ],
        )
    )
    after = seen["after_payment"]
    second = after["order"]
    parts += ["", f"After payment: order {second['id'][:8]} ({second['status']})", ""]
    parts.append(
        table(
            ["shipment", "carrier", "tracking", "shipped", "delivered"],
            [
                [
                    shipment["id"][:8],
                    shipment["carrier"],
                    shipment["tracking_number"],
                    shipment["shipped_at"][11:19],
                    (shipment["delivered_at"] or "")[11:19],
                ]
                for shipment in second["shipments"]
            ],
        )
    )
    returned = after["return"]
    parts += ["", f"Return {returned['id'][:8]}: {returned['status']}; the creators' earnings", ""]
    rows = [
        [
            model,
            captions.get(video_id, video_id),
            money(pending, currency),
            money(settled, currency),
            money(commission, currency),
            money(ineligible, currency),
        ]
        for model in MODELS
        for (_, row_model), per_video in sorted(after["settled"].items())
        if row_model == model
        for video_id, (pending, settled, commission, ineligible) in sorted(per_video.items())
    ]
    parts.append(table(["model", "video", "pending", "settled", "commission", "ineligible"], rows))
    return "\n".join(parts)
