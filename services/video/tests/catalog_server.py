"""The real catalog service, for the video tests that need it: migrated and seeded with
the demo data in a database of its own, served by gunicorn on a free local port.

Video never imports catalog's code; it talks to it over HTTP, as in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
DATABASE = "clipcart_catalog_for_video_tests"


@dataclass
class CatalogServer:
    url: str
    active_products: list[dict[str, Any]]
    archived_product_id: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_url(database: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _recreate_database() -> None:
    with psycopg.connect(_server_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _manage(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=CATALOG_DIR,
        env=environment,
        check=True,
        capture_output=True,
    )


@contextmanager
def catalog_server() -> Iterator[CatalogServer]:
    _recreate_database()
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "CATALOG_DATABASE_URL": _server_url(DATABASE),
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
        "SERVICE_AUTH_KEYS": "test-only-service-key-current-0000000",
    }
    _manage(environment, "migrate", "--noinput")
    _manage(environment, "seed_demo")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=CATALOG_DIR,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{url}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("The catalog server did not start.")
        products = requests.get(f"{url}/api/v1/products/?limit=100", timeout=30).json()["results"]
        archived = products.pop()
        _manage(
            environment,
            "shell",
            "-c",
            "from products.services import products_set_status; "
            f"products_set_status(product_ids=['{archived['id']}'], status='archived')",
        )
        yield CatalogServer(url=url, active_products=products, archived_product_id=archived["id"])
    finally:
        process.terminate()
        process.wait(timeout=10)
