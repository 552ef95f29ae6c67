from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "attribution"
    verbose_name = "Attribution and commission"
    default_auto_field = "django.db.models.BigAutoField"
