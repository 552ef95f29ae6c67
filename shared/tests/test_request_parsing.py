"""What a request may say, read as the schema declares it: `limit` strictly, an empty or
repeated query parameter as a value, JSON strings and numbers as their own type."""

from __future__ import annotations

import uuid

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from clipcart_shared.pagination import CursorPagination, limit_schema
from clipcart_shared.serializers import (
    CharField,
    EmailField,
    FloatField,
    IntegerField,
    QuerySerializer,
    RegexField,
    UUIDField,
)


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/things/?{query}"))


@pytest.mark.parametrize("query", ["", "cursor=x"])
def test_no_limit_is_the_default_page_size(query):
    assert CursorPagination().get_page_size(_request(query)) == 20


@pytest.mark.parametrize("limit", ["1", "37", "100"])
def test_a_limit_from_1_to_100_is_the_page_size(limit):
    assert CursorPagination().get_page_size(_request(f"limit={limit}")) == int(limit)


@pytest.mark.parametrize(
    "query",
    [
        "limit=",
        "limit=abc",
        "limit=null",
        "limit=2.5",
        "limit=+5",
        "limit=%205",
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=5&limit=5",
    ],
)
def test_a_bad_limit_is_a_validation_error_naming_limit(query):
    with pytest.raises(ValidationError) as raised:
        CursorPagination().get_page_size(_request(query))
    assert list(raised.value.detail) == ["limit"]


def test_the_schema_declares_the_limits_the_pagination_takes():
    assert limit_schema() == {"type": "integer", "minimum": 1, "maximum": 100}
    parameters = {p["name"]: p for p in CursorPagination().get_schema_operation_parameters(None)}
    assert parameters["limit"]["schema"] == limit_schema()


class _Filters(QuerySerializer):
    merchant = UUIDField(required=False)
    mode = serializers.ChoiceField(["a", "b"], default="a")
    since = serializers.DateField(required=False)
    q = serializers.CharField(required=False, allow_blank=True)


def _filters(query: str) -> _Filters:
    return _Filters(data=_request(query).query_params)


@pytest.mark.parametrize("name", ["merchant", "mode", "since"])
def test_an_empty_query_parameter_is_a_value_and_a_400_naming_it(name):
    filters = _filters(f"{name}=")
    assert not filters.is_valid()
    assert list(filters.errors) == [name]


def test_an_empty_parameter_that_allows_blank_and_an_absent_one_are_fine():
    filters = _filters("q=")
    assert filters.is_valid(), filters.errors
    assert filters.validated_data == {"mode": "a", "q": ""}


def test_a_query_parameter_given_twice_is_refused():
    merchant = uuid.uuid4()
    filters = _filters(f"merchant={merchant}&merchant={merchant}")
    assert not filters.is_valid()
    assert filters.errors == {"merchant": ["Give this parameter once."]}


class _Body(serializers.Serializer):
    name = CharField(required=False)
    email = EmailField(required=False)
    country = RegexField(r"^[A-Z]{2}$", required=False)
    quantity = IntegerField(required=False)
    x = FloatField(required=False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 0),
        ("name", 1.5),
        ("name", True),
        ("email", 5),
        ("country", 12),
        ("quantity", "2"),
        ("quantity", True),
        ("quantity", 1.5),
        ("x", "0.5"),
        ("x", False),
    ],
)
def test_a_json_value_of_another_type_is_refused_not_coerced(field, value):
    body = _Body(data={field: value})
    assert not body.is_valid()
    assert list(body.errors) == [field]


def test_values_of_their_own_type_are_taken():
    body = _Body(data={"name": "Ann", "email": "a@b.co", "country": "DE", "quantity": 2, "x": 1})
    assert body.is_valid(), body.errors
    assert body.validated_data == {
        "name": "Ann",
        "email": "a@b.co",
        "country": "DE",
        "quantity": 2,
        "x": 1.0,
    }
