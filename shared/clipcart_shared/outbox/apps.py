from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "clipcart_shared.outbox"
    label = "outbox"
    verbose_name = "Event outbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the check of the service's table of event handlers (ADR 19).
        from clipcart_shared.outbox import checks  # noqa: F401
