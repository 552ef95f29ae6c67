from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint, user_token_mint

pytestmark = pytest.mark.django_db

SECRET = "test-only-jwt-secret-with-enough-length"


def _widget(token: str | None, scheme: str = "Bearer"):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client.post("/api/v1/widgets/", {"name": "a"}, format="json")


def _token(key=SECRET, algorithm="HS256", **claims):
    now = int(time.time())
    payload = {"sub": "u1", "aud": "clipcart", "exp": now + 60, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm)


def test_a_valid_user_token_authenticates():
    response = _widget(user_token_mint(user_id="u42"))
    assert response.status_code == 201
    assert response.json()["user"] == "u42"


@pytest.mark.parametrize(
    "token",
    [
        _token(exp=int(time.time()) - 3600),
        _token(aud="someone-else"),
        _token(aud=None),
        _token(sub=None),
        _token(sub=""),
        _token(sub="x" * 129),
        _token(key="another-secret-of-sufficient-length"),
        "not-a-jwt",
        "a.b.c",
    ],
    ids=[
        "expired",
        "wrong-aud",
        "no-aud",
        "no-sub",
        "empty-sub",
        "huge-sub",
        "bad-sig",
        "garbage",
        "dots",
    ],
)
def test_bad_user_tokens_are_401(token):
    response = _widget(token)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_no_token_on_a_user_endpoint_is_401_with_a_bearer_challenge():
    response = _widget(None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="clipcart"'


def test_an_unsigned_token_is_refused():
    unsigned = jwt.encode({"sub": "u1", "aud": "clipcart", "exp": 9999999999}, None, "none")
    assert _widget(unsigned).status_code == 401


def test_rs256_tokens_verify_with_the_public_key_and_hs256_is_then_refused(settings):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.JWT_PUBLIC_KEY = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert _widget(_token(key=private_key, algorithm="RS256")).status_code == 201
    # With a public key configured, a token signed with the shared secret must not pass.
    assert _widget(_token()).status_code == 401


def test_a_service_token_cannot_act_as_a_user_and_a_user_token_cannot_act_as_a_service():
    # On a user endpoint the Service scheme is not even read: the caller is anonymous.
    assert _widget(service_token_mint(service="checkout"), scheme="Service").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='u1')}")
    assert client.get("/internal/v1/ping/").status_code == 403
    # Even a user token sent under the Service scheme fails: wrong audience and key.
    client.credentials(HTTP_AUTHORIZATION=f"Service {user_token_mint(user_id='u1')}")
    assert client.get("/internal/v1/ping/").status_code == 401


def test_a_service_token_reaches_internal_endpoints():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    response = client.get("/internal/v1/ping/")
    assert response.json() == {"caller": "checkout"}


def test_a_malformed_authorization_header_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert client.post("/api/v1/widgets/", {}, format="json").status_code == 401
