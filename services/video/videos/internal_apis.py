"""What other services ask the video service (`/internal/v1/`, service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import QuerySerializer, UUIDField
from clipcart_shared.views import InternalApiView
from videos.selectors import SourceProblem, source_problem


class SourceCheckApi(InternalApiView):
    """May this video (and tag) be the source of a cart line for this product? Checkout
    asks when a line is added from a video (its 422 `invalid_source`)."""

    class SourceQuerySerializer(QuerySerializer):
        video_id = UUIDField()
        product_id = UUIDField()
        tag_id = UUIDField(required=False)

    class SourceCheckSerializer(serializers.Serializer):
        video_id = serializers.UUIDField()
        product_id = serializers.UUIDField()
        tag_id = serializers.UUIDField(allow_null=True)
        # A declared field, popped from the class by DRF: no clash with `is_valid()`.
        is_valid = serializers.BooleanField()  # type: ignore[assignment]
        problem = serializers.ChoiceField(
            [problem.value for problem in SourceProblem],
            allow_null=True,
            help_text="Why not: the video is unknown or not published, does not tag the "
            "product, or the tag is not its tag of that product.",
        )

    @extend_schema(
        operation_id="sources_check",
        parameters=[SourceQuerySerializer],
        responses={200: SourceCheckSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.SourceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        source = query.validated_data
        problem = source_problem(
            video_id=source["video_id"],
            product_id=source["product_id"],
            tag_id=source.get("tag_id"),
        )
        return Response(
            {
                "video_id": str(source["video_id"]),
                "product_id": str(source["product_id"]),
                "tag_id": str(source["tag_id"]) if source.get("tag_id") else None,
                "is_valid": problem is None,
                "problem": problem.value if problem else None,
            }
        )
