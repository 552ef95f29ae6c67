"""The services as their code defines them: which exist, which environment variables their
code reads, and what their settings say once loaded with a container's environment."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from tests.infra import compose, dockerfile
from tests.infra.compose import ROOT, SERVICE_IMAGE_DOCKERFILE, Container

SERVICES = sorted(path.parent.name for path in ROOT.glob("services/*/manage.py"))
PROBE = Path(__file__).with_name("settings_probe.py")

# env.str("NAME", ...), env.int("NAME"), ... as the settings read them (django-environ).
_ENV_READS = re.compile(
    r"""env\.(?:str|int|bool|list|float|path|json|url|db_url)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
# os.environ.get("NAME"), os.environ.setdefault("NAME", ...), os.environ["NAME"]
_OS_READS = re.compile(r"""os\.environ(?:\.get|\.setdefault)?[\(\[]\s*["']([A-Z][A-Z0-9_]*)["']""")
# f"{service.upper()}_DATABASE_URL": one variable per service.
_PER_SERVICE_READS = re.compile(r"""\{service\.upper\(\)\}(_[A-Z][A-Z0-9_]*)""")
# env.str("NAME") with nothing after the name: no default, so loading fails without it.
_REQUIRED_READS = re.compile(
    r"""env\.(?:str|int|bool|list|float)\(\s*["']([A-Z][A-Z0-9_]*)["']\s*\)"""
)


def runtime_sources(service: str) -> list[Path]:
    """The code a container of `service` runs that may read the environment: the shared
    package (less the embedded run's command line and the test helpers) and the service's
    `config` and `manage.py`."""
    shared = [
        path
        for path in ROOT.glob("shared/clipcart_shared/**/*.py")
        if path.name != "cli.py" and "testing" not in path.parts
    ]
    own = [*ROOT.glob(f"services/{service}/config/**/*.py"), ROOT / f"services/{service}/manage.py"]
    return [*shared, *own]


def variables_read(service: str) -> set[str]:
    """Every environment variable the code of `service` reads."""
    names: set[str] = set()
    for path in runtime_sources(service):
        text = path.read_text()
        names.update(_ENV_READS.findall(text))
        names.update(_OS_READS.findall(text))
        for suffix in _PER_SERVICE_READS.findall(text):
            names.update(f"{name.upper()}{suffix}" for name in SERVICES)
    return names


def variables_required_in_production(service: str) -> set[str]:
    """Variables the production settings read without a default."""
    sources = [
        ROOT / "shared/clipcart_shared/settings.py",
        ROOT / "shared/clipcart_shared/profiles/production.py",
        *ROOT.glob(f"services/{service}/config/settings/base.py"),
        *ROOT.glob(f"services/{service}/config/settings/production.py"),
    ]
    return {name for path in sources for name in _REQUIRED_READS.findall(path.read_text())}


def image_environment() -> dict[str, str]:
    """What the service image's ENV sets that the code may read (PATH and uv's own settings
    belong to the image, not to the services)."""
    environment = dockerfile.environment(ROOT / SERVICE_IMAGE_DOCKERFILE)
    return {
        key: value
        for key, value in environment.items()
        if key != "PATH" and not key.startswith("UV_")
    }


def container_environment(container: Container) -> dict[str, str]:
    """The environment a process of `container` starts with: the image's, then compose's."""
    return {**image_environment(), **{k: str(v) for k, v in container.environment.items()}}


def operator_secrets() -> dict[str, str]:
    """Secrets an operator would generate (long, random, in Stripe's shapes): generated once
    per run, as an operator's .env holds one set, so that the containers of one service,
    which compose gives the same environment, are loaded once (`probe` caches by
    environment: each load is a Django start in a subprocess)."""
    return dict(_operator_secrets())


@cache
def _operator_secrets() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SERVICE_AUTH_KEYS": secrets.token_urlsafe(32),
        "CONSOLE_SIGNING_KEY": secrets.token_urlsafe(32),
        "JWT_ALLOW_HS256": "true",
        "JWT_HS256_SECRET": secrets.token_urlsafe(32),
        "STRIPE_SECRET_KEY": f"sk_live_{secrets.token_urlsafe(24)}",
        "STRIPE_WEBHOOK_SECRETS": f"whsec_{secrets.token_urlsafe(24)}",
        "VIDEO_STRIPE_WEBHOOK_SECRETS": f"whsec_{secrets.token_urlsafe(24)}",
        "TRACKING_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    }


# What an operator's .env holds to run production behind HTTPS (README, "Compose settings").
OPERATOR_HOST = "shop.example.com"
OPERATOR_HTTPS = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "ALLOWED_HOSTS": f"{OPERATOR_HOST},localhost,127.0.0.1,catalog,video,checkout",
    "CSRF_TRUSTED_ORIGINS": f"https://{OPERATOR_HOST}",
}


def production_environment(container_name: str, **overrides: str) -> dict[str, str]:
    """The environment compose gives `container_name` when the operator's .env switches
    it to production with secrets of their own (and `overrides`)."""
    operator = {**OPERATOR_HTTPS, **operator_secrets(), **overrides}
    spec = compose.load(operator)["services"][container_name]
    return container_environment(Container(container_name, spec))


class ProbeFailed(AssertionError):
    pass


@cache
def _probe(service: str, environment: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(PROBE)],
        cwd=ROOT / "services" / service,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **dict(environment)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if completed.returncode != 0:
        raise ProbeFailed(
            f"{service} did not load with this environment:\n{completed.stderr[-3000:]}"
        )
    return json.loads(completed.stdout)


def probe(service: str, environment: dict[str, str]) -> dict[str, Any]:
    """What `service` looks like loaded with exactly `environment` (see settings_probe.py)."""
    return _probe(service, tuple(sorted(environment.items())))


def manage(
    service: str, arguments: list[str], environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`manage.py <arguments>` of `service` run with exactly `environment`."""
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT / "services" / service,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def deploy_check(service: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy --fail-level WARNING`: Django's own list of what a
    deployment must set (HSTS, SSL redirect, secure cookies, a long secret, ...). It
    connects to nothing."""
    return manage(service, ["check", "--deploy", "--fail-level", "WARNING"], environment)
