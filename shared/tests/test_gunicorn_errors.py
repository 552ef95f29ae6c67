"""What gunicorn answers by itself (before any Django code runs) is a problem+json too, under
the configuration every service's gunicorn loads (`clipcart_shared.gunicorn`)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from clipcart_tools.testing.services import free_port

SHARED = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "tests.wsgi_hello:app"),
            *("--config", "python:clipcart_shared.gunicorn"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        ],
        cwd=SHARED,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _assert_problem(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)


def test_a_url_over_the_request_line_limit_is_a_problem_not_an_html_page(server):
    assert requests.get(f"{server}/?q=" + "x" * 4000, timeout=5).status_code == 200

    _assert_problem(requests.get(f"{server}/?q=" + "x" * 5000, timeout=5), 414, "uri_too_long")


def test_too_large_headers_are_a_problem_too(server):
    headers = {f"X-Many-{index}": "x" for index in range(120)}

    _assert_problem(
        requests.get(server, headers=headers, timeout=5), 431, "request_headers_too_large"
    )


def test_nothing_of_the_request_is_echoed_back(server):
    response = requests.get(f"{server}/?secret=" + "s" * 5000, timeout=5)

    assert "sss" not in response.text
