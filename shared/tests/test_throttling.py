"""Throttles (clipcart_shared.throttling) and the admin's login lockout (django-axes), on
the real database: the counters in its cache table, the attempts in axes' tables."""

from __future__ import annotations

import multiprocessing
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint
from clipcart_shared.filecache import SharedFileCache
from clipcart_shared.throttling.throttles import THROTTLE_CACHE, UserRateThrottle

pytestmark = pytest.mark.django_db

LOW = {
    "checkout.user": "3/min",
    "checkout.ip": "5/min",
    "search.user": "2/hour",
    "search.ip": "100/min",
}


def _client(user: str | None = None, address: str = "203.0.113.7", **extra) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **extra)
    if user:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id=user)}")
    return client


@override_settings(THROTTLE_RATES=LOW)
def test_a_burst_past_the_user_rate_is_a_429_problem_with_retry_after():
    client = _client("burst-user")

    answers = [client.post("/api/v1/throttled/", {}).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    refused = client.post("/api/v1/throttled/", {})
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused["Retry-After"]) <= 60


@override_settings(THROTTLE_RATES=LOW)
def test_the_user_rate_counts_per_user_and_reads_are_not_counted():
    first, second = _client("first-user", "198.51.100.1"), _client("second-user", "198.51.100.2")
    for _ in range(3):
        assert first.post("/api/v1/throttled/", {}).status_code == 201

    assert first.get("/api/v1/throttled/").status_code == 200
    assert first.post("/api/v1/throttled/", {}).status_code == 429
    assert second.post("/api/v1/throttled/", {}).status_code == 201


@override_settings(THROTTLE_RATES=LOW)
def test_many_accounts_from_one_address_are_held_by_the_ip_rate():
    answers = [
        _client(f"account-{number}", "192.0.2.9").post("/api/v1/throttled/", {}).status_code
        for number in range(6)
    ]

    assert answers == [201] * 5 + [429]
    assert _client("account-x", "192.0.2.10").post("/api/v1/throttled/", {}).status_code == 201


@override_settings(THROTTLE_RATES=LOW)
def test_anonymous_requests_are_counted_by_address():
    answers = [_client().post("/api/v1/throttled/", {}).status_code for _ in range(6)]

    assert answers == [201] * 5 + [429]


@override_settings(THROTTLE_RATES=LOW)
def test_a_scope_that_counts_reads_throttles_its_gets_with_the_hour_window():
    client = _client("searcher")

    answers = [client.get("/api/v1/throttled-search/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    retry_after = int(client.get("/api/v1/throttled-search/")["Retry-After"])
    assert 3500 < retry_after <= 3600


@override_settings(THROTTLE_RATES=LOW, TRUSTED_PROXY_COUNT=1)
def test_behind_the_gateway_the_address_is_the_one_it_saw_not_what_the_client_claims():
    # Same gateway address, spoofed left-hand entries: one client, held at 5.
    answers = [
        _client(address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{number}, 203.0.113.50")
        .post("/api/v1/throttled/", {})
        .status_code
        for number in range(6)
    ]
    other = _client(address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.51")

    assert answers == [201] * 5 + [429]
    assert other.post("/api/v1/throttled/", {}).status_code == 201


@override_settings(THROTTLE_RATES=LOW)
def test_the_counters_are_in_the_pages_cache_and_a_throttled_request_costs_no_sql():
    client = _client("counted")
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/api/v1/throttled/", {}).status_code == 201
    assert len(queries) == 0  # the view itself runs none either

    cache = caches[THROTTLE_CACHE]  # the embedded run's: files shared by its processes
    assert isinstance(cache, SharedFileCache)
    assert len(cache._list_cache_files()) == 2  # the user's count and the address's


def _count_in_a_process(key: str, attempts: int, start: Any, allowed: Any) -> None:
    """A process of its own counting `attempts` requests of one user against 10/min, as a
    gunicorn worker would (its own `UserRateThrottle`, the same cache files)."""
    start.wait()
    view = type("View", (), {"throttle_scope": "checkout"})()
    request = SimpleNamespace(method="POST", user=SimpleNamespace(is_authenticated=True, id=key))
    for _ in range(attempts):
        if UserRateThrottle().allow_request(request, view):
            with allowed.get_lock():
                allowed.value += 1


@override_settings(THROTTLE_RATES={"checkout.user": "10/min", "checkout.ip": "1000/min"})
def test_the_rate_holds_across_processes_counting_at_once():
    # Four processes (forked: they share the settings and the cache directory, no
    # database) each try 10 requests of one user at the same moment: exactly 10 of the 40
    # may pass. Without the lock across processes, counts are lost and more pass.
    context = multiprocessing.get_context("fork")
    start, allowed = context.Event(), context.Value("i", 0)
    workers = [
        context.Process(target=_count_in_a_process, args=("racer", 10, start, allowed))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert allowed.value == 10
    view = type("View", (), {"throttle_scope": "checkout"})()
    racer = SimpleNamespace(is_authenticated=True, id="racer")
    request = SimpleNamespace(method="POST", user=racer)
    assert not UserRateThrottle().allow_request(request, view)  # this process sees them too


# --- the admin's login lockout ----------------------------------------------------------------


def _login(client: Client, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "staffer", "password": password},
        REMOTE_ADDR="203.0.113.20",
    )


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_admin_login_even_for_the_right_password():
    get_user_model().objects.create_user(username="staffer", password="right-one", is_staff=True)
    client = Client()

    failures = [_login(client, "wrong").status_code for _ in range(3)]
    locked = _login(client, "right-one")

    assert failures[:2] == [200, 200]  # the form again, with its error
    assert failures[2] == 429
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_right_password_before_the_limit_signs_in_and_resets_the_count():
    get_user_model().objects.create_user(username="staffer", password="right-one", is_staff=True)
    client = Client()
    _login(client, "wrong")
    _login(client, "wrong")

    assert _login(client, "right-one").status_code == 302
    client.logout()
    assert [_login(client, "wrong").status_code for _ in range(2)] == [200, 200]
    assert _login(client, "right-one").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_after_the_cool_off_the_right_password_signs_in_again():
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    get_user_model().objects.create_user(username="staffer", password="right-one", is_staff=True)
    client = Client()
    for _ in range(3):
        _login(client, "wrong")
    assert _login(client, "right-one").status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert _login(client, "right-one").status_code == 302
