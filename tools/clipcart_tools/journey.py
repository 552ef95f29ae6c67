"""A mobile shopper's journey through the public HTTP APIs, as the app would make it.

Used by `make demo` (`clipcart demo`), which prints each step, and by the end-to-end
tests, which assert on what each step returns. Nothing here imports a service: it only
speaks HTTP to the three services, to the Stripe emulator through the real `stripe` SDK,
and to the admins as a merchant's staff would (a signed-in browser session,
`clipcart_tools.admin_session`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from clipcart_shared.tokens import user_token_mint

MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based")
TEST_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeCustomerFail"  # the emulator's "card declined"
THREE_D_SECURE_CARD = "4000002760003184"  # asks for 3-D Secure, then succeeds


class JourneyError(Exception):
    """A step did not get the answer a real app would need to go on."""


@dataclass(frozen=True)
class Endpoints:
    catalog: str
    video: str
    checkout: str
    stripe: str


@dataclass
class Journey:
    """One or more shoppers, each with a token minted the way the local stack accepts."""

    endpoints: Endpoints
    jwt_secret: str
    stripe_key: str
    say: Callable[[str], None] = print
    tracking_secret: str = "tracking_clipcart_local"  # checkout's local default
    session: requests.Session = field(default_factory=requests.Session)

    # ------------------------------------------------------------------ plumbing

    def _call(
        self, method: str, url: str, *, user: str | None = None, expect: int = 200, **kwargs: Any
    ) -> Any:
        headers = kwargs.pop("headers", {})
        if user:
            token = user_token_mint(user_id=user, secret=self.jwt_secret, ttl_seconds=3600)
            headers["Authorization"] = f"Bearer {token}"
        if method == "POST":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        response = self.session.request(method, url, headers=headers, timeout=30, **kwargs)
        if response.status_code != expect:
            raise JourneyError(
                f"{method} {url} answered {response.status_code}, not {expect}: "
                f"{response.text[:500]}"
            )
        return response.json() if response.content else None

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
        """Call `check` until it returns something truthy, printing progress; JourneyError
        after `timeout` seconds."""
        started = time.monotonic()
        shown = 0
        while True:
            result = check()
            if result:
                return result
            waited = time.monotonic() - started
            if waited > timeout:
                raise JourneyError(f"Gave up waiting for {what} after {timeout:.0f} s.")
            if waited - shown >= 5:
                shown = int(waited)
                self.say(f"    … still waiting for {what} ({shown} s)")
            time.sleep(0.25)

    # ------------------------------------------------------------------ the shop

    def feed(self, user: str | None = None) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", f"{self.endpoints.video}/api/v1/feed/", user=user, params={"limit": 50}
        )
        results: list[dict[str, Any]] = answer["results"]
        return results

    def search(self, query: str, kind: str = "videos") -> list[dict[str, Any]]:
        answer = self._call(
            "GET",
            f"{self.endpoints.video}/api/v1/search/",
            params={"q": query, "type": kind, "limit": 50},
        )
        results: list[dict[str, Any]] = answer["results"]
        return results

    def product(self, product_id: str) -> dict[str, Any]:
        product: dict[str, Any] = self._call(
            "GET", f"{self.endpoints.catalog}/api/v1/products/{product_id}/"
        )
        return product

    def shoppable_pair(self, user: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Two feed videos tagging the same product in stock, and that product's id: waits
        until the product cards have reached the video service (catalog's events)."""

        def find() -> tuple[dict[str, Any], dict[str, Any], str] | None:
            by_product: dict[str, list[dict[str, Any]]] = {}
            for video in self.feed(user):
                for tag in video["tags"]:
                    if tag["product"]["stock_status"] != "out_of_stock":
                        by_product.setdefault(tag["product"]["id"], []).append(video)
            for product_id, videos in sorted(by_product.items()):
                if len(videos) >= 2:
                    return videos[-1], videos[0], product_id
            return None

        return self.wait("product cards in the feed (catalog → video events)", find, 90)

    def watch(self, user: str, video: dict[str, Any], *, tap: str | None = None) -> None:
        """Impression and a full view of `video` (and a tap on tag `tap`), one batch."""
        now = datetime.now(UTC)
        events = [
            {"type": "impression", "occurred_at": (now - timedelta(seconds=20)).isoformat()},
            {
                "type": "view",
                "occurred_at": (now - timedelta(seconds=10)).isoformat(),
                "watch_ms": video["duration_ms"],
            },
        ]
        if tap:
            events.append({"type": "tag_tap", "tag_id": tap, "occurred_at": now.isoformat()})
        body = {
            "events": [
                {"event_id": str(uuid.uuid4()), "video_id": video["id"], **event}
                for event in events
            ]
        }
        answer = self._call(
            "POST", f"{self.endpoints.video}/api/v1/events/", user=user, json=body, expect=202
        )
        if answer["accepted"] != len(events):
            raise JourneyError(f"Events not all accepted: {answer}")

    def add_to_cart(
        self, user: str, variant_id: str, source: dict[str, str] | None, quantity: int = 1
    ) -> Any:
        return self._call(
            "POST",
            f"{self.endpoints.checkout}/api/v1/cart/lines/",
            user=user,
            json={"variant_id": variant_id, "quantity": quantity, "source": source},
            expect=201,
        )

    def checkout(self, user: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "POST",
            f"{self.endpoints.checkout}/api/v1/checkouts/",
            user=user,
            json={
                "email": f"{user}@example.com",
                "shipping_address": {
                    "name": "Demo Shopper",
                    "line1": "1 Feed Street",
                    "city": "Berlin",
                    "postal_code": "10115",
                    "country": "DE",
                },
            },
            expect=201,
        )
        return answer

    def order(self, user: str, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._call(
            "GET", f"{self.endpoints.checkout}/api/v1/orders/{order_id}/", user=user
        )
        return order

    def wait_for_status(self, user: str, order_id: str, status: str, timeout: float = 60) -> Any:
        return self.wait(
            f"order {order_id[:8]} to be {status}",
            lambda: (order := self.order(user, order_id))["status"] == status and order,
            timeout,
        )

    # ------------------------------------------------------------------ after payment

    def carrier_reports(self, tracking_number: str, carrier: str, status: str) -> Any:
        """The carrier's tracking webhook, signed as a tracking aggregator would sign it."""
        body = json.dumps(
            {
                "tracking_number": tracking_number,
                "carrier": carrier,
                "status": status,
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        timestamp = int(time.time())
        digest = hmac.new(
            self.tracking_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return self._call(
            "POST",
            f"{self.endpoints.checkout}/api/v1/webhooks/tracking/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Clipcart-Signature": f"t={timestamp},v1={digest}",
            },
        )

    def return_request(
        self, user: str, order_id: str, lines: list[dict[str, Any]], reason: str
    ) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "POST",
            f"{self.endpoints.checkout}/api/v1/orders/{order_id}/returns/",
            user=user,
            json={"lines": lines, "reason": reason},
            expect=201,
        )
        return answer

    def returns(self, user: str, order_id: str) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", f"{self.endpoints.checkout}/api/v1/orders/{order_id}/returns/", user=user
        )
        results: list[dict[str, Any]] = answer["results"]
        return results

    # ------------------------------------------------------------------ paying

    def _stripe(self) -> Any:
        import stripe

        return stripe.StripeClient(
            self.stripe_key,
            base_addresses={"api": self.endpoints.stripe},
            max_network_retries=0,
        )

    def pay(self, checkout: dict[str, Any], card: str = TEST_CARD) -> str:
        """Confirm the order's PaymentIntent with `card` as the app's payment sheet would.
        Returns the PaymentIntent's status (`card_declined` when the card is declined)."""
        import stripe

        client = self._stripe()
        payment_intent = checkout["payment"]["client_secret"].split("_secret_")[0]
        if card.isdigit():
            method = client.v1.payment_methods.create(
                {
                    "type": "card",
                    "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
                }
            )
            card = method.id
        client.v1.payment_intents.update(payment_intent, {"payment_method": card})
        try:
            status: str = client.v1.payment_intents.confirm(payment_intent).status
        except stripe.CardError as error:
            return str(error.code or "card_declined")
        return status

    def authenticate(self, checkout: dict[str, Any], *, success: bool) -> str:
        """Complete (or fail) the 3-D Secure challenge, as the shopper would."""
        from clipcart_tools.localstripe import authenticate_payment_intent

        secret = checkout["payment"]["client_secret"]
        answer = authenticate_payment_intent(
            self.endpoints.stripe, secret.split("_secret_")[0], secret, success=success
        )
        return str(answer["status"])

    # ------------------------------------------------------------------ attribution

    def earnings(self, creator_user: str, model: str = "last_touch") -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "GET",
            f"{self.endpoints.video}/api/v1/creators/me/earnings/",
            user=creator_user,
            params={"model": model},
        )
        return answer

    # ------------------------------------------------------------------ money out

    def creator_payout_set_up(self, creator_user: str) -> str:
        """The creator sets up payouts in the app: `POST payout-account/` makes their
        Express account and answers Stripe's onboarding link, which they complete (the
        emulator's link completes on GET, as the holder finishing Stripe's pages). Returns
        the account's id."""
        url = f"{self.endpoints.video}/api/v1/creators/me/payout-account/"
        link = self._call("POST", url, user=creator_user)["onboarding_url"]
        completed = self.session.get(link, timeout=30)
        if completed.status_code != 200:
            raise JourneyError(f"Completing the onboarding link answered {completed.status_code}")
        return str(completed.json()["account"]["id"])

    def creator_payout_status(self, creator_user: str) -> str:
        url = f"{self.endpoints.video}/api/v1/creators/me/payout-account/"
        return str(self._call("GET", url, user=creator_user)["status"])

    def stripe_transfers(self, **filters: str) -> list[dict[str, Any]]:
        """The emulator's transfers (`transfer_group`, `destination`), newest first."""
        found = self._stripe().v1.transfers.list({**filters, "limit": 100})
        return [transfer.to_dict() for transfer in found.data]


def earnings_by_video(earnings: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """{video id: (sales, refunds, commission)} from an earnings answer."""
    return {
        row["video"]["id"]: (
            row["sales"]["amount"],
            row["refunds"]["amount"],
            row["commission"]["amount"],
        )
        for row in earnings["videos"]
    }


def settlement_by_video(earnings: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    """{video id: (pending net, settled net, settled commission, ineligible sales)}."""
    return {
        row["video"]["id"]: (
            row["pending"]["net"]["amount"],
            row["settled"]["net"]["amount"],
            row["settled"]["commission"]["amount"],
            row["ineligible"]["sales"]["amount"],
        )
        for row in earnings["videos"]
    }


def difference(
    after: dict[str, tuple[int, ...]], before: dict[str, tuple[int, ...]]
) -> dict[str, tuple[int, ...]]:
    """What changed per key between two snapshots (keys with no change left out)."""
    changed = {}
    for key, values in after.items():
        old = before.get(key, (0,) * len(values))
        delta = tuple(new - was for new, was in zip(values, old, strict=True))
        if any(delta):
            changed[key] = delta
    return changed
