from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from exam.models import Application, Decision, Notice, Sitting


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    """Read-only: every change of an application goes through exam.admission.services (pages and API)."""

    list_display = ["registration_number", "last_name", "first_name", "status", "channel", "registration_date"]
    list_filter = ["status", "channel"]
    search_fields = ["registration_number", "last_name"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "state", "drafted_by", "signed_by", "signed_at"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "issued_at"]


@admin.register(Sitting)
class SittingAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "is_remote", "place", "capacity"]
