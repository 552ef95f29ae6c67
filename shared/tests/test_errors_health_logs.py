import json
from unittest import mock

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint
from clipcart_shared.logs import logging_config

pytestmark = pytest.mark.django_db


def test_validation_errors_name_each_field_in_problem_json():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='u1')}")
    response = client.post("/api/v1/widgets/", {"name": "x" * 21}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation_error")
    assert body["title"] == "Bad Request"
    assert body["errors"] == [
        {
            "field": "name",
            "code": "max_length",
            "message": "Ensure this field has no more than 20 characters.",
        }
    ]


def test_an_unexpected_error_is_a_500_problem_that_hides_the_cause(caplog):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='u1')}")
    response = client.post("/api/v1/widgets/", {"name": "crash"}, format="json")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret internal detail" not in response.content.decode()
    assert "secret internal detail" in caplog.text  # but the operator sees it in the log


def test_healthz_is_alive_and_readyz_checks_database_and_broker():
    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True}


def test_readyz_is_503_when_the_broker_is_down():
    with mock.patch("clipcart_shared.health._broker_is_reachable", return_value=False):
        response = APIClient().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": True, "broker": False},
    }


def test_request_id_is_echoed_and_a_hostile_one_replaced():
    client = APIClient()
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad\nid")["X-Request-ID"]
    assert replaced != "bad\nid" and len(replaced) == 32


def test_logs_are_json_lines_with_service_and_request_id(capsys):
    import logging.config

    from clipcart_shared.request_id import set_request_id

    logging.config.dictConfig(logging_config(service="catalog", level="INFO"))
    try:
        set_request_id("req-1")
        logging.getLogger("clipcart.test").info("Order paid", extra={"order_id": "o1"})
    finally:
        set_request_id(None)
        logging.config.dictConfig(logging_config(service="sharedtests", level="WARNING"))
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "Order paid"
    assert (line["service"], line["request_id"], line["order_id"]) == ("catalog", "req-1", "o1")
    assert line["level"] == "INFO"


def test_a_problems_extra_members_never_overwrite_its_own():
    from clipcart_shared.errors import problem

    body = problem(
        status=409,
        code="return_not_in_state",
        detail="The return is refunded.",
        extra={"status": "refunded", "code": "x", "return_status": "refunded"},
    )

    assert (body["status"], body["code"], body["return_status"]) == (
        409,
        "return_not_in_state",
        "refunded",
    )
