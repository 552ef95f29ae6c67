"""Clients for calling other clipcart services, one per service and process (so each has
one circuit breaker), signed with this service's credential."""

from __future__ import annotations

import enum
import logging
from functools import cache

from django.conf import settings

from clipcart_shared.auth import service_token_mint
from clipcart_shared.errors import ApplicationError
from clipcart_shared.http import ServiceClient

logger = logging.getLogger(__name__)


DEFAULT_READ_TIMEOUT = 5.0


@cache
def _client(service: str, base_url: str, read_timeout: float) -> ServiceClient:
    return ServiceClient(
        base_url=base_url,
        service=service,
        credential=lambda: service_token_mint(),
        connect_timeout=1.0,
        read_timeout=read_timeout,
        retries=2,
    )


def service_client(service: str, *, read_timeout: float = DEFAULT_READ_TIMEOUT) -> ServiceClient:
    """The client for `service` at the URL in settings (`<SERVICE>_URL`), e.g. `catalog`;
    a longer `read_timeout` for a call that is slow on purpose (a password check)."""
    return _client(service, getattr(settings, f"{service.upper()}_URL"), read_timeout)


def unavailable_error(service: str, code: enum.Enum, error: Exception) -> ApplicationError:
    """The 503 a caller answers when `service` cannot be reached (logged with the cause)."""
    logger.warning("Service unavailable", extra={"remote_service": service, "error": str(error)})
    return ApplicationError(
        code,
        f"The {service} cannot be reached right now; nothing was changed. Try again shortly.",
        status=503,
    )
