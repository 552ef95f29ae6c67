"""Each running service against its own OpenAPI schema (`/api/schema/`), with
schemathesis and every check it has (no 5xx, status codes, content types, bodies and
headers as the schema says, valid data accepted and invalid data rejected, a required
header missing is refused, unsupported methods answer 405 with `Allow`, auth is not
ignored, a deleted resource is gone, a created one is there …), in two runs with a fixed
budget (derandomized, so a run is reproducible):

- for every operation, a bounded number of generated requests;
- stateful: sequences that follow the schema's OpenAPI links (create → read → update →
  delete, `clipcart_shared.schema.resource_links`), each step's input taken from what an
  earlier step answered.

A syntactically valid request may still name a product, variant or order that does not
exist, or carry a cursor that was never issued: a documented 400, 404 or 422 for it is
accepted as an answer to valid data.

`negative_data_rejection` runs too: invalid data must get a 4xx. So each side says the
same thing: an empty or repeated query parameter is a value, a 400 naming it unless the
schema allows it (`?q=` on the product list: no search; `clipcart_shared.serializers.
QuerySerializer`); `limit` is declared 1 to 100 and anything else is a 400
(`clipcart_shared.pagination`); request bodies take strings and numbers as their own JSON
type only (the strict fields in `clipcart_shared.serializers`); and `POST /api/v1/events/`
declares its events loosely typed, since it judges each alone (rejected by index in its
202). An extra query parameter the schema does not name is ignored, as HTTP APIs do, so no
negative case is made of one (`allow-extra-parameters`). The services run unthrottled
here (`conftest.UNTHROTTLED`): one user sends everything.

Requests carry a mobile user's token on `/api/v1/` and a service credential on
`/internal/v1/`. Left out: the Stripe webhooks (checkout's, video's Connect one), whose every
request needs a signature over its raw body (each service's own tests cover them).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from clipcart_shared import tokens
from clipcart_tools.testing.services import RunningService
from tests.contract.conftest import SERVICE_KEY

EXCLUDED = {
    "checkout": ["/api/v1/webhooks/stripe/"],
    "video": ["/api/v1/creators/payout-accounts/stripe-webhook/"],
}
MAX_EXAMPLES = 15
STATEFUL_EXAMPLES = 20
STATEFUL_STEPS = 6
CONFIG = {
    # A parameter the schema does not name is ignored, as HTTP APIs do (and OpenAPI has no
    # way to say otherwise of a query): no negative case is made of an extra one.
    "generation": {"allow-extra-parameters": False},
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422"],
        },
    },
}


def _schema(service: str, running: RunningService) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_url(
        f"{running.url}/api/schema/?format=json",
        timeout=30,
        config=SchemathesisConfig.from_dict(CONFIG),
    )
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
    # No `checks=`: every check schemathesis has, as configured above.
    case.call_and_validate(headers=_credentials(case.path), timeout=30)


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


STATEFUL = settings(
    max_examples=STATEFUL_EXAMPLES,
    stateful_step_count=STATEFUL_STEPS,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _run_stateful(schema: schemathesis.schemas.BaseSchema) -> None:
    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"headers": _credentials(case.path), "timeout": 30}

    Machine.run(settings=STATEFUL)


def test_catalog_follows_its_links_as_its_schema_says(catalog_schema):
    _run_stateful(catalog_schema)


def test_video_follows_its_links_as_its_schema_says(video_schema):
    _run_stateful(video_schema)


def test_checkout_follows_its_links_as_its_schema_says(checkout_schema):
    _run_stateful(checkout_schema)
