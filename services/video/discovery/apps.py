from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery: hashtags, search, trending and for you"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from discovery.receivers import receivers_connect

        receivers_connect()  # the search index follows the apps below (discovery.receivers)
