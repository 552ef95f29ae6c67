from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from products.selectors import card_field_register
        from promotions.flash import flash_deal_cards

        # The product cards carry the running (or next) flash deal (promotions.flash).
        card_field_register("flash_deal", flash_deal_cards)
