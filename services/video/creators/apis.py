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
from core.catalog import creator_code_request
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


# --- creator codes -------------------------------------------------------------------------

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$"


class CreatorCodeRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant_id = serializers.UUIDField()
    code = serializers.CharField(help_text="The code asked for, upper-cased; empty: none.")
    message = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["open", "granted"], help_text="`open` until the merchant grants a code."
    )
    created_at = serializers.DateTimeField()


class CreatorCodeRequestApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    class CreatorCodeInputSerializer(serializers.Serializer):
        merchant_id = serializers.UUIDField(help_text="The merchant asked (a product's merchant).")
        code = RegexField(
            CODE_PATTERN,
            required=False,
            default="",
            help_text="The code you would like, e.g. TRAILQUEEN10: 3 to 40 of A-Z, 0-9, - and _.",
        )
        message = CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="creators_me_codes_create",
        request=CreatorCodeInputSerializer,
        responses={201: CreatorCodeRequestSerializer},
        description="Ask a merchant for a creator code: the merchant grants it in catalog's "
        "admin, and buyers using it credit you as if they had tapped your latest video of "
        "the product. Asking the same merchant again updates your open request. 403 "
        "`not_a_creator`, 404 `merchant_not_found`, 503 `catalog_unavailable`.",
    )
    def post(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        data = self.CreatorCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = creator_code_request(
            merchant_id=data.validated_data["merchant_id"],
            creator_id=creator.id,
            creator_handle=creator.handle,
            code=data.validated_data["code"].upper(),
            message=data.validated_data["message"],
        )
        names = ("id", "merchant_id", "code", "message", "status", "created_at")
        body = CreatorCodeRequestSerializer({name: answer[name] for name in names}).data
        return Response(body, status=status.HTTP_201_CREATED)


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
