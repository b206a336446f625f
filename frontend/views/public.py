"""Public pages: information about the service (p.3-6)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control


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
