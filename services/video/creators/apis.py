from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.serializers import CharField, RegexField
from clipcart_shared.views import PublicApiView
from creators.models import HANDLE_PATTERN
from creators.selectors import creator_for_user, creator_render
from creators.services import creator_create
from videos.models import web_url


class CreatorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    commission_rate_bps = serializers.IntegerField()
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
