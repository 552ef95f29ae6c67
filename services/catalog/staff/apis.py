"""`/internal/v1/staff-sessions/`: video's and checkout's admins forward a sign-in made on
their login page, ask who a sign-in is, and end one when its user signs out there
(service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import CharField
from clipcart_shared.views import InternalApiView
from staff.selectors import staff_answer, staff_session_live
from staff.services import staff_session_end, staff_session_sign_in

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


class SignInInputSerializer(serializers.Serializer):
    username = CharField(max_length=150)
    password = CharField(max_length=4096, trim_whitespace=False)
    # The browser's address, as the admin that showed the form saw it: the lockout's.
    client_ip = serializers.IPAddressField(allow_null=True)
    user_agent = CharField(max_length=512, required=False, allow_blank=True, default="")
    login_path = CharField(max_length=512, required=False, allow_blank=True, default="")


class SignInAnswerSerializer(StaffAnswerSerializer):
    token = serializers.CharField()


class StaffSessionCreateApi(InternalApiView):
    @extend_schema(
        operation_id="staff_sessions_create",
        request=SignInInputSerializer,
        responses={201: SignInAnswerSerializer},
    )
    def post(self, request: Request) -> Response:
        """Sign in with a username and password typed into video's or checkout's admin:
        the password is checked here, with the same lockout as catalog's own login
        (403 `staff_login_locked_out`, with `cooloff_seconds`: how long a lockout lasts, null
        when only lifted by hand; a wrong one is 422 `staff_login_invalid`). Answers
        the new sign-in's token (for the shared cookie) and who it is, as the check does.
        """
        data = SignInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session, token = staff_session_sign_in(**data.validated_data)
        answer = {**staff_answer(session=session), "token": token}
        return Response(SignInAnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


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
