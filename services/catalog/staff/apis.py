"""`/internal/v1/staff-sessions/`: video's and checkout's admins ask who a sign-in is,
and end one when its user signs out there (service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import CharField
from clipcart_shared.views import InternalApiView
from staff.selectors import staff_answer, staff_session_live
from staff.services import staff_session_end

# `secrets.token_urlsafe(32)` is 43 characters; anything far longer is not a token.
MAX_TOKEN_LENGTH = 128


class TokenInputSerializer(serializers.Serializer):
    token = CharField(max_length=MAX_TOKEN_LENGTH)


class StaffMerchantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class StaffAnswerSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    is_superuser = serializers.BooleanField()
    merchants = StaffMerchantSerializer(many=True)
    expires_at = serializers.DateTimeField()


class StaffSessionCheckApi(InternalApiView):
    @extend_schema(
        operation_id="staff_sessions_check",
        request=TokenInputSerializer,
        responses=StaffAnswerSerializer,
    )
    def post(self, request: Request) -> Response:
        """Who the sign-in of `token` is and which merchants they work for now; 404 when
        it has ended, expired, or its user is no longer active staff."""
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = staff_session_live(token=data.validated_data["token"])
        if session is None:
            raise NotFound("No live sign-in has this token.")
        return Response(StaffAnswerSerializer(staff_answer(session=session)).data)


class StaffSessionRevokeApi(InternalApiView):
    @extend_schema(
        operation_id="staff_sessions_revoke",
        request=TokenInputSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        """End the sign-in of `token` everywhere (idempotent: an ended one stays ended)."""
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        staff_session_end(token=data.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)
