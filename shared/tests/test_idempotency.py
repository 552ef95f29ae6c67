from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint
from clipcart_shared.idempotency.models import IdempotencyKey
from clipcart_shared.idempotency.services import idempotency_prune
from clipcart_shared.outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _client(user: str = "u1") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id=user)}")
    return client


def _post(client, body, key="key-1"):
    return client.post("/api/v1/widgets/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_replays_the_first_response_without_doing_it_again():
    client = _client()
    first = _post(client, {"name": "a"})
    second = _post(client, {"name": "a"})
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert OutboxEvent.objects.count() == 1


def test_json_key_order_and_spacing_do_not_make_another_request():
    client = _client()
    _post(client, {"name": "a"})
    again = client.generic(
        "POST",
        "/api/v1/widgets/",
        '{ "name" :  "a" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert again.status_code == 201
    assert OutboxEvent.objects.count() == 1


def test_same_key_with_another_body_is_422():
    client = _client()
    _post(client, {"name": "a"})
    response = _post(client, {"name": "b"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert OutboxEvent.objects.count() == 1


def test_keys_of_different_users_never_collide():
    assert _post(_client("u1"), {"name": "a"}).json()["user"] == "u1"
    assert _post(_client("u2"), {"name": "a"}).json()["user"] == "u2"
    assert OutboxEvent.objects.count() == 2


def test_a_client_error_is_replayed_too_but_a_server_error_frees_the_key():
    client = _client()
    conflict = _post(client, {"name": "conflict"}, key="k-conflict")
    assert conflict.status_code == 409
    assert _post(client, {"name": "conflict"}, key="k-conflict").content == conflict.content

    crash = _post(client, {"name": "crash"}, key="k-crash")
    assert crash.status_code == 500
    assert "secret" not in crash.content.decode()
    assert crash.json()["code"] == "internal_error"
    assert not IdempotencyKey.objects.filter(key="k-crash").exists()


def test_required_key_missing_is_400_and_invalid_key_is_400():
    client = _client()
    missing = client.post("/api/v1/keyed/", {}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_required")
    too_long = client.post("/api/v1/keyed/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "idempotency_key_invalid")


def test_a_key_left_in_progress_by_a_dead_request_is_taken_over():
    # The row exists but no process holds the key's lock: its request died.
    IdempotencyKey.objects.create(
        scope="u1",
        key="orphan",
        method="POST",
        path="/api/v1/widgets/",
        fingerprint="whatever",
        status=IdempotencyKey.Status.IN_PROGRESS,
    )
    response = _post(_client(), {"name": "a"}, key="orphan")
    assert response.status_code == 201
    assert OutboxEvent.objects.count() == 1


def test_keys_are_kept_for_the_retention_period_then_pruned(settings):
    client = _client()
    _post(client, {"name": "a"}, key="old")
    _post(client, {"name": "a"}, key="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)
    )
    assert settings.IDEMPOTENCY_KEY_TTL_HOURS >= 24
    assert idempotency_prune() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_identical_concurrent_requests_do_the_work_once_and_get_the_same_answer():
    barrier = threading.Barrier(10)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        try:
            barrier.wait()
            response = _post(_client(), {"name": "a"}, key="race")
            answers.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(answers) == 10
    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1
    assert OutboxEvent.objects.count() == 1
