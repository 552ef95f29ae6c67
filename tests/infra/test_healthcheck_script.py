"""infra/docker/healthcheck.py, the health check the service image's containers run."""

from __future__ import annotations

import http.server
import importlib.util
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.infra.compose import ROOT

_spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "infra/docker/healthcheck.py")
assert _spec and _spec.loader
healthcheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(healthcheck)


@contextmanager
def _server(status: int, delay: float = 0.0) -> Iterator[str]:
    """A server on 127.0.0.1 answering every GET with `status` after `delay` seconds."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/readyz"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_answering_200_is_healthy():
    with _server(200) as url:
        assert healthcheck.main(["url", url]) == 0


def test_a_url_answering_503_is_unhealthy():
    # /readyz answers 503 when the database or the broker is down.
    with _server(503) as url:
        assert healthcheck.main(["url", url]) == 1


def test_a_url_answering_too_late_is_unhealthy():
    with _server(200, delay=1.0) as url:
        assert healthcheck.main(["url", url, "--timeout", "0.2"]) == 1


def test_a_url_nobody_listens_on_is_unhealthy():
    with _server(200) as url:
        pass  # closed again: nothing listens on that port any more
    assert healthcheck.main(["url", url]) == 1


def test_a_schedule_written_recently_is_fresh(tmp_path):
    (tmp_path / "celerybeat-schedule").write_bytes(b"x")

    assert healthcheck.main(["fresh", str(tmp_path / "celerybeat-schedule"), "300"]) == 0


def test_a_schedule_with_a_suffix_from_the_dbm_module_counts(tmp_path):
    (tmp_path / "celerybeat-schedule.db").write_bytes(b"x")

    assert healthcheck.main(["fresh", str(tmp_path / "celerybeat-schedule"), "300"]) == 0


def test_a_schedule_not_written_for_too_long_is_stale(tmp_path):
    schedule = tmp_path / "celerybeat-schedule"
    schedule.write_bytes(b"x")
    ten_minutes_ago = time.time() - 600
    os.utime(schedule, (ten_minutes_ago, ten_minutes_ago))

    assert healthcheck.main(["fresh", str(schedule), "300"]) == 1


def test_no_schedule_at_all_is_stale(tmp_path):
    assert healthcheck.main(["fresh", str(tmp_path / "celerybeat-schedule"), "300"]) == 1


def test_an_unknown_check_is_refused():
    with pytest.raises(SystemExit):
        healthcheck.main(["ping"])
