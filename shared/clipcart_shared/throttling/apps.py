from django.apps import AppConfig


class ThrottlingConfig(AppConfig):
    name = "clipcart_shared.throttling"
    label = "throttling"
    verbose_name = "Throttles and the shared cache"
    default_auto_field = "django.db.models.BigAutoField"
