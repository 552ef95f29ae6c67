"""Input shapes shared by the internal endpoints."""

from __future__ import annotations

import uuid

from rest_framework import serializers

from clipcart_shared.serializers import IntegerField, UUIDField

MAX_LINES = 100
MAX_QUANTITY = 999


class LineInputSerializer(serializers.Serializer):
    variant_id = UUIDField()
    quantity = IntegerField(min_value=1, max_value=MAX_QUANTITY)


class LinesInputSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=LineInputSerializer(), min_length=1, max_length=MAX_LINES, allow_empty=False
    )

    def line_tuples(self) -> list[tuple[uuid.UUID, int]]:
        return [(line["variant_id"], line["quantity"]) for line in self.validated_data["lines"]]
