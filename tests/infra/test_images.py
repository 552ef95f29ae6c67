"""The images docker-compose.yml builds: their Dockerfiles exist and copy files that
exist, the service image installs exactly the locked dependencies and collects each
service's static files where its settings serve them from."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.infra import compose, dockerfile
from tests.infra.compose import ROOT, SERVICE_IMAGE_DOCKERFILE
from tests.infra.services import SERVICES


def _builds() -> list[tuple[str, Path, Path]]:
    """(container, build context, Dockerfile) for every container that builds an image."""
    found = []
    for item in compose.containers():
        build = item.spec.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = ROOT / build.get("context", ".")
        found.append((item.name, context, context / build.get("dockerfile", "Dockerfile")))
    return found


def test_the_stack_builds_two_images_the_services_one_and_the_gateways():
    dockerfiles = {path.relative_to(ROOT).as_posix() for _, _, path in _builds()}

    assert dockerfiles == {SERVICE_IMAGE_DOCKERFILE, "infra/gateway/Dockerfile"}


@pytest.mark.parametrize(("container", "context", "path"), _builds(), ids=lambda v: str(v))
def test_every_build_names_a_dockerfile_that_exists(container, context, path):
    assert context.is_dir(), f"{container}: no build context {context}"
    assert path.is_file(), f"{container}: no Dockerfile {path}"


@pytest.mark.parametrize(
    ("context", "path"),
    sorted({(context, path) for _, context, path in _builds()}),
    ids=lambda value: str(value.relative_to(ROOT)),
)
def test_every_copy_source_exists_in_the_build_context_and_is_not_ignored(context, path):
    patterns = dockerfile.ignored_patterns(context)
    sources = [source for copy in dockerfile.copies(path) for source in copy.sources]

    assert sources, "the Dockerfile copies nothing"
    assert [source for source in sources if not (context / source).exists()] == []
    assert [source for source in sources if dockerfile.is_ignored(source, patterns)] == []


def test_the_build_context_leaves_out_local_state():
    # The virtualenv, the embedded database and git history never enter an image.
    patterns = dockerfile.ignored_patterns(ROOT)

    for path in (".venv", ".data/postgres/base", ".git", ".tools", ".env"):
        assert dockerfile.is_ignored(path, patterns), path
    assert not dockerfile.is_ignored("services/catalog/config/settings/base.py", patterns)


def test_the_service_image_installs_the_locked_dependencies_without_dev_tools():
    runs = [
        item.arguments
        for item in dockerfile.instructions(ROOT / SERVICE_IMAGE_DOCKERFILE)
        if item.keyword == "RUN"
    ]
    copied = {
        source
        for copy in dockerfile.copies(ROOT / SERVICE_IMAGE_DOCKERFILE)
        for source in copy.sources
    }

    assert "uv sync --frozen --no-dev" in runs
    # The lock, the workspace manifest and its member are in the image before the sync.
    assert {"pyproject.toml", "uv.lock", "shared/pyproject.toml"} <= copied


def test_what_the_containers_run_is_a_locked_runtime_dependency():
    # `--no-dev` leaves out dev dependencies, so gunicorn and celery must be main ones.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {re.split(r"[<>=\[; ]", item, maxsplit=1)[0] for item in project["dependencies"]}
    lock = (ROOT / "uv.lock").read_text()
    programs = {
        item.command[0]
        for item in compose.containers()
        if item.is_service_image and item.command and item.command[0] != "python"
    }

    assert programs == {"gunicorn", "celery"}
    for program in programs:
        assert program in runtime
        assert f'name = "{program}"' in lock


def test_static_files_are_collected_for_each_service_where_compose_says_they_are():
    runs = " ".join(
        item.arguments
        for item in dockerfile.instructions(ROOT / SERVICE_IMAGE_DOCKERFILE)
        if item.keyword == "RUN" and "collectstatic" in item.arguments
    )
    loop = re.search(r"for service in ([a-z ]+); do", runs)

    assert loop, "no collectstatic loop over the services"
    assert sorted(loop.group(1).split()) == SERVICES
    assert "STATIC_ROOT=/app/static/$service" in runs
    assert "config.settings.production" in runs
    for item in compose.containers():
        if item.clipcart_service:
            expected = f"/app/static/{item.clipcart_service}"
            assert item.environment["STATIC_ROOT"] == expected, item.name


def test_the_gateway_image_renders_only_its_upstream_variables():
    gateway_dockerfile = ROOT / "infra/gateway/Dockerfile"
    environment = dockerfile.environment(gateway_dockerfile)
    copies = dockerfile.copies(gateway_dockerfile)

    targets = [copy.target_of(source).as_posix() for copy in copies for source in copy.sources]

    assert environment["NGINX_ENVSUBST_FILTER"] == "_UPSTREAM"
    # Only the template is rendered; the one API document and its page are served as they
    # are, never through envsubst (ADR 29).
    assert [target for target in targets if target.startswith("/etc/nginx/")] == [
        "/etc/nginx/templates/default.conf.template"
    ]
    assert sorted(targets) == [
        "/etc/nginx/templates/default.conf.template",
        "/usr/share/nginx/clipcart/docs.html",
        "/usr/share/nginx/clipcart/openapi.json",
    ]
