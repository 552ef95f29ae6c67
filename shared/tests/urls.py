"""Views that exercise the shared pieces the way a service uses them."""

from django.contrib import admin
from django.db import transaction
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser
from clipcart_shared.errors import ApplicationError
from clipcart_shared.health import health_urlpatterns
from clipcart_shared.outbox.services import event_publish
from clipcart_shared.views import InternalApiView, PublicApiView


class WidgetApi(PublicApiView):
    """Creates one outbox event per call: replays must not create another."""

    permission_classes = [IsMobileUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=20)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["name"] == "conflict":
            raise ApplicationError("widget_conflict", "Taken.", status=409)
        if data.validated_data["name"] == "crash":
            raise RuntimeError("secret internal detail")
        with transaction.atomic():
            event = event_publish(type="widget.created", subject="w", data=data.validated_data)
        return Response({"event_id": str(event.id), "user": request.user.id}, status=201)


class RequiredKeyApi(PublicApiView):
    idempotency_key_required = True

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class ThrottledWriteApi(PublicApiView):
    """Counted as a checkout: its POSTs, not its GETs."""

    throttle_scope = "checkout"

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class ThrottledReadApi(PublicApiView):
    """Counted as search: its GETs."""

    throttle_scope = "search"
    throttle_methods = ("GET",)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class InternalPingApi(InternalApiView):
    def get(self, request: Request) -> Response:
        return Response({"caller": request.user.name})


urlpatterns = [
    path("api/v1/widgets/", WidgetApi.as_view()),
    path("api/v1/keyed/", RequiredKeyApi.as_view()),
    path("api/v1/throttled/", ThrottledWriteApi.as_view()),
    path("api/v1/throttled-search/", ThrottledReadApi.as_view()),
    path("internal/v1/ping/", InternalPingApi.as_view()),
    path("admin/", admin.site.urls),
    *health_urlpatterns(),
]
handler404 = "clipcart_shared.errors.not_found"
handler500 = "clipcart_shared.errors.server_error"
