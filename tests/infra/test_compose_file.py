"""docker-compose.yml: valid Compose, configurable with defaults, and the shape ADR 10
describes (per service: migrate job, web, worker, one beat; video's attribution worker;
the gateway in front; the Stripe emulator only in the dev profile)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.infra import compose
from tests.infra.compose import ROOT
from tests.infra.services import SERVICES

SCHEMA = Path(__file__).with_name("compose-spec.json")


def _containers_of(service: str) -> list[compose.Container]:
    return [item for item in compose.containers() if item.clipcart_service == service]


def _role(container: compose.Container) -> str:
    command = container.command
    if command[:3] == ["python", "manage.py", "migrate"]:
        return "migrate"
    if command[:1] == ["gunicorn"]:
        return "web"
    if command[:4] == ["celery", "-A", "config", "worker"]:
        return "worker"
    if command[:4] == ["celery", "-A", "config", "beat"]:
        return "beat"
    return "other"


def test_the_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)

    errors = sorted(validator.iter_errors(compose.load()), key=lambda error: error.json_path)

    assert [f"{error.json_path}: {error.message}" for error in errors] == []


def test_the_schema_check_catches_a_misspelt_key():
    # Guards the check above: a schema that accepted anything would pass it too.
    schema = json.loads(SCHEMA.read_text())
    broken = compose.load()
    broken["services"]["catalog"]["healthchek"] = broken["services"]["catalog"].pop("healthcheck")

    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_every_variable_the_compose_file_reads_has_a_default():
    # `docker compose up` works with nothing set; a .env file only overrides.
    without_default = sorted({item.name for item in compose.variables() if not item.has_default})

    assert without_default == []


def test_every_variable_the_compose_file_reads_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = {item.name for item in compose.variables()}

    assert len(names) > 10  # the interpolation still finds them
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


def test_setting_a_variable_changes_the_stack():
    # Interpolation really reads the environment (not only the defaults).
    changed = compose.load({"CATALOG_WORKER_CONCURRENCY": "7", "STRIPE_API_BASE": ""})

    assert "--concurrency 7" in changed["services"]["catalog-worker"]["command"]
    assert changed["services"]["checkout"]["environment"]["STRIPE_API_BASE"] == ""
    assert compose.load()["services"]["checkout"]["environment"]["STRIPE_API_BASE"] == (
        "http://stripe:8420"
    )


def test_every_environment_value_is_explicit():
    # No `KEY:` without a value (it would pass the host's variable through, unlisted).
    passed_through = [
        f"{item.name}.{key}"
        for item in compose.containers()
        for key, value in item.environment.items()
        if value is None
    ]

    assert passed_through == []


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_migrate_job_a_web_process_a_worker_and_one_beat(service):
    roles = sorted(_role(item) for item in _containers_of(service))

    assert roles.count("migrate") == 1
    assert roles.count("web") == 1
    assert roles.count("beat") == 1  # two schedulers would send every periodic task twice
    assert roles.count("worker") >= 1
    assert "other" not in roles


def test_the_compose_service_named_after_a_service_is_its_web_process():
    # Other services and the gateway reach `http://<service>:8000`.
    for service in SERVICES:
        assert _role(compose.container(service)) == "web"
        assert compose.container(service).clipcart_service == service


@pytest.mark.parametrize("service", SERVICES)
def test_processes_start_after_their_migrate_job_and_it_after_the_database_and_broker(service):
    migrate = next(item for item in _containers_of(service) if _role(item) == "migrate")

    assert migrate.is_one_shot
    assert migrate.spec["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for item in _containers_of(service):
        if item is migrate:
            continue
        assert item.spec["depends_on"][migrate.name] == {
            "condition": "service_completed_successfully"
        }, item.name


def test_every_long_running_container_restarts_and_has_a_health_check():
    missing = []
    for item in compose.containers():
        if item.is_one_shot:
            continue
        healthcheck = item.spec.get("healthcheck", {})
        if item.spec.get("restart") != "unless-stopped":
            missing.append(f"{item.name}: restart")
        if not healthcheck.get("test") or healthcheck.get("disable"):
            missing.append(f"{item.name}: healthcheck")

    assert missing == []


@pytest.mark.parametrize("service", SERVICES)
def test_health_checks_fit_the_process(service):
    for item in _containers_of(service):
        role = _role(item)
        test = item.spec.get("healthcheck", {}).get("test", [])
        if role == "web":
            bind = item.command[item.command.index("--bind") + 1]
            port = bind.rsplit(":", 1)[1]
            assert test[-1] == f"http://127.0.0.1:{port}/readyz", item.name
        elif role == "worker":
            # This container's own worker must answer, not any worker on the broker, and
            # through its pool: the liveness round trip the embedded run's supervisor uses.
            assert test[0] == "CMD-SHELL"
            words = test[1].split()
            assert words[:3] == ["python", "/app/infra/docker/healthcheck.py", "worker"], item.name
            node = (
                item.command[item.command.index("--hostname") + 1]
                if "--hostname" in item.command
                else "celery@%h"
            )
            assert words[3] == node.replace("%h", "$HOSTNAME"), item.name
        elif role == "beat":
            schedule = item.command[item.command.index("--schedule") + 1]
            assert test[-3:-1] == ["fresh", schedule], item.name


def test_the_attribution_worker_consumes_only_its_queue():
    queues = {
        item.name: item.command[item.command.index("--queues") + 1].split(",")
        for item in compose.containers()
        if _role(item) == "worker"
    }
    consumers = [name for name, names in queues.items() if "video.attribution" in names]

    assert consumers == ["video-attribution"]
    assert queues["video-attribution"] == ["video.attribution"]
    assert compose.container("video-attribution").clipcart_service == "video"


def test_the_stripe_emulator_runs_only_in_the_dev_profile_and_calls_checkouts_webhook():
    stripe = compose.container("stripe")
    command = stripe.command
    webhook = urlsplit(command[command.index("--webhook") + 1])
    checkout_bind = compose.container("checkout").command
    checkout_port = checkout_bind[checkout_bind.index("--bind") + 1].rsplit(":", 1)[1]

    assert stripe.is_dev_only
    assert [item.name for item in compose.containers() if item.is_dev_only] == ["stripe"]
    assert (webhook.hostname, str(webhook.port)) == ("checkout", checkout_port)
    assert webhook.path == "/api/v1/webhooks/stripe/"


def test_checkout_uses_the_emulator_by_default_and_stripe_itself_when_the_base_is_empty():
    stripe = compose.container("stripe")
    emulator_port = stripe.command[stripe.command.index("--port") + 1]
    webhook_secret = stripe.command[stripe.command.index("--webhook-secret") + 1]
    by_default = compose.container("checkout").environment
    for_real = compose.load(
        {
            "STRIPE_API_BASE": "",
            "STRIPE_SECRET_KEY": "sk_test_real",
            "STRIPE_WEBHOOK_SECRETS": "whsec_real",
        }
    )["services"]["checkout"]["environment"]

    assert by_default["STRIPE_API_BASE"] == f"http://stripe:{emulator_port}"
    assert by_default["STRIPE_WEBHOOK_SECRETS"] == webhook_secret
    assert for_real["STRIPE_API_BASE"] == ""
    assert for_real["STRIPE_SECRET_KEY"] == "sk_test_real"
    assert for_real["STRIPE_WEBHOOK_SECRETS"] == "whsec_real"


def test_addresses_between_containers_name_compose_services():
    names = {item.name for item in compose.containers()}
    for item in compose.containers():
        for key, value in item.environment.items():
            if not key.endswith("_URL") or not value or "://" not in value:
                continue
            host = urlsplit(value).hostname
            assert host in names, f"{item.name}: {key} points at {host}, not a compose service"


def test_only_the_gateway_and_the_emulator_publish_ports():
    # Services, the database and the broker are reachable only inside the compose network
    # (services' /internal/ APIs above all).
    published = {item.name for item in compose.containers() if item.spec.get("ports")}

    assert published == {"gateway", "stripe"}
    assert compose.container("stripe").spec["ports"] == ["127.0.0.1:8420:8420"]
    assert compose.container("gateway").spec["ports"] == ["127.0.0.1:8000:8080"]


def test_the_database_server_creates_a_database_for_every_service():
    init_sql = (ROOT / "infra/postgres/init-databases.sql").read_text()
    postgres = compose.container("postgres")

    assert (
        "./infra/postgres/init-databases.sql:/docker-entrypoint-initdb.d/init-databases.sql:ro"
        in (postgres.spec["volumes"])
    )
    for service in SERVICES:
        assert f"CREATE DATABASE clipcart_{service};" in init_sql
