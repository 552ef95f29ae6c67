"""Run the localstripe emulator for a test and point the stripe SDK at it.

    from clipcart_tools.localstripe import localstripe_server, stripe_client

    with localstripe_server() as base_url:          # "http://127.0.0.1:<free port>"
        client = stripe_client(base_url)           # stripe.StripeClient, no retries
        pi = client.v1.payment_intents.create({"amount": 1000, "currency": "eur"})

The emulator runs as ``infra/localstripe/run.py`` in a subprocess (``sys.executable``), bound
to 127.0.0.1 with in-memory state, so every server starts empty. Its log is replayed on
sys.stderr when it stops (pytest shows it only for failing tests). What the emulator does and
does not do is in ``infra/localstripe/NOTES.md``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import stripe

# localstripe accepts any key that starts with "sk_" and is longer than 5 characters.
DEFAULT_API_KEY = "sk_test_localstripe"
# The runner, found from this file: <repo>/tools/clipcart_tools/localstripe.py.
# CLIPCART_LOCALSTRIPE_RUNNER overrides it (e.g. when clipcart_tools is installed elsewhere).
RUNNER = Path(
    os.environ.get(
        "CLIPCART_LOCALSTRIPE_RUNNER",
        Path(__file__).resolve().parents[2] / "infra" / "localstripe" / "run.py",
    )
)

# Bypass any HTTP(S)_PROXY from the environment: the emulator is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(base_url: str) -> bool:
    try:
        with _opener.open(base_url + "/js.stripe.com/v3/", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: run.py shuts aiohttp down and exits 0
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def localstripe_server(
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 20.0,
    attempts: int = 3,
    arguments: Sequence[str] = (),
) -> Iterator[str]:
    """Start localstripe on a free port of ``host``; yield its base URL; stop it on exit.
    ``arguments`` are more of the runner's options (``--webhook``, ``--connect-webhook``…).

    A port taken between picking and binding makes the server exit at once; it is then
    started again on another port, up to ``attempts`` times.
    """
    if not RUNNER.is_file():
        raise FileNotFoundError(f"localstripe runner not found: {RUNNER}")

    with tempfile.TemporaryFile() as log:
        proc: subprocess.Popen[bytes] | None = None
        base_url = ""
        for _ in range(attempts):
            port = _free_port(host)
            base_url = f"http://{host}:{port}"
            log.seek(0)
            log.truncate()
            proc = subprocess.Popen(
                [sys.executable, str(RUNNER), "--host", host, "--port", str(port), *arguments],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
            deadline = time.monotonic() + startup_timeout
            while proc.poll() is None and time.monotonic() < deadline:
                if _answers(base_url):
                    break
                time.sleep(0.05)
            else:
                exited = proc.poll() is not None
                _stop(proc)
                if exited:
                    continue  # most likely the port was taken: try another one
                log.seek(0)
                raise RuntimeError(
                    f"localstripe did not answer on {base_url} within {startup_timeout}s:\n"
                    + log.read().decode(errors="replace")[-4000:]
                )
            break
        else:
            log.seek(0)
            raise RuntimeError(
                f"localstripe exited at start {attempts} times; last log:\n"
                + log.read().decode(errors="replace")[-4000:]
            )

        assert proc is not None
        try:
            yield base_url
        finally:
            _stop(proc)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))


def stripe_client(
    base_url: str, api_key: str = DEFAULT_API_KEY, *, max_network_retries: int = 0
) -> stripe.StripeClient:
    """A ``stripe.StripeClient`` whose API calls go to ``base_url``.

    Retries default to 0: the SDK retries 409 and 5xx answers, and localstripe answers
    500 "Not implemented" for some parameters, which is better seen at once.
    """
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url},
        max_network_retries=max_network_retries,
    )


def configure_stripe(base_url: str, api_key: str = DEFAULT_API_KEY) -> None:
    """Point the module-level stripe API (``stripe.PaymentIntent.create(...)``) at ``base_url``.

    This sets process globals (``stripe.api_base``, ``stripe.api_key``,
    ``stripe.max_network_retries``); prefer ``stripe_client`` where the code takes a client.
    """
    import stripe

    stripe.api_base = base_url
    stripe.api_key = api_key
    stripe.max_network_retries = 0


class LocalstripeError(Exception):
    """A non-2xx answer from one of the emulator's own endpoints; ``body`` is its JSON error."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"localstripe answered {status}: {body}")
        self.status = status
        self.body = body


def _post(base_url: str, path: str, data: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base_url + path,
        data=urllib.parse.urlencode(data or {}, doseq=True).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )
    try:
        with _opener.open(request, timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        raise LocalstripeError(error.code, parsed) from None
    return json.loads(body) if body else None


def register_webhook(
    base_url: str, name: str, url: str, secret: str, events: list[str] | None = None
) -> None:
    """Make localstripe POST events to ``url``, signed with ``secret`` (every event type if
    ``events`` is None). Registering ``name`` again replaces it. Kept in memory only."""
    data: dict[str, Any] = {"url": url, "secret": secret}
    if events is not None:
        data["events[]"] = events
    _post(base_url, f"/_config/webhooks/{urllib.parse.quote(name)}", data)


def authenticate_payment_intent(
    base_url: str, payment_intent_id: str, client_secret: str, *, success: bool = True
) -> dict[str, Any]:
    """Complete (or fail) the 3-D Secure step of a PaymentIntent in ``requires_action``, as the
    customer would in the browser. Returns the PaymentIntent as a dict.

    Raises LocalstripeError: 402 when the card then declines (e.g. 4000008260003178), 400 when
    the PaymentIntent is not in ``requires_action``, 401 for a wrong client secret."""
    result: dict[str, Any] = _post(
        base_url,
        f"/v1/payment_intents/{payment_intent_id}/_authenticate",
        {"client_secret": client_secret, "success": "true" if success else "false"},
    )
    return result


def flush(base_url: str) -> None:
    """Delete every object the emulator holds (webhook registrations stay)."""
    request = urllib.request.Request(base_url + "/_config/data", method="DELETE")
    with _opener.open(request, timeout=10):
        pass


def complete_account_link(url: str) -> dict[str, Any]:
    """Finish Express onboarding through an account link's ``url``, as the account holder
    would: the account becomes enabled (charges, payouts, the transfers capability) and
    ``account.updated`` is sent to the webhooks. Emulator only (Stripe's link is a web page).
    Returns ``{"account": <Account>, "return_url": ...}``.

    Raises LocalstripeError: 400 when the link expired or was already used."""
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with _opener.open(request, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise LocalstripeError(error.code, json.loads(error.read() or b"null")) from None
    return result


def restrict_account(
    base_url: str,
    account_id: str,
    disabled_reason: str = "requirements.past_due",
    currently_due: list[str] | None = None,
) -> dict[str, Any]:
    """Make a connected account restricted, as Stripe does when it needs more from the holder:
    charges and payouts disabled, the transfers capability inactive,
    ``requirements.disabled_reason`` set, and ``account.updated`` sent. Emulator only."""
    data: dict[str, Any] = {"disabled_reason": disabled_reason}
    if currently_due is not None:
        data["currently_due[]"] = currently_due
    result: dict[str, Any] = _post(base_url, f"/_config/accounts/{account_id}/restrict", data)
    return result
