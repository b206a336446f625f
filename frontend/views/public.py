"""Public pages: information about the service (p.3-6, p.97) and the verification of a
document's electronic signature."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control

from appeals.models import Complaint
from core.errors import DomainError
from core.http import client_ip
from core.qes.selectors import uploaded_signature_check
from core.throttling import rate_allows
from exam.models import Attachment, Decision

# p.14: the legal acts that govern the service, with their particulars.
LEGAL_ACTS = [
    gettext_lazy("Трудовой кодекс Российской Федерации"),
    gettext_lazy(
        "Федеральный закон от 2 мая 2006 г. № 59-ФЗ «О порядке рассмотрения обращений граждан Российской Федерации»"
    ),
    gettext_lazy("Федеральный закон от 27 июля 2006 г. № 152-ФЗ «О персональных данных»"),
    gettext_lazy(
        "Федеральный закон от 27 июля 2006 г. № 149-ФЗ «Об информации, информационных технологиях и о защите информации»"
    ),
    gettext_lazy(
        "Федеральный закон от 27 июля 2010 г. № 210-ФЗ «Об организации предоставления государственных и муниципальных услуг»"
    ),
    gettext_lazy("Федеральный закон от 28 декабря 2013 г. № 426-ФЗ «О специальной оценке условий труда»"),
    gettext_lazy("Федеральный закон от 6 апреля 2011 г. № 63-ФЗ «Об электронной подписи»"),
    gettext_lazy(
        "Указ Президента Российской Федерации от 7 мая 2012 г. № 601 «Об основных направлениях совершенствования системы государственного управления»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 6 мая 2011 г. № 352 «Об утверждении перечня услуг, которые являются необходимыми и обязательными для предоставления федеральными органами исполнительной власти государственных услуг…»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 16 мая 2011 г. № 373 «О разработке и утверждении административных регламентов исполнения государственных функций и административных регламентов предоставления государственных услуг»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 7 июля 2011 г. № 553 «О порядке оформления и представления заявлений и иных документов, необходимых для предоставления государственных и (или) муниципальных услуг, в форме электронных документов»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 19 июня 2012 г. № 610 «Об утверждении Положения о Министерстве труда и социальной защиты Российской Федерации»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 25 июня 2012 г. № 634 «О видах электронной подписи, использование которых допускается при обращении за получением государственных и муниципальных услуг»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 16 августа 2012 г. № 840 «О порядке подачи и рассмотрения жалоб на решения и действия (бездействие) федеральных органов исполнительной власти и их должностных лиц…»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 25 августа 2012 г. № 852 «Об утверждении Правил использования усиленной квалифицированной электронной подписи при обращении за получением государственных и муниципальных услуг…»"
    ),
    gettext_lazy(
        "Постановление Правительства Российской Федерации от 3 июля 2014 г. № 614 «О порядке аттестации на право выполнения работ по специальной оценке условий труда, выдачи сертификата эксперта на право выполнения работ по специальной оценке условий труда и его аннулирования»"
    ),
    gettext_lazy(
        "Приказ Минтруда России от 24 января 2014 г. № 32н «Об утверждении формы сертификата эксперта на право выполнения работ по специальной оценке условий труда, технических требований к нему, инструкции по заполнению бланка сертификата эксперта… и Порядка формирования и ведения реестра экспертов организаций, проводящих специальную оценку условий труда»"
    ),
    gettext_lazy(
        "Административный регламент предоставления Министерством труда и социальной защиты Российской Федерации государственной услуги по аттестации на право выполнения работ по специальной оценке условий труда (приказ Минтруда России № 258н)"
    ),
]


def _rules() -> dict[str, Any]:
    """The numbers the pages state: the ones the services apply, not numbers of a page."""
    return {
        "min_hours": settings.ADMISSION_MIN_TRAINING_HOURS,
        "min_years": settings.ADMISSION_MIN_EXPERIENCE_YEARS,
        "review_days": settings.REVIEW_DEADLINE_WORKING_DAYS,
        "notice_days": settings.NOTICE_DEADLINE_WORKING_DAYS,
        "exam_minutes": int(settings.EXAM_DURATION.total_seconds() // 60),
        "pass_score": settings.EXAM_PASS_SCORE,
        "question_count": settings.EXAM_QUESTION_COUNT,
    }


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", _rules())


def service(request: HttpRequest) -> HttpResponse:
    """«О государственной услуге»: what p.3-6 and p.97 require the ministry to publish — contacts and
    hours (p.5), how to apply and the documents (p.15-16), the terms (p.12, p.25-26), the grounds of
    refusal (p.19-21), the legal acts (p.14) and how to complain (p.77-97)."""
    return render(
        request,
        "frontend/service.html",
        {
            **_rules(),
            "attestation_days": settings.ATTESTATION_DECISION_WORKING_DAYS,
            "appeal_months": settings.APPEAL_DECISION_MONTHS,
            "appeal_window_days": settings.APPEAL_WINDOW_DAYS,
            "registry_days": settings.REGISTRY_PUBLISH_WORKING_DAYS,
            "complaint_long_days": settings.COMPLAINT_LONG_WORKING_DAYS,
            "complaint_short_days": settings.COMPLAINT_SHORT_WORKING_DAYS,
            "remedy_days": settings.COMPLAINT_REMEDY_WORKING_DAYS,
            "ministry": {
                "address": settings.MINISTRY_POSTAL_ADDRESS,
                "email": settings.MINISTRY_EMAIL,
                "phone": settings.MINISTRY_PHONE,
                "website": settings.MINISTRY_WEBSITE,
            },
            "documents": Attachment.Kind.choices,
            "refusal_grounds": Decision.Ground.choices,
            "complaint_subjects": Complaint.Subject.choices,
            "complaint_refusal_grounds": [
                (value, label) for value, label in Complaint.RefusalGround.choices if value != "unfounded"
            ],
            "complaint_silence_grounds": Complaint.SilenceGround.choices,
            "legal_acts": LEGAL_ACTS,
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
