from django.apps import AppConfig


class MerchantAccessConfig(AppConfig):
    name = "clipcart_shared.merchant_access"
    label = "merchant_access"
    verbose_name = "Merchant access"
    default_auto_field = "django.db.models.BigAutoField"
