"""What every service's URLconf serves besides its APIs: the schema and its docs page."""

import re
from urllib.parse import urljoin

import pytest

pytestmark = pytest.mark.urls("tests.service_urls")


def _schema_url_in_docs_page(client) -> str:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    found = re.search(r'url: "([^"]*)"', response.content.decode())
    assert found, "the docs page names no schema URL"
    return found.group(1)


def test_the_docs_page_finds_its_schema_directly_and_behind_the_gateway(client):
    schema_url = _schema_url_in_docs_page(client)

    # The browser resolves it against the page's own address.
    assert urljoin("http://127.0.0.1:8001/api/docs/", schema_url) == (
        "http://127.0.0.1:8001/api/schema/"
    )
    assert urljoin("http://localhost:8000/demo/api/docs/", schema_url) == (
        "http://localhost:8000/demo/api/schema/"
    )


def test_the_schema_is_served_where_the_docs_page_looks(client):
    response = client.get(urljoin("/api/docs/", _schema_url_in_docs_page(client)))

    assert response.status_code == 200
    assert response.content.decode().startswith("openapi: 3")
