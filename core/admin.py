from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from core.models import AuditEvent, CalendarDay, Deadline, Notification, OutgoingLetter, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "last_name", "first_name", "position", "is_staff", "is_active"]
    search_fields = ["email", "last_name", "first_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("ФИО", {"fields": ("last_name", "first_name", "patronymic", "phone")}),
        ("Доступ", {"fields": ("position", "is_active", "is_staff", "is_superuser", "groups", "email_confirmed_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "last_name", "first_name", "password1", "password2")}),
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail can be read, never changed (see also the database triggers)."""

    list_display = ["at", "actor_label", "action", "verb", "case_label", "from_state", "to_state"]
    list_filter = ["action", "verb"]
    search_fields = ["actor_label", "case_label", "reason"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind", "case_type", "case_id", "due_on", "completed_at", "flag"]
    list_filter = ["kind", "flag"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "subject", "read_at", "emailed_at"]


@admin.register(OutgoingLetter)
class OutgoingLetterAdmin(ReadOnlyAdmin):
    """The journal of outgoing letters: numbers are given at signing, never edited."""

    list_display = ["number", "kind", "case_type", "case_id", "signed_at"]
    list_filter = ["kind"]
    search_fields = ["number"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Staff enter next year's decree on moved days off here, as data."""

    list_display = ["date", "kind", "basis"]
