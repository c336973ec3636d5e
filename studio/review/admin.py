from django.contrib import admin

from studio.review.models import Comment, Decision, GuestLink, Notification, Selection


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["take", "author", "guest_name", "timecode_ms", "created_at", "resolved_at"]
    raw_id_fields = ["take", "parent", "author", "resolved_by", "guest_link"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["take", "reviewer", "verdict", "updated_at"]
    raw_id_fields = ["take", "reviewer"]


@admin.register(Selection)
class SelectionAdmin(admin.ModelAdmin):
    list_display = ["shot", "take", "selected_by", "selected_at"]
    raw_id_fields = ["shot", "take", "selected_by"]


@admin.register(GuestLink)
class GuestLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "take", "project", "expires_at", "revoked_at", "allow_download"]
    raw_id_fields = ["take", "project", "created_by"]
    exclude = ["password_hash"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "take", "created_at", "read_at", "emailed_at"]
    raw_id_fields = ["recipient", "take", "comment", "actor"]
