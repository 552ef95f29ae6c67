from django.apps import AppConfig


class ProductcardsConfig(AppConfig):
    name = "productcards"
    verbose_name = "Product cards (from catalog)"
    default_auto_field = "django.db.models.BigAutoField"
