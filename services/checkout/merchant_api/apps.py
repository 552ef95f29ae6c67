from django.apps import AppConfig


class MerchantApiConfig(AppConfig):
    name = "merchant_api"
    verbose_name = "Merchant API"
    default_auto_field = "django.db.models.BigAutoField"
