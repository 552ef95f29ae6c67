from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The order worker's own consumer of `order.paid` (queue checkout.events).
        from clipcart_shared.outbox.services import event_handler
        from orders.events import ORDER_PAID
        from orders.services import order_fulfilment_start

        event_handler(ORDER_PAID)(order_fulfilment_start)
