"""The operations a throttle counts (issue 12) say so in their schema: a 429 problem with
`Retry-After`, besides the 4XX every operation has. Operations no throttle counts do not
claim one."""

from __future__ import annotations

import pytest

from tests.contract import openapi

THROTTLED = {
    "checkout": {
        ("POST", "/api/v1/checkouts/"),
        ("POST", "/api/v1/orders/{order_id}/returns/"),
        ("POST", "/api/v1/cart/lines/"),
        ("PATCH", "/api/v1/cart/lines/{line_id}/"),
        ("DELETE", "/api/v1/cart/lines/{line_id}/"),
        # Codes are throttled like every cart write: nobody guesses them by the thousand.
        ("POST", "/api/v1/cart/discount/"),
        ("DELETE", "/api/v1/cart/discount/{code}/"),
    },
    "video": {
        ("POST", "/api/v1/events/"),
        ("GET", "/api/v1/search/"),
        ("POST", "/api/v1/creators/"),
        ("POST", "/api/v1/creators/me/payout-account/"),
        # A creator asking a merchant for a creator code (issue 17): a write like the others.
        ("POST", "/api/v1/creators/me/codes/"),
        ("POST", "/api/v1/creators/{creator_id}/follow/"),
        ("DELETE", "/api/v1/creators/{creator_id}/follow/"),
        ("POST", "/api/v1/videos/{video_id}/not-interested/"),
        ("POST", "/api/v1/videos/"),
        ("PATCH", "/api/v1/videos/{video_id}/"),
        ("DELETE", "/api/v1/videos/{video_id}/"),
        ("POST", "/api/v1/videos/{video_id}/publish/"),
        ("POST", "/api/v1/videos/{video_id}/tags/"),
        ("PATCH", "/api/v1/videos/{video_id}/tags/{tag_id}/"),
        ("DELETE", "/api/v1/videos/{video_id}/tags/{tag_id}/"),
    },
    "catalog": set(),
}


@pytest.mark.parametrize("service", sorted(THROTTLED))
def test_exactly_the_throttled_operations_declare_429_with_retry_after(service):
    schema = openapi.service_schema(service)
    declared = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "429" in operation.get("responses", {})
    }

    assert declared == THROTTLED[service]
    for method, path in declared:
        answer = schema["paths"][path][method.lower()]["responses"]["429"]
        assert "Retry-After" in answer["headers"]
        assert answer["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
