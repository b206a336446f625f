"""The staff page of qualified signatures: the loaded versions of the trusted list of accredited
certification authorities, the authorities of the newest one, the officials' signing certificates,
and the upload of a new list and of revocation lists (the certificate officer; the auditor reads)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import DomainError
from core.http import request_user
from core.qes import selectors
from core.qes.services import revocation_list_load, trusted_list_load
from core.roles import Role, has_role
from core.uploads import read_upload
from frontend.views.common import staff_required


@staff_required(Role.CERTIFICATE_OFFICER, Role.AUDITOR)
def signatures(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":
        if not has_role(user, Role.CERTIFICATE_OFFICER):
            raise PermissionDenied  # the auditor reads the page, loads nothing
        try:
            _load(request)
        except DomainError as exc:
            details = [m for field_messages in exc.fields.values() for m in field_messages]
            messages.error(request, " ".join([exc.message, *details]))
        return redirect("frontend:staff_signatures")
    return render(
        request,
        "frontend/staff/signatures.html",
        {
            "versions": selectors.trusted_list_versions()[:50],
            "authorities": selectors.trusted_authorities_newest(),
            "signing_certificates": selectors.signing_certificate_list(),
            "can_load": has_role(user, Role.CERTIFICATE_OFFICER),
            "max_mb": settings.QES_TRUSTED_LIST_MAX_BYTES // (1024 * 1024),
        },
    )


def _load(request: HttpRequest) -> None:
    """Read the uploads within the limit and load them (the services check the role)."""
    limit = settings.QES_TRUSTED_LIST_MAX_BYTES
    upload = request.FILES.get("xml")
    xml = read_upload(upload, name=upload.name or "", limit=limit, field="xml") if upload else None
    crls = [read_upload(f, name=f.name or "", limit=limit, field="crls") for f in request.FILES.getlist("crls")]
    by = request_user(request)
    if xml is None and not crls:
        raise DomainError(_("Выберите файл перечня (XML) или списки отзыва."), code="required")
    if xml is not None:
        report = trusted_list_load(xml=xml, crls=crls, by=by)
        version = report.trusted_list.version if report.trusted_list else ""
        if report.authorities:
            loaded = ngettext(
                "Загружен перечень версии %(version)s: %(count)d удостоверяющий центр.",
                "Загружен перечень версии %(version)s: %(count)d удостоверяющих центров.",
                report.authorities,
            ) % {"version": version, "count": report.authorities}
        else:
            loaded = _("Перечень версии %(version)s уже был загружен.") % {"version": version}
        messages.success(request, loaded)
        count = report.revocation_lists
    else:
        for crl in crls:
            revocation_list_load(data=crl, by=by)
        count = len(crls)
    if count:
        messages.success(
            request,
            ngettext("Загружен %(count)d список отзыва.", "Загружено %(count)d списков отзыва.", count)
            % {"count": count},
        )
