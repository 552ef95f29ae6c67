from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """`django.contrib.admin` with the console's admin site as `admin.site`: every
    `@admin.register` of the service lands on it."""

    default_site = "clipcart_shared.console.site.ConsoleAdminSite"
