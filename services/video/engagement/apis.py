from __future__ import annotations

from typing import Any

from django.http.request import RawPostDataException
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.errors import ApplicationError
from clipcart_shared.views import PublicApiView
from core.errors import VideoErrorCode
from engagement.models import EngagementEvent
from engagement.services import MAX_EVENTS_PER_BATCH, events_ingest


class EventInputSerializer(serializers.Serializer):
    """Documentation only: events are checked one by one by the service, so that one bad
    event is rejected by its index instead of failing the batch."""

    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(EngagementEvent.Type.choices)
    video_id = serializers.UUIDField()
    tag_id = serializers.UUIDField(required=False, allow_null=True)
    product_id = serializers.UUIDField(required=False, allow_null=True)
    occurred_at = serializers.DateTimeField()
    watch_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()


class EventsResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectionSerializer(many=True)


def _loosely_typed(serializer: serializers.Serializer) -> dict[str, Any]:
    """An item schema that takes any JSON, as the service does (it judges each event alone
    and rejects a bad one by index in its 202), naming each field of `serializer` and what
    it should be in words: typed fields would tell a client that one bad event fails the
    batch, which it does not."""
    properties: dict[str, dict[str, Any]] = {}
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ChoiceField):
            kind = "one of " + ", ".join(f"`{choice}`" for choice in field.choices)
        elif isinstance(field, serializers.UUIDField):
            kind = "a UUID"
        elif isinstance(field, serializers.DateTimeField):
            kind = "an ISO 8601 time with its offset"
        elif isinstance(field, serializers.IntegerField):
            kind = "an integer ≥ 0"
        else:
            kind = "a string"
        if field.allow_null:
            kind += " or null"
        text = kind[0].upper() + kind[1:] if field.required else f"Optional: {kind}"
        properties[name] = {"description": f"{text}."}
        if isinstance(field, serializers.ChoiceField):
            # An open enum: the values it knows, listed for clients; any other is taken too.
            properties[name]["anyOf"] = [{"type": "string", "enum": list(field.choices)}, {}]
    return {
        "description": "An event. Any JSON is taken: one that is not an event as these "
        "fields say is rejected by its index.",
        "properties": properties,
    }


@extend_schema_field(_loosely_typed(EventInputSerializer()))
class _EventField(serializers.JSONField):
    pass


class EventsBatchRequestSerializer(serializers.Serializer):
    events = serializers.ListField(child=_EventField())


class EventsApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "events"

    @extend_schema(
        operation_id="events_create",
        request=EventsBatchRequestSerializer,
        responses={202: EventsResultSerializer},
        description=f"Up to {MAX_EVENTS_PER_BATCH} events; more → 413 `too_many_events`. "
        "Each event is judged alone; rejected ones are listed by index with a code "
        "(`unknown_video`, `too_old`, `in_the_future`, `view_too_short`, …). A replayed "
        "`event_id` counts as a duplicate.",
    )
    def post(self, request: Request) -> Response:
        try:  # read before DRF parses it, so it can be sent to PostgreSQL as it came
            body: bytes | None = request._request.body
        except RawPostDataException:
            body = None
        # Only the shape is checked here (an object with a list): each event is judged in
        # the batch's statement, not field by field in Python.
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(events, list):
            raise serializers.ValidationError({"events": ["Expected a list of events."]})
        if len(events) > MAX_EVENTS_PER_BATCH:
            raise ApplicationError(
                VideoErrorCode.TOO_MANY_EVENTS,
                f"At most {MAX_EVENTS_PER_BATCH} events per batch; split it.",
                status=413,
            )
        result = events_ingest(user_id=mobile_user_id(request), events=events, body=body)
        return Response(result, status=status.HTTP_202_ACCEPTED)
