"""Run the localstripe emulator bound to one interface (127.0.0.1 by default).

localstripe's own ``localstripe`` command binds ``::`` (every interface) and
keeps its state in ``/tmp/localstripe.pickle``, shared by every instance on the
machine. This runner serves the same aiohttp app (``localstripe.server.app``)
on the given host only, keeps the state in memory (unless ``--persist``), logs
to stderr and stops cleanly on SIGTERM/SIGINT. It adds what clipcart uses and
localstripe lacks: ``amount_received`` here, Stripe Connect in connect.py and
connect_routes.py (NOTES.md says what is emulated).

    python infra/localstripe/run.py --port 8420 [--host 127.0.0.1] [--persist]
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web
from localstripe import server
from localstripe.resources import PaymentIntent, store
from localstripe.webhooks import register_webhook

logger = logging.getLogger("localstripe.run")

# The Connect events a `--connect-webhook` receives (what the emulator sends of them).
CONNECT_EVENTS = ["account.updated"]


def _amount_received(intent: PaymentIntent) -> int:
    """Stripe's `amount_received`: what the PaymentIntent has collected, the whole amount
    once it succeeded (automatic capture), else 0. localstripe leaves the field out."""
    return int(intent.amount) if intent.status == "succeeded" else 0


def add_missing_fields() -> None:
    """Fields of Stripe's documented objects that localstripe lacks and clipcart reads."""
    # localstripe exports every public property of an object with its fields.
    PaymentIntent.amount_received = property(_amount_received)  # type: ignore[attr-defined]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8420, help="TCP port (8420)")
    parser.add_argument(
        "--persist",
        action="store_true",
        help="load and save localstripe's /tmp/localstripe.pickle like the stock command "
        "(default: in-memory state, so parallel instances do not clobber each other)",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="stderr log level, e.g. DEBUG, INFO, WARNING"
    )
    parser.add_argument(
        "--webhook",
        metavar="URL",
        help="register this URL for every event at start (the checkout service's endpoint)",
    )
    parser.add_argument("--webhook-secret", default="", help="its signing secret")
    parser.add_argument(
        "--connect-webhook",
        metavar="URL",
        help="register this URL for Connect's account.updated at start (video's endpoint for "
        "creators' payout accounts; at Stripe, a Connect endpoint)",
    )
    parser.add_argument("--connect-webhook-secret", default="", help="its signing secret")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

    add_missing_fields()
    # Beside this script (sys.path[0] when run as one); imported here so that loading this
    # file as a module (tests/infra/test_commands.py) needs nothing else on the path.
    from connect_routes import install as install_connect

    install_connect(server.app)  # Stripe Connect: connect.py, connect_routes.py
    if args.persist:
        store.try_load_from_disk()
    else:
        # The store pickles itself to a fixed /tmp path after every write; an
        # instance attribute shadows that method and keeps the state in memory.
        store.dump_to_disk = lambda: None  # type: ignore[method-assign]

    if args.webhook:
        # The emulator keeps webhooks in memory: register ours on every start.
        register_webhook("clipcart", args.webhook, args.webhook_secret, None)
        logger.info("Webhook registered: %s", args.webhook)
    if args.connect_webhook:
        register_webhook(
            "clipcart-connect", args.connect_webhook, args.connect_webhook_secret, CONNECT_EVENTS
        )
        logger.info("Connect webhook registered: %s", args.connect_webhook)
    logger.info("localstripe listening on http://%s:%d", args.host, args.port)
    # run_app installs SIGINT/SIGTERM handlers that shut the site down and return.
    web.run_app(
        server.app,
        host=args.host,
        port=args.port,
        access_log=logging.getLogger("aiohttp.access"),
        print=None,
        shutdown_timeout=5.0,
    )
    logger.info("localstripe stopped")


if __name__ == "__main__":
    main()
