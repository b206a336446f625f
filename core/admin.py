from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent, CalendarDay, Deadline, Notification, OutgoingLetter, User
from core.text import TextField

# The apps whose admins follow the text rule (core.text), as every page and API does.
OUR_APPS = frozenset({"core", "exam", "registry", "appeals", "frontend"})
# A model TextField has no length of its own: the admin bounds it as the longest text of a page.
ADMIN_TEXT_MAX_LENGTH = 5000


class AdminTextField(TextField):
    """core.text's form field for a model's CharField or TextField in the admin: the model's
    max_length (a TextField: ADMIN_TEXT_MAX_LENGTH and several lines); a nullable field stays
    None when empty."""

    def __init__(self, *, max_length: int | None = None, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(max_length=max_length or ADMIN_TEXT_MAX_LENGTH, multiline=multiline, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return self.empty_value
        return super().to_python(value)


class AdminMultilineTextField(AdminTextField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(multiline=True, **kwargs)


TEXT_RULE_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.CharField: {"form_class": AdminTextField},
    models.TextField: {"form_class": AdminMultilineTextField},
}


def admin_text_rule(site: admin.AdminSite) -> None:
    """Make every admin of our apps build its free-text fields from core.text (called once all
    admins are registered, in CoreConfig.ready): otherwise the admin stores control characters
    and lone surrogates that every other way in refuses. An admin's own overrides of the widget
    stay (the admin's widgets are kept)."""
    for model, model_admin in site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        overrides = cast(dict[Any, dict[str, Any]], model_admin.formfield_overrides)  # a dict once built
        for db_field, override in TEXT_RULE_OVERRIDES.items():
            overrides.setdefault(db_field, {}).update(override)


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

    list_display = ["at", "actor_label", "action", "operation", "case_label", "from_what", "to_what"]
    list_filter = ["action", "verb"]

    @admin.display(description=_("Операция"), ordering="verb")
    def operation(self, event: AuditEvent) -> str:
        return event.verb_label

    @admin.display(description=_("Из состояния"))
    def from_what(self, event: AuditEvent) -> str:
        return event.from_label

    @admin.display(description=_("В состояние"))
    def to_what(self, event: AuditEvent) -> str:
        return event.to_label

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
