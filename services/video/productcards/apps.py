from django.apps import AppConfig


class ProductcardsConfig(AppConfig):
    name = "productcards"
    verbose_name = "Product cards (from catalog)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register this service's handler for catalog's events (the outbox consumer).
        from clipcart_shared.outbox.services import event_handler
        from productcards.services import product_changed_apply

        event_handler("product.changed")(product_changed_apply)
