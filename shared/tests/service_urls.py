"""A service's URLconf as `service_urlpatterns` builds it, for a service named `demo`."""

from clipcart_shared.urls import service_urlpatterns

urlpatterns = service_urlpatterns(service="demo", api_v1=[])
