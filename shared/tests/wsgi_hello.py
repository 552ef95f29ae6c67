"""A WSGI app that answers 200, for `test_gunicorn_errors.py`'s real gunicorn."""


def app(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
