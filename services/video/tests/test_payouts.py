"""Creators' payout accounts (issue 16, Accounts): `GET`/`POST
/api/v1/creators/me/payout-account/` and Stripe's Connect webhook
(`/api/v1/creators/payout-accounts/stripe-webhook/`), with the real stripe SDK against the
localstripe emulator (its Connect: Express accounts, account links, signed
`account.updated`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from clipcart_shared.connect import payout_status_of
from clipcart_tools.localstripe import (
    complete_account_link,
    localstripe_server,
    register_webhook,
    restrict_account,
    stripe_client,
)
from clipcart_tools.testing.services import free_port
from clipcart_tools.testing.webhooks import WebhookReceiver
from payouts.models import ConnectWebhookEvent, CreatorPayoutAccount
from payouts.services import creator_payout_account_onboard
from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/creators/me/payout-account/"
WEBHOOK = "/api/v1/creators/payout-accounts/stripe-webhook/"
SECRET = "whsec_connect_test"
STRIPE_KEY = "sk_test_localstripe"


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[str, WebhookReceiver]]:
    # Stands in for video's endpoint: the tests post each delivery to video as Stripe would.
    receiver = WebhookReceiver()
    with localstripe_server() as base_url:
        register_webhook(base_url, "video-connect", receiver.url, SECRET, ["account.updated"])
        yield base_url, receiver
    receiver.close()


@pytest.fixture
def stripe_emulator(_emulator: tuple[str, WebhookReceiver], settings) -> str:
    settings.STRIPE_API_BASE = _emulator[0]
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = [SECRET]
    _emulator[1].drain()
    return _emulator[0]


@pytest.fixture
def receiver(_emulator: tuple[str, WebhookReceiver], stripe_emulator: str) -> WebhookReceiver:
    return _emulator[1]


@pytest.fixture
def stripe_down(settings) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = [SECRET]


def _signed(body: Any, *, secret: str = SECRET, age: int = 0) -> tuple[bytes, str]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) - age
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={digest.hexdigest()}"


def _deliver(api_client, payload: bytes, signature: str):
    return api_client.generic(
        "POST", WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def _account_event(account: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "account.updated",
        "account": account["id"],
        "created": created if created is not None else int(time.time()),
        "data": {"object": account},
    }


def _onboarded(client) -> CreatorPayoutAccount:
    """POST: the creator's account made at the emulator; returns its row."""
    response = client.post(URL)
    assert response.status_code == 200, response.json()
    return CreatorPayoutAccount.objects.get()


# --- status mapping --------------------------------------------------------------------------


def _account(**fields: Any) -> dict[str, Any]:
    base = {
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "requirements": {"disabled_reason": "requirements.past_due"},
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "pending"),  # just created: onboarding not submitted
        ({"requirements": {"disabled_reason": None}}, "pending"),
        (
            {"details_submitted": True, "requirements": {"disabled_reason": "under_review"}},
            "pending",
        ),
        (
            {
                "details_submitted": True,
                "requirements": {"disabled_reason": "requirements.pending_verification"},
            },
            "pending",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "requirements": {"disabled_reason": None},
            },
            "enabled",
        ),
        ({"details_submitted": True}, "restricted"),  # past due after onboarding
        (
            {"details_submitted": True, "requirements": {"disabled_reason": "rejected.fraud"}},
            "restricted",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": False,
                "details_submitted": True,
                "requirements": {"disabled_reason": None},
            },
            "restricted",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "requirements": {"disabled_reason": "platform_paused"},
            },
            "restricted",
        ),
    ],
)
def test_status_follows_stripes_account_fields(fields, expected):
    assert payout_status_of(_account(**fields)) == expected


def test_status_of_the_emulators_accounts_as_stripe_shapes_them(stripe_emulator):
    stripe = stripe_client(stripe_emulator, STRIPE_KEY)
    account = stripe.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    link = stripe.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://app.example/r",
            "return_url": "https://app.example/x",
        }
    )
    new = payout_status_of(account.to_dict())
    enabled = payout_status_of(complete_account_link(link.url)["account"])
    restricted = payout_status_of(restrict_account(stripe_emulator, account.id))

    assert (new, enabled, restricted) == ("pending", "enabled", "restricted")


# --- GET and POST /creators/me/payout-account/ -----------------------------------------------


def test_a_creator_without_an_account_has_status_none(client_for):
    CreatorFactory(user_id="ada")

    response = client_for("ada").get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "none", "updated_at": None}


def test_post_creates_one_express_account_and_answers_a_fresh_onboarding_link_each_time(
    client_for, stripe_emulator
):
    creator = CreatorFactory(user_id="ada")
    client = client_for("ada")

    first = client.post(URL)
    second = client.post(URL)

    assert first.status_code == second.status_code == 200
    assert first.json()["onboarding_url"] != second.json()["onboarding_url"]
    account = CreatorPayoutAccount.objects.get()
    assert (account.creator_id, account.status) == (creator.id, "pending")
    at_stripe = stripe_client(stripe_emulator, STRIPE_KEY).v1.accounts.retrieve(
        account.stripe_account_id
    )
    assert at_stripe.type == "express"
    assert at_stripe.capabilities.to_dict() == {"transfers": "inactive"}
    assert at_stripe.metadata.to_dict() == {"creator_id": str(creator.id), "user_id": "ada"}
    assert client.get(URL).json()["status"] == "pending"


def test_a_lost_row_after_stripe_made_the_account_gets_the_same_account_again(
    client_for, stripe_emulator
):
    # The row write failed after Stripe answered (say, the process died): the retry's
    # create is keyed by the creator, so Stripe answers the same account, not a second.
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    made = _onboarded(client).stripe_account_id
    CreatorPayoutAccount.objects.all().delete()

    _onboarded(client)

    assert CreatorPayoutAccount.objects.get().stripe_account_id == made


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_callers_are_401(api_client, method):
    response = getattr(api_client, method)(URL)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_user_who_is_no_creator_is_403_not_a_creator_and_nothing_is_made(
    client_for, stripe_emulator, method
):
    response = getattr(client_for("not-a-creator"), method)(URL)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_a_creator"
    assert CreatorPayoutAccount.objects.count() == 0


def test_stripe_unreachable_is_503_and_nothing_is_written(client_for, stripe_down):
    CreatorFactory(user_id="ada")

    response = client_for("ada").post(URL)

    assert response.status_code == 503
    assert response.json()["code"] == "payout_provider_unavailable"
    assert CreatorPayoutAccount.objects.count() == 0


def test_stripe_refusing_is_502(client_for, stripe_emulator, settings):
    CreatorFactory(user_id="ada")
    settings.CREATOR_PAYOUT_RETURN_URL = ""  # Stripe refuses a link without a return URL

    response = client_for("ada").post(URL)

    assert response.status_code == 502
    assert response.json()["code"] == "payout_provider_rejected"


# --- the Connect webhook -------------------------------------------------------------------------


def test_onboarding_completed_at_stripe_enables_the_account_through_the_signed_event(
    client_for, api_client, stripe_emulator, receiver
):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    url = client.post(URL).json()["onboarding_url"]

    complete_account_link(url)
    response = _deliver(api_client, *receiver.delivery())

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert client.get(URL).json()["status"] == "enabled"
    assert ConnectWebhookEvent.objects.get().outcome == "processed"


def test_a_restricted_account_is_restricted(client_for, api_client, stripe_emulator, receiver):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    complete_account_link(client.post(URL).json()["onboarding_url"])
    _deliver(api_client, *receiver.delivery())
    account = CreatorPayoutAccount.objects.get()

    restrict_account(stripe_emulator, account.stripe_account_id, "requirements.past_due")
    _deliver(api_client, *receiver.delivery())

    assert client.get(URL).json()["status"] == "restricted"


def test_a_replayed_event_is_answered_as_a_duplicate_and_not_applied_again(
    client_for, api_client, stripe_emulator, receiver
):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    complete_account_link(client.post(URL).json()["onboarding_url"])
    enabled_delivery = receiver.delivery()
    _deliver(api_client, *enabled_delivery)
    restrict_account(stripe_emulator, CreatorPayoutAccount.objects.get().stripe_account_id)
    _deliver(api_client, *receiver.delivery())

    replay = _deliver(api_client, *enabled_delivery)

    assert replay.status_code == 200
    assert replay.json() == {"received": True, "duplicate": True}
    assert client.get(URL).json()["status"] == "restricted"
    assert ConnectWebhookEvent.objects.count() == 2


def test_an_event_older_than_the_status_does_not_overwrite_it(
    client_for, api_client, stripe_emulator
):
    CreatorFactory(user_id="ada")
    account = _onboarded(client_for("ada"))
    enabled = _account(
        id=account.stripe_account_id,
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements={"disabled_reason": None},
    )
    now = int(time.time())
    _deliver(api_client, *_signed(_account_event(enabled, created=now)))

    older = _account_event(_account(id=enabled["id"]), created=now - 60)
    late = _deliver(api_client, *_signed(older))

    assert late.status_code == 200
    account.refresh_from_db()
    assert account.status == "enabled"
    assert ConnectWebhookEvent.objects.order_by("id").last().reason == (
        "older than the status already applied"
    )


def test_an_account_that_is_no_creators_is_acknowledged_and_ignored(api_client, stripe_emulator):
    event = _account_event(_account(id="acct_of_a_merchant"))

    response = _deliver(api_client, *_signed(event))

    assert response.status_code == 200
    logged = ConnectWebhookEvent.objects.get()
    assert (logged.outcome, logged.reason) == ("ignored", "not a creator's account")
    assert CreatorPayoutAccount.objects.count() == 0


def test_another_event_type_is_acknowledged_and_ignored(client_for, api_client, stripe_emulator):
    CreatorFactory(user_id="ada")
    account = _onboarded(client_for("ada"))
    event = {
        **_account_event(_account(id=account.stripe_account_id, details_submitted=True)),
        "type": "account.application.deauthorized",
    }

    response = _deliver(api_client, *_signed(event))

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.status == "pending"
    assert ConnectWebhookEvent.objects.get().outcome == "ignored"


@pytest.mark.parametrize(
    "signing",
    [{"secret": "whsec_wrong"}, {"age": 301}],
    ids=["wrong secret", "older than the tolerance"],
)
def test_a_bad_signature_is_400_invalid_signature_and_nothing_is_written(
    api_client, stripe_emulator, signing
):
    payload, signature = _signed(_account_event(_account(id="acct_x")), **signing)

    response = _deliver(api_client, payload, signature)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert ConnectWebhookEvent.objects.count() == 0


def test_no_signature_header_is_400(api_client, stripe_emulator):
    response = api_client.post(WEBHOOK, _account_event(_account(id="acct_x")), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_every_configured_secret_verifies_while_one_is_rotated(
    api_client, stripe_emulator, settings
):
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = ["whsec_real", SECRET]

    response = _deliver(api_client, *_signed(_account_event(_account(id="acct_x"))))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [1, 2],
        {"id": 7, "type": "account.updated", "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": ["account.updated"], "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": "account.updated", "created": "now", "data": {"object": {}}},
        {"id": "evt_1", "type": "account.updated", "created": 1, "data": {"object": [1]}},
        {"id": "evt_1", "type": "account.updated", "created": 1},
    ],
    ids=[
        "not json",
        "a list",
        "id a number",
        "type a list",
        "created a string",
        "object a list",
        "no data",
    ],
)
def test_a_signed_body_that_is_no_stripe_event_is_400_and_nothing_is_written(
    api_client, stripe_emulator, body
):
    response = _deliver(api_client, *_signed(body))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    # A body that is not JSON at all is no signed event (as checkout's intake answers).
    expected = "invalid_signature" if body == b"not json" else "invalid_event"
    assert response.json()["code"] == expected
    assert ConnectWebhookEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_set_ups_of_one_creator_make_one_account(stripe_emulator):
    # Both requests find no row and ask Stripe; the key (the creator's id) makes Stripe
    # answer one account, and the unique row is written once.
    creator = CreatorFactory(user_id="ada")
    barrier = threading.Barrier(6)
    urls: list[str] = []
    errors: list[Exception] = []

    def set_up() -> None:
        try:
            barrier.wait()
            urls.append(creator_payout_account_onboard(creator=creator))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=set_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(urls)) == 6
    assert CreatorPayoutAccount.objects.count() == 1
    linked = {complete_account_link(url)["account"]["id"] for url in urls}
    assert linked == {CreatorPayoutAccount.objects.get().stripe_account_id}
