from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.pagination import CursorPagination
from clipcart_shared.serializers import CharField, RegexField
from clipcart_shared.views import PublicApiView
from core.validators import web_url
from creators.models import HANDLE_PATTERN
from creators.selectors import creator_card, creator_for_user, creator_render, follows_of_user
from creators.services import creator_create, follow_create, follow_delete


class CreatorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    commission_rate_bps = serializers.IntegerField()
    followers = serializers.IntegerField(min_value=0)
    created_at = serializers.DateTimeField()


class CreatorCreateApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    class CreatorInputSerializer(serializers.Serializer):
        handle = RegexField(
            HANDLE_PATTERN.replace("a-z", "a-zA-Z"), help_text="2 to 30 of a-z, 0-9, _ and ."
        )
        display_name = CharField(max_length=80)
        avatar_url = CharField(
            max_length=500, required=False, allow_blank=True, validators=[web_url]
        )

    @extend_schema(
        operation_id="creators_create",
        request=CreatorInputSerializer,
        responses={201: CreatorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.CreatorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        creator = creator_create(user_id=mobile_user_id(request), **data.validated_data)
        return Response(
            CreatorSerializer(creator_render(creator)).data, status=status.HTTP_201_CREATED
        )


class CreatorMeApi(PublicApiView):
    permission_classes = [IsMobileUser]

    @extend_schema(operation_id="creators_me", responses=CreatorSerializer)
    def get(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        return Response(CreatorSerializer(creator_render(creator)).data)


# --- following -----------------------------------------------------------------------------


class CreatorCardSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    followers = serializers.IntegerField(min_value=0)


class FollowingSerializer(serializers.Serializer):
    creator = CreatorCardSerializer()
    followed_at = serializers.DateTimeField()


class CreatorFollowApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    @extend_schema(
        operation_id="creators_follow",
        request=None,
        responses={200: CreatorCardSerializer},
        description="Follow a creator (again: no change). Their videos make the `following` "
        "feed and weigh strongly in `for_you`. 404 `creator_not_found`, 422 "
        "`cannot_follow_yourself`.",
    )
    def post(self, request: Request, creator_id: uuid.UUID) -> Response:
        creator = follow_create(user_id=mobile_user_id(request), creator_id=creator_id)
        return Response(CreatorCardSerializer(creator_card(creator)).data)

    @extend_schema(
        operation_id="creators_unfollow",
        responses={204: None},
        description="Stop following (not following: no change). 404 `creator_not_found`.",
    )
    def delete(self, request: Request, creator_id: uuid.UUID) -> Response:
        follow_delete(user_id=mobile_user_id(request), creator_id=creator_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _FollowingPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class CreatorFollowingApi(PublicApiView):
    permission_classes = [IsMobileUser]
    pagination_class = _FollowingPagination

    @extend_schema(
        operation_id="creators_me_following",
        responses=FollowingSerializer(many=True),
        description="The creators you follow, the latest followed first.",
    )
    def get(self, request: Request) -> Response:
        paginator = _FollowingPagination()
        page = paginator.paginate_queryset(
            follows_of_user(user_id=mobile_user_id(request)), request, self
        )
        return paginator.get_paginated_response(
            FollowingSerializer(
                [
                    {"creator": creator_card(follow.creator), "followed_at": follow.created_at}
                    for follow in page or []
                ],
                many=True,
            ).data
        )
