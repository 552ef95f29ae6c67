"""The service's URLconf plus `/bench/bare/`: the floor the product list (catalog) and
the feed (video) are compared to. `config` is whichever service is on the path (run.py).

The bare view is a plain DRF `APIView` with the project's default authentication,
permission, renderer and parser classes (REST_FRAMEWORK settings) and the same middleware;
it touches no database. Whatever an endpoint costs above it is the endpoint's own.
"""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as service_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

BARE_BODY = {"ok": True}


class BareApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(BARE_BODY)


urlpatterns = [path("bench/bare/", BareApi.as_view(), name="bench-bare"), *service_urlpatterns]
