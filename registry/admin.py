from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from registry.models import (
    Annulment,
    AnnulmentReason,
    AreaOfActivity,
    AttestationDecision,
    Certificate,
    CertificateEdition,
    SigningKey,
)


@admin.register(AreaOfActivity)
class AreaOfActivityAdmin(admin.ModelAdmin):
    """The reference list of areas of activity, maintained by staff. An area is never deleted: that
    would take it off the certificates issued with it. One no longer in use is unticked (``active``)
    and offered for no new certificate."""

    list_display = ["code", "title", "active"]
    list_filter = ["active"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AnnulmentReason)
class AnnulmentReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "active"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    """Read-only: certificates change only through registry.services."""

    list_display = ["number", "last_name", "first_name", "issued_on", "expires_on", "annulled_on"]
    search_fields = ["number", "last_name"]


@admin.register(CertificateEdition)
class CertificateEditionAdmin(ReadOnlyAdmin):
    """Read-only: editions are issued only through registry.services."""

    list_display = ["certificate", "number", "kind", "basis", "issued_at", "replaced_at"]


@admin.register(AttestationDecision)
class AttestationDecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "status", "score", "test_date", "signed_at"]


@admin.register(Annulment)
class AnnulmentAdmin(ReadOnlyAdmin):
    list_display = ["certificate", "status", "reason", "requested_at", "decided_at"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "algorithm", "valid_from", "valid_to"]
