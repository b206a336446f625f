"""Public pages: information about the service (p.3-6) and the verification of a document's
electronic signature."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from core.errors import DomainError
from core.http import client_ip
from core.qes.selectors import uploaded_signature_check
from core.throttling import rate_allows


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/home.html",
        {
            "min_hours": settings.ADMISSION_MIN_TRAINING_HOURS,
            "min_years": settings.ADMISSION_MIN_EXPERIENCE_YEARS,
            "review_days": settings.REVIEW_DEADLINE_WORKING_DAYS,
            "notice_days": settings.NOTICE_DEADLINE_WORKING_DAYS,
            # The same rules the exam room states (frontend.views.exam_room), not numbers of a page.
            "exam_minutes": int(settings.EXAM_DURATION.total_seconds() // 60),
            "pass_score": settings.EXAM_PASS_SCORE,
        },
    )


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and bots ask for /favicon.ico whatever the page links: the static icon."""
    return redirect(static("frontend/favicon.ico"), permanent=True)


def signature_verify(request: HttpRequest) -> HttpResponse:
    """Anybody checks a document and its detached signature with the one verifier (the same as the
    API's): throttled per client like the API, within the size limits, nothing of the files kept."""
    context: dict[str, Any] = {
        "document_mb": settings.QES_VERIFY_DOCUMENT_MAX_BYTES // (1024 * 1024),
        "api_url": reverse("core-api:signature-verify"),
        "fields": {},
    }
    status = 200
    if request.method == "POST":
        allowed, _wait = rate_allows(scope="signature_verify", ident=client_ip(request) or "unknown")
        try:
            if not allowed:
                raise DomainError(
                    _("Слишком много проверок подряд: повторите через минуту."), code="throttled", status=429
                )
            context["check"] = uploaded_signature_check(
                document=request.FILES.get("document"), signature=request.FILES.get("signature")
            )
        except DomainError as exc:
            context.update(error=exc.message, error_code=exc.code, fields=exc.fields)
            status = exc.status
    return render(request, "frontend/signatures/verify.html", context, status=status)
