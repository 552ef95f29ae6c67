"""gunicorn's configuration for every service: `gunicorn --config python:clipcart_shared.gunicorn`.

gunicorn answers some requests itself, before any Django code runs: a request line over
`--limit-request-line` (4094 bytes: an over-long URL) gets 414, too many or too large
headers 431, a malformed request 400. Its own page for them is `text/html`; here it is a
problem+json like every other error of the API (`clipcart_shared.errors`), with a stable
code and nothing of the request echoed back.
"""

from __future__ import annotations

import json
import socket
from http import HTTPStatus

from gunicorn import util

from clipcart_shared.errors import PROBLEM_CONTENT_TYPE, TYPE_BASE, ErrorCode

# gunicorn's control socket (`gunicornc`) is not used here, and its default path is one per
# user (~/.gunicorn/gunicorn.ctl), shared by every gunicorn on the machine: the three
# services of a stack, and any other stack, would take it from each other.
control_socket_disable = True

PROBLEMS: dict[int, tuple[str, str]] = {
    400: (ErrorCode.MALFORMED_REQUEST, "The request could not be read."),
    403: (ErrorCode.PERMISSION_DENIED, "The request is forbidden."),
    414: (ErrorCode.URI_TOO_LONG, "The URL is longer than the server accepts (4094 bytes)."),
    431: (ErrorCode.REQUEST_HEADERS_TOO_LARGE, "The request's headers are too many or too large."),
}


def problem_bytes(status: int) -> bytes:
    """The whole HTTP answer gunicorn sends for `status`: a problem+json, then it closes."""
    code, detail = PROBLEMS.get(status, (ErrorCode.INTERNAL_ERROR, "The request failed."))
    title = HTTPStatus(status).phrase
    body = json.dumps(
        {"type": TYPE_BASE + code, "title": title, "status": status, "code": code, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    util.write_nonblock(sock, problem_bytes(status_int))


# gunicorn's workers call util.write_error for every answer they make themselves.
util.write_error = _write_problem
