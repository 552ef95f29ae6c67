"""A merchant's staff in the admins, as a browser would be: signed in once at catalog's
admin, posting the admins' forms with their CSRF token and reading their CSV reports.
Used by `make demo` and the end-to-end tests beside the shopper's `Journey`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from clipcart_tools.journey import JourneyError


def _admin_service(base: str) -> str:
    """`catalog` of `http://127.0.0.1:8001/catalog/admin`."""
    return urlsplit(base).path.strip("/").split("/")[0]


@dataclass
class AdminSession:
    """A merchant's staff signed in to a service's admin, as in a browser: they sign in
    once at catalog's admin (`sign_in_base`; ADR 23), whose shared cookie opens the others
    on the same host."""

    base: str  # e.g. http://127.0.0.1:8003/checkout/admin
    username: str
    password: str
    sign_in_base: str = ""  # catalog's admin; empty: `base` is catalog's
    session: requests.Session = field(default_factory=requests.Session)

    def csrf_token(self, base: str | None = None) -> str:
        return str(self.session.cookies[f"{_admin_service(base or self.base)}_csrftoken"])

    def login(self) -> AdminSession:
        sign_in = self.sign_in_base or self.base
        page = self.session.get(f"{sign_in}/login/", timeout=30)
        page.raise_for_status()
        answer = self.session.post(
            f"{sign_in}/login/",
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": self.csrf_token(sign_in),
                "next": urlsplit(sign_in).path + "/",
            },
            headers={"Referer": f"{sign_in}/login/"},
            timeout=30,
        )
        if "clipcart_console" not in self.session.cookies:
            raise JourneyError(f"Could not sign in at {sign_in} as {self.username}.")
        answer.raise_for_status()
        self.session.get(f"{self.base}/", timeout=30).raise_for_status()
        return self

    def post_form(self, path: str, data: dict[str, Any]) -> requests.Response:
        url = f"{self.base}/{path}"
        self.session.get(url, timeout=30).raise_for_status()
        response = self.session.post(
            url,
            data={**data, "csrfmiddlewaretoken": self.csrf_token()},
            headers={"Referer": url},
            timeout=60,
        )
        response.raise_for_status()
        return response

    def csv(self, path: str, params: dict[str, str]) -> list[dict[str, str]]:
        response = self.session.get(
            f"{self.base}/{path}", params={**params, "format": "csv"}, timeout=30
        )
        response.raise_for_status()
        if not response.headers.get("Content-Type", "").startswith("text/csv"):
            raise JourneyError(f"{path} did not answer CSV (signed out?)")
        return list(csv.DictReader(io.StringIO(response.text)))
