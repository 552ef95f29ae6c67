"""Secrets published in this repository, which production settings refuse.

Anyone can read this repository, so a value written in it is no secret: a deployment
that kept one would accept anyone's service calls, session cookies or signed Stripe
events. Every service's `config/settings/production.py` ends with
`published_secrets_refuse(globals())`, which raises `ImproperlyConfigured` naming the
variable as soon as one of them is set to a value listed here (or to nothing).

`tests/infra/test_published_secrets.py` scans the repository's tracked files for
secret-looking values (the defaults of `clipcart_tools.cli`, `docker-compose.yml`, the
Procfile, the Dockerfile, the emulator's and the tests' keys, README examples) and fails
when one is missing from this list, so the list cannot fall behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PUBLISHED_SECRETS: frozenset[str] = frozenset(
    {
        # clipcart_tools.cli LOCAL_DEFAULTS and the local profile (`make run`)
        "local-only-not-secret",
        "local-only-jwt-secret-change-me-000000",
        "local-only-service-key-change-me-00000",
        "local-only-console-key-change-me-0000",
        # docker-compose.yml defaults (the try-out)
        "compose-only-not-secret-change-me",
        "compose-only-service-key-change-me-0000",
        "compose-only-console-key-change-me-0000",
        # the Stripe emulator's keys: checkout's base defaults, compose, infra/Procfile
        "sk_test_clipcart_local",
        "whsec_clipcart_local",
        # video's Connect webhook (creators' payout accounts): its base default, compose,
        # infra/Procfile
        "whsec_clipcart_connect_local",
        # checkout's tracking webhook: the base default, and the tests'
        "tracking_clipcart_local",
        "tracking_test_checkout",
        "sk_test_localstripe",
        # infra/bench
        "sk_test_clipcart_bench",
        "whsec_clipcart_bench",
        # the test suites (profiles/test.py, shared/tests, services' and cross-service tests)
        "test-only",
        "test-only-jwt-secret-with-enough-length",
        "another-secret-of-sufficient-length",
        "test-only-service-key-current-0000000",
        "test-only-service-key-old-00000000000",
        "test-only-console-signing-key-0000000",
        "contract-tests-only-service-key-000000",
        "sk_test_checkout_tests",
        "sk_test_clipcart_contract",
        "sk_test_clipcart_e2e",
        "whsec_test_checkout",
        "whsec_wrong",
        "sk_test_real",
        "whsec_real",
        "whsec_connect_test",
        # infra/localstripe/NOTES.md examples
        "whsec_test123",
    }
)

# Setting name -> the environment variable an operator sets it with. An empty value is
# refused too, but for JWT_HS256_SECRET, where empty means "HS256 tokens are refused".
SECRET_SETTINGS: dict[str, str] = {
    "SECRET_KEY": "DJANGO_SECRET_KEY",
    "SERVICE_AUTH_KEYS": "SERVICE_AUTH_KEYS",
    "CONSOLE_SIGNING_KEY": "CONSOLE_SIGNING_KEY",
    "JWT_HS256_SECRET": "JWT_HS256_SECRET",
    "STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRETS": "STRIPE_WEBHOOK_SECRETS",
    "VIDEO_STRIPE_WEBHOOK_SECRETS": "VIDEO_STRIPE_WEBHOOK_SECRETS",
    "TRACKING_WEBHOOK_SECRET": "TRACKING_WEBHOOK_SECRET",
}
MAY_BE_EMPTY = frozenset({"JWT_HS256_SECRET"})


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, Iterable):
        return [str(item).strip() for item in value if str(item).strip()]
    return [str(value)]


def published_secrets_refuse(settings: Mapping[str, Any]) -> None:
    """Raise ImproperlyConfigured, naming the variable, when a secret setting present in
    `settings` (a settings module's `globals()`) is empty or a value published in this
    repository. A service checks the secrets it has: checkout and video have Stripe's."""
    for setting, variable in SECRET_SETTINGS.items():
        if setting not in settings:
            continue
        values = _values(settings[setting])
        if not values and setting not in MAY_BE_EMPTY:
            raise ImproperlyConfigured(
                f"{variable} is empty. Production settings need a secret of your own "
                'for it (README, "Compose settings").'
            )
        if any(value in PUBLISHED_SECRETS for value in values):
            raise ImproperlyConfigured(
                f"{variable} is set to a value published in the clipcart repository, "
                "which anyone can read; production settings refuse it. Set "
                f'{variable} to a secret of your own (README, "Compose settings").'
            )
