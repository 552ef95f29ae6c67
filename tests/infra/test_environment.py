"""The environment compose gives each container: every variable is one that service's code
reads; by default the local settings (a try-out) load with it; with an operator's .env
(production settings, secrets of their own) the production settings load with exactly that
environment, point at the compose services and pass Django's deploy check."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.infra import compose
from tests.infra.services import (
    OPERATOR_HTTPS,
    ProbeFailed,
    container_environment,
    deploy_check,
    manage,
    probe,
    production_environment,
    variables_read,
    variables_required_in_production,
)

SERVICE_CONTAINERS = [item for item in compose.containers() if item.clipcart_service]


def _port_of_web(service: str) -> str:
    command = compose.container(service).command
    return command[command.index("--bind") + 1].rsplit(":", 1)[1]


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_every_variable_compose_sets_is_read_by_that_services_code(container):
    read = variables_read(container.clipcart_service)

    assert len(read) > 20  # the patterns still find how the code reads the environment
    assert sorted(set(container.environment) - read) == []


def test_a_variable_only_another_service_reads_is_not_accepted():
    # Per service, not pooled: catalog's code never reads checkout's Stripe settings.
    assert "STRIPE_SECRET_KEY" in variables_read("checkout")
    assert "STRIPE_SECRET_KEY" not in variables_read("catalog")


def test_the_emulator_gets_no_service_environment():
    assert compose.container("stripe").environment == {}


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_every_variable_production_requires_is_set(container):
    required = variables_required_in_production(container.clipcart_service)
    environment = container_environment(container)

    assert {"DJANGO_SECRET_KEY", "SERVICE_AUTH_KEYS"} <= required
    assert sorted(name for name in required if not environment.get(name)) == []


def test_compose_runs_the_local_settings_until_the_operator_asks_for_production():
    # The defaults are published secrets: production would refuse them (and should).
    defaults = container_environment(compose.container("checkout"))
    operator = production_environment("checkout")

    assert defaults["DJANGO_SETTINGS_MODULE"] == "config.settings.local"
    assert operator["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert operator["DJANGO_SECRET_KEY"] != defaults["DJANGO_SECRET_KEY"]


@pytest.mark.parametrize("service", ["catalog", "video", "checkout"])
def test_the_try_out_loads_with_the_compose_defaults(service):
    loaded = probe(service, container_environment(compose.container(service)))

    assert loaded["settings_module"] == "config.settings.local"
    assert loaded["debug"] is False
    assert loaded["database"] == {"name": f"clipcart_{service}", "host": "postgres", "port": "5432"}


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_production_settings_load_with_the_containers_environment(container):
    service = container.clipcart_service
    loaded = probe(service, production_environment(container.name))

    assert loaded["settings_module"] == "config.settings.production"
    assert loaded["service_name"] == service
    assert loaded["debug"] is False
    assert loaded["has_secret_key"]
    assert loaded["service_auth_keys"] >= 1
    # Its own database on the compose PostgreSQL (ADR 1), the compose Redis as broker.
    assert loaded["database"] == {"name": f"clipcart_{service}", "host": "postgres", "port": "5432"}
    assert urlsplit(loaded["broker_url"]).hostname == "redis"
    assert compose.container("redis").spec["image"].startswith("redis:")
    if loaded["catalog_url"] is not None:
        assert loaded["catalog_url"] == f"http://catalog:{_port_of_web('catalog')}"
    if loaded["video_url"] is not None:
        # Checkout asks video about cart sources: the compose service, not the local default.
        assert loaded["video_url"] == f"http://video:{_port_of_web('video')}"


def test_loading_fails_when_a_required_variable_is_missing():
    # Guards the test above: the probe loads the settings for real.
    environment = production_environment("catalog")
    del environment["DJANGO_SECRET_KEY"]

    with pytest.raises(ProbeFailed, match="DJANGO_SECRET_KEY"):
        probe("catalog", environment)


@pytest.mark.parametrize("service", ["catalog", "video", "checkout"])
def test_production_settings_pass_the_deploy_check_without_a_warning(service):
    # What an operator sets behind HTTPS (README, "Compose settings"), nothing more.
    environment = production_environment(service)

    completed = deploy_check(service, environment)

    assert set(OPERATOR_HTTPS) <= set(environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "System check identified no issues (0 silenced)." in completed.stdout


def test_the_deploy_check_fails_on_insecure_cookies():
    # Guards the test above: the check does fail on a warning.
    completed = deploy_check("catalog", production_environment("catalog", SECURE_COOKIES="false"))

    assert completed.returncode != 0
    assert "security.W012" in completed.stderr


@pytest.mark.parametrize("service", ["catalog", "video", "checkout"])
def test_seed_demo_refuses_to_run_under_production_settings(service):
    # The demo logins' passwords are in this repository. It stops before any query: the
    # compose PostgreSQL it would reach does not exist here.
    completed = manage(service, ["seed_demo"], production_environment(service))

    assert completed.returncode == 1
    assert "CommandError: seed_demo refuses to run under production settings" in (completed.stderr)


@pytest.mark.parametrize("service", ["catalog", "video", "checkout"])
def test_the_test_hooks_refuse_to_run_under_production_settings(service):
    # `testhook` writes whatever another service's tests need, with no checks (issue 14).
    completed = manage(service, ["testhook", "--help"], production_environment(service))
    assert completed.returncode == 0, completed.stderr

    hook = {
        "catalog": "variant_stock",
        "video": "video_tag_create",
        "checkout": "order_paid_create",
    }
    completed = manage(service, ["testhook", hook[service], "{}"], production_environment(service))

    assert completed.returncode == 1
    assert "CommandError: testhook refuses to run under production settings" in completed.stderr


def test_every_container_of_a_service_has_the_same_environment():
    # Web, workers and beat of one service must agree (one anchor per service).
    by_service: dict[str, list[dict]] = {}
    for item in SERVICE_CONTAINERS:
        by_service.setdefault(item.clipcart_service, []).append(item.environment)

    for service, environments in by_service.items():
        assert all(item == environments[0] for item in environments), service


def test_production_refuses_the_demos_short_return_window():
    # Compose never sets it: an operator would have to add it by hand.
    environment = production_environment("checkout") | {"RETURN_WINDOW_SECONDS": "30"}

    with pytest.raises(ProbeFailed, match="ImproperlyConfigured: RETURN_WINDOW_SECONDS"):
        probe("checkout", environment)
