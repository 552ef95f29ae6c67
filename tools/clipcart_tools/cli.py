"""`clipcart`: the embedded stack and local helpers behind the Makefile.

clipcart run            every service, worker and scheduler, on the embedded default
clipcart demo [--once]  the same stack, and a shopper's journey played against it
clipcart exec -- CMD    run CMD with the same environment (used by `make test`)
clipcart token USER     mint a local mobile-user token
clipcart openapi        write the one API document (infra/gateway/openapi.json; --check)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger("clipcart")

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("CLIPCART_DATA_DIR", ROOT / ".data"))
PROCFILE = ROOT / "infra" / "Procfile"

# Local-only secrets: the production settings refuse to start without real ones.
LOCAL_DEFAULTS = {
    "DJANGO_SECRET_KEY": "local-only-not-secret",
    "JWT_HS256_SECRET": "local-only-jwt-secret-change-me-000000",
    "SERVICE_AUTH_KEYS": "local-only-service-key-change-me-00000",
    "CONSOLE_SIGNING_KEY": "local-only-console-key-change-me-0000",
    "LOG_JSON": "false",
}
STRIPE_EMULATOR_PORT = "8420"


def services() -> list[str]:
    """Every service in the tree, in start order (catalog first: others call it)."""
    found = sorted(path.parent.name for path in (ROOT / "services").glob("*/manage.py"))
    order = {"catalog": 0, "video": 1, "checkout": 2}
    return sorted(found, key=lambda name: order.get(name, 99))


def _database_names() -> list[str]:
    return [f"clipcart_{service}" for service in services()] + ["clipcart_broker"]


def _ensure_databases(server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        existing = {
            row[0] for row in connection.execute("SELECT datname FROM pg_database").fetchall()
        }
        for name in _database_names():
            if name not in existing:
                connection.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def embedded_environment() -> Iterator[dict[str, str]]:
    """The environment every process gets; starts PostgreSQL when DATABASE_URL is unset.

    The embedded server lives in `.data/postgres` and is stopped when this context
    exits (pgserver's `stop` clean-up), so Ctrl-C never leaves a server behind.
    """
    environment = dict(os.environ)
    for name, value in LOCAL_DEFAULTS.items():
        environment.setdefault(name, value)
    # Payments go to the localstripe emulator (infra/Procfile starts it, on
    # STRIPE_EMULATOR_PORT) unless real keys and STRIPE_API_BASE="" are given.
    environment.setdefault("STRIPE_EMULATOR_PORT", STRIPE_EMULATOR_PORT)
    environment.setdefault(
        "STRIPE_API_BASE", f"http://127.0.0.1:{environment['STRIPE_EMULATOR_PORT']}"
    )
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment.setdefault("CLIPCART_DATA_DIR", str(DATA_DIR))
    server = None
    if not environment.get("DATABASE_URL"):
        # pgserver keeps its lock file in the user's runtime folder; give it one of ours.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA_DIR / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import pgserver

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        print(f"Starting the embedded PostgreSQL in {DATA_DIR / 'postgres'} …", flush=True)
        server = pgserver.get_server(DATA_DIR / "postgres", cleanup_mode="stop")
        environment["DATABASE_URL"] = server.get_uri("postgres")
    _ensure_databases(_maintenance_url(environment["DATABASE_URL"]))
    try:
        yield environment
    finally:
        if server is not None:
            print("Stopping the embedded PostgreSQL …", flush=True)
            server.cleanup()


def _maintenance_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


def _manage(service: str, *arguments: str, environment: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT / "services" / service,
        env=environment,
        check=True,
    )


def _banner(environment: dict[str, str], title: str = "clipcart is starting:") -> str:
    from clipcart_shared.settings import DEFAULT_PORTS

    lines = ["", title]
    for service in services():
        port = environment.get(f"{service.upper()}_PORT", str(DEFAULT_PORTS.get(service, 0)))
        base = f"http://127.0.0.1:{port}"
        lines.append(f"  {service:<9} API docs {base}/api/docs/   admin {base}/{service}/admin/")
    if "catalog" in services():
        catalog_port = environment.get("CATALOG_PORT", str(DEFAULT_PORTS["catalog"]))
        lines.append(f"  products: http://127.0.0.1:{catalog_port}/api/v1/products/")
    lines += [
        "  one API document:    infra/gateway/openapi.json (the gateway's /api/docs/;",
        "                       `make openapi` rebuilds it)",
        "  demo logins (sign in once, at the catalog admin, for all three):",
        "                       platform / platform-demo (superuser),",
        "                       alpine / alpine-demo, harbor / harbor-demo (merchant staff)",
        "  a mobile token:      make token USER=demo-user",
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def _migrate_and_seed(environment: dict[str, str]) -> None:
    from clipcart_shared.settings import DEFAULT_PORTS

    for service in services():
        environment.setdefault(f"{service.upper()}_PORT", str(DEFAULT_PORTS[service]))
        print(f"Migrating {service} …", flush=True)
        _manage(service, "migrate", "--noinput", "-v", "0", environment=environment)
        _manage(service, "seed_demo", environment=environment)


def _stop_on_signals() -> None:
    """SIGTERM (CI, `timeout`, systemd, a background run) stops the stack as Ctrl-C does:
    the `finally` clean-ups run, the embedded PostgreSQL included. A second signal while
    stopping is ignored, so the clean-up is not cut short."""

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _log_dir(environment: dict[str, str]) -> Path:
    return Path(environment["CLIPCART_DATA_DIR"]) / "logs"


def command_run(arguments: argparse.Namespace) -> int:
    from clipcart_tools.stack import Stack

    stack: Stack | None = None
    stopped = threading.Event()
    try:
        with embedded_environment() as environment:
            try:
                _migrate_and_seed(environment)
                print(_banner(environment), flush=True)
                stack = Stack(environment, _log_dir(environment))
                stack.start()
                threading.Thread(
                    target=stack.follow,
                    args=(lambda line: print(line, flush=True), stopped),
                    daemon=True,
                ).start()
                while stack.supervisord is not None and stack.supervisord.poll() is None:
                    time.sleep(1)
                print("The supervisor stopped by itself.", file=sys.stderr, flush=True)
                return 1
            finally:
                print("Stopping …", flush=True)
                if stack is not None:
                    stack.stop_all()
                stopped.set()
    except KeyboardInterrupt:
        return 0


def command_demo(arguments: argparse.Namespace) -> int:
    try:
        return _demo(arguments)
    except KeyboardInterrupt:  # stopped while starting: the clean-ups have run
        return 0


def _demo(arguments: argparse.Namespace) -> int:
    import requests

    from clipcart_tools.demo_after_payment import DEMO_ENVIRONMENT
    from clipcart_tools.demo_journey import demo_play, demo_tables
    from clipcart_tools.journey import Endpoints, Journey, JourneyError
    from clipcart_tools.stack import Stack

    with embedded_environment() as environment:
        # Every return window this short, so the demo sees a delivered line settle; and
        # the sweeps and payout batches that pay it out as short.
        for name, value in DEMO_ENVIRONMENT.items():
            environment.setdefault(name, value)
        # Workers booting on a busy machine are not taken for hung ones.
        environment.setdefault("WORKER_LIVENESS_GRACE_SECONDS", "120")
        _migrate_and_seed(environment)
        base = {
            service: f"http://127.0.0.1:{environment[f'{service.upper()}_PORT']}"
            for service in services()
        }
        stripe = f"http://127.0.0.1:{environment.get('STRIPE_EMULATOR_PORT', '8420')}"
        stack = Stack(environment, _log_dir(environment))
        print(f"\nStarting {len(stack.commands)} processes (logs in {stack.log_dir}) …", flush=True)
        status = 0
        try:
            stack.start()
            try:
                stack.wait_ready(
                    [f"{url}/readyz" for url in base.values()] + [stripe],
                    # A first start on a busy machine (CI, a shared box) can be slow.
                    timeout=300,
                    progress=lambda url: print(f"  ready: {url}", flush=True),
                )
                journey = Journey(
                    Endpoints(base["catalog"], base["video"], base["checkout"], stripe),
                    jwt_secret=environment["JWT_HS256_SECRET"],
                    stripe_key=environment.get("STRIPE_SECRET_KEY", "sk_test_clipcart_local"),
                    say=lambda text: print(text, flush=True),
                    tracking_secret=environment.get(
                        "TRACKING_WEBHOOK_SECRET", "tracking_clipcart_local"
                    ),
                )
                admins = {service: f"{url}/{service}/admin" for service, url in base.items()}
                print(demo_tables(demo_play(journey, admin_bases=admins)), flush=True)
                print("\nThe journey is done; everything worked.", flush=True)
            except (JourneyError, RuntimeError, requests.RequestException) as error:
                print(f"\nDEMO FAILED: {error}", file=sys.stderr, flush=True)
                status = 1
            print(_banner(environment, "clipcart is running:"), flush=True)
            while not arguments.once and stack.supervisord and stack.supervisord.poll() is None:
                time.sleep(1)
            if dead := stack.exited():
                print(f"Given up on (they kept exiting): {dead}", file=sys.stderr)
                status = status or 1
        except KeyboardInterrupt:
            pass
        finally:
            print("Stopping …", flush=True)
            stack.stop_all()
        return status


def command_exec(arguments: argparse.Namespace) -> int:
    command = [part for part in arguments.command if part != "--"]
    if not command:
        print("clipcart exec: nothing to run", file=sys.stderr)
        return 2
    with embedded_environment() as environment:
        return subprocess.call(command, env=environment)


def command_token(arguments: argparse.Namespace) -> int:
    from clipcart_shared.tokens import user_token_mint

    secret = os.environ.get("JWT_HS256_SECRET", LOCAL_DEFAULTS["JWT_HS256_SECRET"])
    print(user_token_mint(user_id=arguments.user, secret=secret, ttl_seconds=arguments.ttl))
    return 0


def command_openapi(arguments: argparse.Namespace) -> int:
    from clipcart_tools import openapi

    ok, message = openapi.update(check=arguments.check)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clipcart", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="name", required=True)
    commands.add_parser("run", help="run the whole stack on the embedded default")
    demo = commands.add_parser("demo", help="run the stack and play a shopper's journey on it")
    demo.add_argument("--once", action="store_true", help="stop when the journey is done")
    runner = commands.add_parser("exec", help="run a command in the stack's environment")
    runner.add_argument("command", nargs=argparse.REMAINDER)
    token = commands.add_parser("token", help="mint a local mobile-user token")
    token.add_argument("user")
    token.add_argument("--ttl", type=int, default=24 * 3600, help="seconds (default one day)")
    document = commands.add_parser(
        "openapi", help="merge the services' public schemas into infra/gateway/openapi.json"
    )
    document.add_argument(
        "--check", action="store_true", help="write nothing; fail when the file is stale"
    )
    arguments = parser.parse_args(argv)
    if arguments.name in {"run", "demo", "exec"}:
        _stop_on_signals()
    handlers = {
        "run": command_run,
        "demo": command_demo,
        "exec": command_exec,
        "token": command_token,
        "openapi": command_openapi,
    }
    return handlers[arguments.name](arguments)


if __name__ == "__main__":
    sys.exit(main())
