"""Every route of an event lands where it is applied: for each (type → queue) of a
producer's `EVENT_ROUTES`, every service whose workers consume that queue — in
docker-compose.yml and in the embedded run's Procfile — has a handler for the type in its
table (`config/event_handlers.py`, ADR 19). A route with no handler would ship every event
of that type to a worker that logs it and drops it.

Each service is loaded in its own process (`settings_probe.py`): no service's code is
imported here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pytest

from tests.infra import compose
from tests.infra.compose import ROOT
from tests.infra.services import SERVICES, container_environment, probe

PROCFILE = ROOT / "infra" / "Procfile"
_PROCFILE_WORKER = re.compile(
    r"cd services/(?P<service>\w+) && exec celery .*--queues (?P<queues>\S+)"
)


def _compose_consumers() -> set[tuple[str, str]]:
    """(service, queue) of every worker container of docker-compose.yml."""
    consumers = set()
    for container in compose.containers():
        command = container.command
        if container.is_service_image and command[:4] == ["celery", "-A", "config", "worker"]:
            for queue in command[command.index("--queues") + 1].split(","):
                consumers.add((container.clipcart_service, queue))
    return consumers


def _procfile_consumers() -> set[tuple[str, str]]:
    """(service, queue) of every worker the embedded run (`make run`) starts."""
    consumers = set()
    for line in PROCFILE.read_text().splitlines():
        if match := _PROCFILE_WORKER.search(line):
            for queue in match["queues"].split(","):
                consumers.add((match["service"], queue))
    return consumers


def _loaded() -> dict[str, dict]:
    """Each service as its web container loads it."""
    return {name: probe(name, container_environment(compose.container(name))) for name in SERVICES}


def routes_without_handler(
    loaded: Mapping[str, Mapping], consumers: Iterable[tuple[str, str]]
) -> list[str]:
    """Each route that ends nowhere, or at a service with no handler for its type."""
    consumers = list(consumers)
    problems = []
    for producer, report in sorted(loaded.items()):
        for event_type, queues in sorted(report["event_routes"].items()):
            for queue in queues:
                services = sorted(service for service, name in consumers if name == queue)
                if not services:
                    problems.append(f"{producer}: {event_type} → {queue}: no worker consumes it")
                problems += [
                    f"{producer}: {event_type} → {queue}: {service} has no handler for it"
                    for service in services
                    if event_type not in loaded[service]["event_handlers"]
                ]
    return problems


@pytest.mark.parametrize(
    "consumers", [_compose_consumers, _procfile_consumers], ids=["compose", "procfile"]
)
def test_every_routed_event_type_has_a_handler_where_it_lands(consumers):
    found = consumers()
    assert {queue for _, queue in found} >= {"video.events", "video.attribution", "checkout.events"}

    assert routes_without_handler(_loaded(), found) == []


def test_the_handler_tables_are_what_the_services_consume():
    handlers = {name: report["event_handlers"] for name, report in _loaded().items()}

    assert handlers == {
        "catalog": [],
        "checkout": ["order.delivered", "order.paid", "order.refunded", "order.shipped"],
        "video": [
            "order.delivered",
            "order.paid",
            "order.refunded",
            "order.return_closed",
            "order.return_requested",
            "product.changed",
        ],
    }


def test_a_route_to_a_service_without_its_handler_fails_the_check():
    # Guards the check above: it really reads both sides.
    loaded = {
        "checkout": {"event_routes": {"order.cancelled": ["video.attribution"]}},
        "video": {"event_routes": {}, "event_handlers": ["order.paid", "order.refunded"]},
    }

    problems = routes_without_handler(loaded, [("video", "video.attribution")])
    unconsumed = routes_without_handler(loaded, [("video", "video.events")])

    assert problems == [
        "checkout: order.cancelled → video.attribution: video has no handler for it"
    ]
    assert unconsumed == ["checkout: order.cancelled → video.attribution: no worker consumes it"]
