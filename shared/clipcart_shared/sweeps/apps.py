from django.apps import AppConfig


class SweepsConfig(AppConfig):
    name = "clipcart_shared.sweeps"
    label = "sweeps"
    verbose_name = "Periodic sweeps"
    default_auto_field = "django.db.models.BigAutoField"
