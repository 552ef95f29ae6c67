"""The HTTP client every clipcart service uses to call another one.

Timeouts are always explicit, retries happen only where repeating the request is safe,
and a circuit breaker stops a process from hammering a dependency that is already down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import pybreaker
import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Methods whose repetition has no extra effect (RFC 9110 §9.2.2), so a retry cannot double-apply.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# ChunkedEncodingError is a connection dropped mid-body: as transient as a reset.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class ServiceError(Exception):
    """Base of every failure calling another service; `status` is None when no response came."""

    def __init__(self, message: str, *, service: str, status: int | None = None) -> None:
        super().__init__(message)
        self.service = service
        self.status = status


class ServiceUnavailable(ServiceError):
    """The service could not answer properly: transport error, timeout, 5xx, 429, open breaker.

    Raised after any retries are exhausted. `transient` is True for failures worth retrying
    later (connection error, timeout, 429, 502/503/504), False for a 500, a garbled body or
    an open breaker.
    """

    def __init__(
        self, message: str, *, service: str, status: int | None = None, transient: bool = False
    ) -> None:
        super().__init__(message, service=service, status=status)
        self.transient = transient


class ServiceRejected(ServiceError):
    """The service refused the request (final 4xx other than 429); repeating it will not help."""

    def __init__(
        self, message: str, *, service: str, status: int, code: str | None, problem: dict[str, Any]
    ) -> None:
        super().__init__(message, service=service, status=status)
        self.code = code
        self.problem = problem


class _UnlockedBreaker(pybreaker.CircuitBreaker):
    # pybreaker holds its lock for the whole guarded call, so a client shared by threads would
    # queue every request behind the slowest in-flight one. State changes still take the lock;
    # the price is a possibly lost failure count or an extra half-open probe under contention.
    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.state.call(func, *args, **kwargs)


class ServiceClient:
    """JSON-over-HTTP client for one remote service, with timeouts, safe retries and a breaker."""

    def __init__(
        self,
        *,
        base_url: str,
        service: str,
        credential: Callable[[], str] | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 3,
        backoff_seconds: float = 0.2,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        """Configure the client; `retries` counts repeats after the first attempt."""
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._credential = credential
        self._timeout = (connect_timeout, read_timeout)
        self._retries = retries
        self._backoff = backoff_seconds
        self._session = session or requests.Session()
        # One breaker per client: a service builds one long-lived client per dependency, so this is
        # already per remote service per process, without global state that would silently keep the
        # first client's thresholds and leak an open circuit between tests.
        # A 4xx proves the service is up: pybreaker counts excluded errors as successes.
        self.breaker = _UnlockedBreaker(
            fail_max=breaker_fail_max,
            reset_timeout=breaker_reset_seconds,
            exclude=[ServiceRejected],
            name=service,
            # Keep the real error (and its status) for the call that trips the breaker.
            throw_new_error_on_trip=False,
        )

    def get(self, path: str, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` and return its JSON body; retried on transient failures."""
        return self.request("GET", path, params=params)

    def post(
        self, path: str, *, json: Any = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """POST `json` to `path`; retried only when an `idempotency_key` makes that safe."""
        return self.request("POST", path, json=json, idempotency_key=idempotency_key)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send one logical request and return the decoded JSON object ({} for an empty body).

        Raises ServiceRejected for a 4xx, ServiceUnavailable for anything else that failed.
        """
        method = method.upper()
        url = self.base_url + "/" + path.lstrip("/")
        headers = self._headers(idempotency_key)
        safe = method in IDEMPOTENT_METHODS or idempotency_key is not None
        retrying = Retrying(
            stop=stop_after_attempt(self._retries + 1 if safe else 1),
            # Jitter keeps callers that failed together from retrying in lockstep.
            wait=wait_exponential(multiplier=self._backoff) + wait_random(0, self._backoff),
            retry=retry_if_exception(lambda exc: getattr(exc, "transient", False)),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    return self.breaker.call(self._send, method, url, headers, json, params)
                except pybreaker.CircuitBreakerError as exc:
                    error = ServiceUnavailable(
                        f"{self.service}: circuit open, not calling", service=self.service
                    )
                    self._log(error, method, path, number)
                    raise error from exc
                except ServiceError as exc:
                    self._log(exc, method, path, number)
                    raise
        raise AssertionError("unreachable: tenacity returns or re-raises")

    def _headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._credential is not None:
            headers["Authorization"] = "Service " + self._credential()
        try:
            # Lazy so this module stays importable and usable where request ids are not wired.
            from clipcart_shared.request_id import get_request_id
        except ImportError:
            request_id = None
        else:
            request_id = get_request_id()
        if request_id:
            headers["X-Request-ID"] = request_id
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _send(
        self, method: str, url: str, headers: dict[str, str], json: Any, params: Any
    ) -> dict[str, Any]:
        name = self.service
        try:
            response = self._session.request(
                method, url, json=json, params=params, headers=headers, timeout=self._timeout
            )
        except _TRANSPORT_ERRORS as exc:
            raise ServiceUnavailable(
                f"{name} unreachable: {exc}", service=name, transient=True
            ) from exc
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"{name} request failed: {exc}", service=name) from exc
        status = response.status_code
        if 400 <= status < 500 and status not in TRANSIENT_STATUSES:
            problem = _json_object(response) or {}
            code = problem.get("code")
            raise ServiceRejected(
                f"{name} rejected the request with {status}",
                service=name,
                status=status,
                code=code if isinstance(code, str) else None,
                problem=problem,
            )
        if not 200 <= status < 300:
            raise ServiceUnavailable(
                f"{name} answered {status}",
                service=name,
                status=status,
                transient=status in TRANSIENT_STATUSES,
            )
        if not response.content:
            return {}
        body = _json_object(response)
        if body is None:
            raise ServiceUnavailable(
                f"{name} answered {status} with a body that is not a JSON object",
                service=name,
                status=status,
            )
        return body

    def _log(self, error: ServiceError, method: str, path: str, attempt: int) -> None:
        # A rejection is usually the caller's business outcome, not an outage.
        level = logging.INFO if isinstance(error, ServiceRejected) else logging.WARNING
        # Not "service": clipcart_shared.logs stamps that key with the *local* service's name.
        extra = {
            "remote_service": self.service,
            "method": method,
            "path": path,
            "status": error.status,
            "attempt": attempt,
        }
        logger.log(
            level,
            "call to %s %s %s failed (attempt %d): %s",
            *(self.service, method, path, attempt, error),
            extra=extra,
        )


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
