"""A creator asks a merchant for a creator code from the app: video sends the request to
the real catalog (which keeps it for the merchant's staff), with the creator's own id
and handle, never ones the caller names."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db
CODES = "/api/v1/creators/me/codes/"


def _requests(catalog, merchant_id: str) -> list[dict]:
    out = catalog.service.manage(
        "testhook", "creator_code_requests", json.dumps({"merchant_id": merchant_id})
    )
    return json.loads(out.strip().splitlines()[-1])


def test_a_creator_asks_a_merchant_for_a_code_and_asking_again_updates_it(client_for, catalog):
    creator = CreatorFactory(handle=f"tq_{uuid.uuid4().hex[:6]}")
    merchant_id = catalog.active_products[0]["merchant"]["id"]
    client = client_for(creator.user_id)

    first = client.post(
        CODES,
        {"merchant_id": merchant_id, "code": "trailqueen10", "message": "I love your lanterns"},
        format="json",
    )
    again = client.post(
        CODES,
        # Someone else's id in the body is no field of this endpoint: it is ignored.
        {"merchant_id": merchant_id, "code": "TQ15", "creator_id": str(uuid.uuid4())},
        format="json",
    )

    assert first.status_code == 201, first.json()
    assert (first.json()["code"], first.json()["status"]) == ("TRAILQUEEN10", "open")
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    mine = [r for r in _requests(catalog, merchant_id) if r["creator_id"] == str(creator.id)]
    assert mine == [
        {
            "creator_id": str(creator.id),
            "creator_handle": creator.handle,
            "code": "TQ15",
            "message": "",
            "status": "open",
        }
    ]


def test_only_a_creator_may_ask_and_bad_input_writes_nothing(client_for, catalog):
    merchant_id = catalog.active_products[0]["merchant"]["id"]
    before = len(_requests(catalog, merchant_id))
    creator = CreatorFactory()

    not_a_creator = client_for("just-a-buyer").post(
        CODES, {"merchant_id": merchant_id}, format="json"
    )
    bad_code = client_for(creator.user_id).post(
        CODES, {"merchant_id": merchant_id, "code": "no spaces"}, format="json"
    )
    unknown = client_for(creator.user_id).post(
        CODES, {"merchant_id": str(uuid.uuid4())}, format="json"
    )

    assert (not_a_creator.status_code, not_a_creator.json()["code"]) == (403, "not_a_creator")
    assert bad_code.status_code == 400
    assert "code" in {error["field"] for error in bad_code.json()["errors"]}
    assert (unknown.status_code, unknown.json()["code"]) == (404, "merchant_not_found")
    assert len(_requests(catalog, merchant_id)) == before


def test_catalog_down_is_503_catalog_unavailable(client_for, catalog_down):
    creator = CreatorFactory()

    response = client_for(creator.user_id).post(
        CODES, {"merchant_id": str(uuid.uuid4())}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (503, "catalog_unavailable")
