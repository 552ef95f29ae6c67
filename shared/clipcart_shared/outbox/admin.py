from django.contrib import admin

from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["time", "type", "subject", "published_at"]
    list_filter = ["type", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "type"]
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]

    def has_module_permission(self, request):  # platform staff only
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(admin.ModelAdmin):
    list_display = ["processed_at", "event_type", "event_id", "consumer"]
    list_filter = ["event_type", "consumer"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
