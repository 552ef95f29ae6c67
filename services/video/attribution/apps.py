from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "attribution"
    verbose_name = "Attribution and commission"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Checkout's order events, consumed on the `video.attribution` queue.
        from attribution.services import order_paid_apply, order_refunded_apply
        from clipcart_shared.outbox.services import event_handler

        event_handler("order.paid")(order_paid_apply)
        event_handler("order.refunded")(order_refunded_apply)
