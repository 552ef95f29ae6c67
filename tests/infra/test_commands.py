"""Every command a container of the service image runs, and every health check it runs,
names things that exist in the code: working directories, the WSGI module, the Celery app,
manage.py commands, scripts and their options, and queues the settings route to."""

from __future__ import annotations

import importlib.util
import shlex
from functools import cache
from pathlib import Path, PurePosixPath
from types import ModuleType

import pytest

from tests.infra import compose, dockerfile
from tests.infra.compose import ROOT, SERVICE_IMAGE_DOCKERFILE
from tests.infra.services import SERVICES, container_environment, probe

IMAGE = ROOT / SERVICE_IMAGE_DOCKERFILE
SERVICE_CONTAINERS = [item for item in compose.containers() if item.is_service_image]


def _in_repository(image_path: PurePosixPath) -> Path:
    source = dockerfile.source_of(IMAGE, image_path)
    assert source is not None, f"{image_path} is not copied into the image"
    return ROOT / source


def _working_dir(container: compose.Container) -> PurePosixPath:
    return container.working_dir or dockerfile.workdir(IMAGE)


def _healthcheck_command(container: compose.Container) -> list[str]:
    test = container.spec.get("healthcheck", {}).get("test", [])
    if not test:
        return []
    if test[0] == "CMD-SHELL":
        return shlex.split(test[1])
    assert test[0] == "CMD", f"{container.name}: health check {test!r}"
    return list(test[1:])


@cache
def _load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _queues(container: compose.Container) -> list[str]:
    command = container.command
    if command[:4] != ["celery", "-A", "config", "worker"]:
        return []
    return command[command.index("--queues") + 1].split(",")


def _loaded(container: compose.Container) -> dict:
    return probe(container.clipcart_service, container_environment(container))


def _check(container: compose.Container, command: list[str]) -> None:
    """Fail unless every part of `command`, run in `container`, exists."""
    workdir = _working_dir(container)
    program, arguments = command[0], command[1:]
    if program == "gunicorn":
        module, _, attribute = arguments[0].partition(":")
        assert (module, attribute) == ("config.wsgi", "application"), arguments[0]
        assert _in_repository(workdir / "config/wsgi.py").is_file()
        assert _loaded(container)["has_wsgi_application"]
    elif program == "celery":
        assert arguments[:2] == ["-A", "config"], arguments
        assert _in_repository(workdir / "config/celery.py").is_file()
        assert _loaded(container)["celery_app"] == container.clipcart_service
        assert arguments[2] in ("worker", "beat", "inspect"), arguments
    elif program == "python" and arguments[0] == "manage.py":
        assert _in_repository(workdir / "manage.py").is_file()
        assert arguments[1] in _loaded(container)["commands"], arguments[1]
    elif program == "python" and arguments[0].endswith(".py"):
        script = _in_repository(workdir / arguments[0])
        assert script.is_file(), script
        module = _load_script(script)
        # The script's own parser accepts the options given (it exits otherwise).
        module.parse_args(arguments[1:])
    else:
        pytest.fail(f"{container.name}: nothing checks {command!r}; teach this test about it")


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_the_working_directory_exists_in_the_image(container):
    workdir = _working_dir(container)
    if workdir == dockerfile.workdir(IMAGE):
        return  # WORKDIR creates it
    assert _in_repository(workdir).is_dir()


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_the_command_exists_in_the_code(container):
    assert container.command, f"{container.name} runs the image's default command"
    _check(container, container.command)


@pytest.mark.parametrize("container", SERVICE_CONTAINERS, ids=lambda item: item.name)
def test_the_health_check_exists_in_the_code(container):
    command = _healthcheck_command(container)
    if container.is_one_shot:
        assert command == []
        return
    _check(container, command)


def test_a_command_that_names_a_missing_manage_py_command_fails_the_check():
    # Guards the check above: it really consults the service's commands.
    migrate = compose.container("catalog-migrate")

    with pytest.raises(AssertionError):
        _check(migrate, ["python", "manage.py", "migrat", "--noinput"])
    with pytest.raises(SystemExit):
        _check(migrate, ["python", "/app/infra/docker/healthcheck.py", "ping"])


def test_manage_py_commands_the_image_build_runs_exist_in_every_service():
    runs = [item for item in dockerfile.instructions(IMAGE) if item.keyword == "RUN"]
    named = {
        words[words.index("manage.py") + 1]
        for item in runs
        for words in [shlex.split(item.arguments.replace(";", " "))]
        if "manage.py" in words
    }

    assert named == {"collectstatic"}
    for service in SERVICES:
        web = compose.container(service)
        assert named <= set(_loaded(web)["commands"])


def _allowed_queues(service: str) -> set[str]:
    """What the settings route to that belongs to `service`: its default queue, its
    `<service>.events` queue (ADR 3), its task routes, and every queue any service's
    EVENT_ROUTES delivers to under the `<service>.` prefix."""
    loaded = {name: _loaded(compose.container(name)) for name in SERVICES}
    own = loaded[service]
    routed = {
        queue
        for other in loaded.values()
        for queues in other["event_routes"].values()
        for queue in queues
    }
    return {
        own["default_queue"],
        f"{service}.events",
        *own["task_route_queues"],
        *(queue for queue in routed if queue.split(".")[0] == service),
    }


@pytest.mark.parametrize(
    "container",
    [item for item in SERVICE_CONTAINERS if _queues(item)],
    ids=lambda item: item.name,
)
def test_a_worker_consumes_only_queues_its_service_is_sent_work_on(container):
    queues = _queues(container)

    assert sorted(set(queues) - _allowed_queues(container.clipcart_service)) == []
    assert len(queues) == len(set(queues))


def test_every_queue_the_settings_send_to_has_a_worker_of_its_service():
    loaded = {name: _loaded(compose.container(name)) for name in SERVICES}
    sent_to = {queue for item in loaded.values() for queue in item["task_route_queues"]}
    sent_to |= {item["default_queue"] for item in loaded.values()}
    sent_to |= {
        queue
        for item in loaded.values()
        for queues in item["event_routes"].values()
        for queue in queues
    }
    consumed = {
        (container.clipcart_service, queue)
        for container in SERVICE_CONTAINERS
        for queue in _queues(container)
    }

    assert {"video.attribution", "video.events", "checkout.events"} <= sent_to
    assert sorted(queue for queue in sent_to if (queue.split(".")[0], queue) not in consumed) == []
