"""Each running service against its own OpenAPI schema (`/api/schema/`), with
schemathesis: for every operation, generated requests (a bounded, derandomized number per
operation, so a run is reproducible) and these checks on every answer: no 5xx
(`not_a_server_error`), the status code is one the schema lists, the content type is the
one it lists for that status, and the body validates against its schema.

Requests carry a mobile user's token on `/api/v1/` and a service credential on
`/internal/v1/`. Left out: the Stripe webhook, whose every request needs a signature over
its raw body (checkout's own tests cover it).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clipcart_shared import tokens
from clipcart_shared.testing.services import RunningService
from tests.contract.conftest import SERVICE_KEY

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXCLUDED = {"checkout": ["/api/v1/webhooks/stripe/"]}
MAX_EXAMPLES = 15


def _schema(service: str, running: RunningService) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{running.url}/api/schema/?format=json", timeout=30)
    for path in EXCLUDED.get(service, []):
        schema = schema.exclude(path=path)
    return schema


@pytest.fixture(scope="session")
def catalog_schema(contract_services):
    return _schema("catalog", contract_services["catalog"])


@pytest.fixture(scope="session")
def video_schema(contract_services):
    return _schema("video", contract_services["video"])


@pytest.fixture(scope="session")
def checkout_schema(contract_services):
    return _schema("checkout", contract_services["checkout"])


def _credentials(path: str) -> dict[str, str]:
    if path.startswith("/internal/"):
        token = tokens.service_token_mint(issuer="contract-tests", key=SERVICE_KEY)
        return {"Authorization": f"Service {token}"}
    token = tokens.user_token_mint(
        user_id="contract-tests-user", secret=os.environ["JWT_HS256_SECRET"]
    )
    return {"Authorization": f"Bearer {token}"}


def _call_and_check(case) -> None:
    case.call_and_validate(headers=_credentials(case.path), checks=CHECKS, timeout=30)


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

catalog = schemathesis.pytest.from_fixture("catalog_schema")
video = schemathesis.pytest.from_fixture("video_schema")
checkout = schemathesis.pytest.from_fixture("checkout_schema")


@catalog.parametrize()
@BOUNDED
def test_catalog_answers_as_its_schema_says(case):
    _call_and_check(case)


@video.parametrize()
@BOUNDED
def test_video_answers_as_its_schema_says(case):
    _call_and_check(case)


@checkout.parametrize()
@BOUNDED
def test_checkout_answers_as_its_schema_says(case):
    _call_and_check(case)
