from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff sign-ins"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from staff import signals  # noqa: F401 (connects the login and logout receivers)
