"""Production settings refuse every secret published in this repository
(clipcart_shared.published_secrets), and that list keeps up with the repository: every
secret-looking value in a tracked file must be on it."""

from __future__ import annotations

import re
import secrets
import subprocess
from functools import cache
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clipcart_shared.published_secrets import (
    PUBLISHED_SECRETS,
    SECRET_SETTINGS,
    published_secrets_refuse,
)
from tests.infra.compose import ROOT
from tests.infra.services import ProbeFailed, probe, production_environment

# Values shaped like Stripe's secrets, wherever they are written.
_STRIPE_SHAPED = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9_]+|\bwhsec_[A-Za-z0-9_]+")
# A value given to a secret's variable or constant: `NAME=value`, `NAME: value`,
# `"NAME": "value"`, `NAME = ["value"`, `${NAME:-value}`; not `NAME = module.call(`.
_SECRET_NAMES = (
    "DJANGO_SECRET_KEY|SECRET_KEY|SERVICE_AUTH_KEYS|CONSOLE_SIGNING_KEY|JWT_HS256_SECRET|STRIPE_SECRET_KEY|"
    "STRIPE_WEBHOOK_SECRETS|TRACKING_WEBHOOK_SECRET|SERVICE_KEY|WEBHOOK_SECRET|STRIPE_KEY|DEFAULT_API_KEY|SECRET"
)
_ASSIGNED = re.compile(
    rf"""\b(?:{_SECRET_NAMES})\b["']?[ \t]*(?::-|[:=])[ \t]*\[?[ \t]*(["']?)"""
    r"""([A-Za-z0-9_\-]+)(?![\w.(\-])"""
)
# A signing key passed by keyword in Python: `_token(key="...")` (20 characters or more,
# so that reservation and idempotency keys of the tests are left out).
_KEYWORD = re.compile(
    r"""\b(?:secret|key|api_key|stripe_key|signing_key|webhook_secret)[ \t]*=[ \t]*"""
    r"""["']([A-Za-z0-9_\-]{20,})["']"""
)
# Not scanned: the lock file and the vendored Compose schema hold no secrets of ours.
_SKIPPED = {"uv.lock", "tests/infra/compose-spec.json"}


def _is_a_value(candidate: str) -> bool:
    # Placeholders (`sk_test_...` leaves `sk_test_`), names (`= STRIPE_KEY`) and short
    # words (`= env`) are not values.
    return (
        len(candidate) >= 6
        and not candidate.endswith(("_", "-"))
        and not re.fullmatch(r"[A-Z][A-Z0-9_]*", candidate)
    )


@cache
def _tracked_files() -> tuple[Path, ...]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return tuple(ROOT / name for name in listed if name not in _SKIPPED)


def secret_looking_values() -> dict[str, set[str]]:
    """Every secret-looking value in the repository's tracked files, with where it is."""
    found: dict[str, set[str]] = {}
    for path in _tracked_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        # In Python an unquoted value is a name (`SECRET=secret`), not a value.
        assigned = [
            value for quote, value in _ASSIGNED.findall(text) if quote or path.suffix != ".py"
        ]
        candidates = [*_STRIPE_SHAPED.findall(text), *assigned, *_KEYWORD.findall(text)]
        for value in candidates:
            if _is_a_value(value):
                found.setdefault(value, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_secret_looking_value_in_the_repository_is_refused_by_production():
    found = secret_looking_values()

    missing = {
        value: sorted(where) for value, where in found.items() if value not in PUBLISHED_SECRETS
    }

    assert missing == {}


def test_the_scan_finds_secrets_passed_by_keyword_in_the_tests():
    # `_token(key="...")`: a signing key a test passes by keyword, in Python, quoted.
    found = secret_looking_values()

    assert "shared/tests/test_auth.py" in found["another-secret-of-sufficient-length"]


def test_the_scan_finds_the_defaults_of_compose_the_local_run_and_the_tests():
    # Guards the scan above: a pattern that found nothing would pass it too.
    found = secret_looking_values()

    assert "docker-compose.yml" in found["compose-only-not-secret-change-me"]
    assert "docker-compose.yml" in found["whsec_clipcart_local"]
    assert "tools/clipcart_tools/cli.py" in found["local-only-service-key-change-me-00000"]
    assert "services/checkout/config/settings/base.py" in found["sk_test_clipcart_local"]
    assert "shared/clipcart_shared/profiles/test.py" in found["test-only"]
    assert "sk_test_" not in found  # README's `sk_test_...` is a placeholder


def test_the_scan_would_catch_a_new_default_in_compose(tmp_path):
    # Assembled here, so that this file itself holds no such value for the scan to find.
    webhook_secret, secret_key = "whsec" + "_brand_new", "another" + "-new-default"
    text = f"STRIPE_WEBHOOK_SECRETS: ${{STRIPE_WEBHOOK_SECRETS:-{webhook_secret}}}\n"
    text += f"  DJANGO_SECRET_KEY: ${{DJANGO_SECRET_KEY:-{secret_key}}}\n"

    found = {*_STRIPE_SHAPED.findall(text), *(value for _, value in _ASSIGNED.findall(text))}

    assert {webhook_secret, secret_key} <= found


VARIABLES = sorted(SECRET_SETTINGS.values())
SETTING_OF = {variable: setting for setting, variable in SECRET_SETTINGS.items()}


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("value", sorted(PUBLISHED_SECRETS))
def test_each_published_value_is_refused_for_each_secret_naming_the_variable(value, variable):
    # What production settings run last (published_secrets_refuse(globals())), in process:
    # loading settings takes seconds, so the loads below take one case per variable.
    fresh = secrets.token_urlsafe(32)
    as_list = variable in (
        "SERVICE_AUTH_KEYS",
        "STRIPE_WEBHOOK_SECRETS",
        "VIDEO_STRIPE_WEBHOOK_SECRETS",
    )

    with pytest.raises(ImproperlyConfigured, match=f"^{variable} is set to a value published"):
        published_secrets_refuse({SETTING_OF[variable]: [fresh, value] if as_list else value})
    published_secrets_refuse({SETTING_OF[variable]: [fresh] if as_list else fresh})


@pytest.mark.parametrize("variable", sorted(set(VARIABLES) - {"JWT_HS256_SECRET"}))
def test_an_empty_secret_is_refused(variable):
    with pytest.raises(ImproperlyConfigured, match=f"^{variable} is empty"):
        published_secrets_refuse({SETTING_OF[variable]: [" ", ""]})


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "SERVICE_AUTH_KEYS"])
def test_production_refuses_the_compose_defaults_when_the_operator_sets_no_secret(variable):
    # The settings module switched to production, the secret left out: compose fills in
    # its own published default.
    environment = production_environment("checkout", **{variable: ""})

    assert environment[variable] in PUBLISHED_SECRETS
    with pytest.raises(ProbeFailed, match=f"ImproperlyConfigured: {variable} is set to a value"):
        probe("checkout", environment)


@pytest.mark.parametrize(
    "variable", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS", "TRACKING_WEBHOOK_SECRET"]
)
def test_production_refuses_the_emulators_stripe_secrets_left_at_their_defaults(variable):
    environment = production_environment("checkout", **{variable: ""})

    assert environment[variable] in PUBLISHED_SECRETS  # compose's default: the emulator's
    with pytest.raises(ProbeFailed, match=f"ImproperlyConfigured: {variable} is set to a value"):
        probe("checkout", environment)


@pytest.mark.parametrize("variable", ["STRIPE_SECRET_KEY", "VIDEO_STRIPE_WEBHOOK_SECRETS"])
def test_video_refuses_the_emulators_connect_secrets_left_at_their_defaults(variable):
    # Video makes creators' payout accounts at Stripe and verifies their Connect webhook.
    environment = production_environment("video", **{variable: ""})

    assert environment[variable] in PUBLISHED_SECRETS  # compose's default: the emulator's
    with pytest.raises(ProbeFailed, match=f"ImproperlyConfigured: {variable} is set to a value"):
        probe("video", environment)


@pytest.mark.parametrize("service", ["catalog", "video"])
def test_every_service_refuses_a_published_service_key_even_beside_a_real_one(service):
    keys = f"{secrets.token_urlsafe(32)},test-only-service-key-current-0000000"
    environment = production_environment(service, SERVICE_AUTH_KEYS=keys)

    with pytest.raises(ProbeFailed, match="SERVICE_AUTH_KEYS is set to a value published"):
        probe(service, environment)


def test_the_hs256_secret_is_refused_only_when_production_accepts_it():
    published = "local-only-jwt-secret-change-me-000000"
    ignored = production_environment("video", JWT_HS256_SECRET=published, JWT_ALLOW_HS256="false")
    accepted = production_environment("video", JWT_HS256_SECRET=published)

    assert probe("video", ignored)["settings_module"] == "config.settings.production"
    with pytest.raises(ProbeFailed, match="JWT_HS256_SECRET is set to a value published"):
        probe("video", accepted)
