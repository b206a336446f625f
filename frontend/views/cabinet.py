"""The candidate's cabinet: the application form, documents, signing, status and notices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from appeals.selectors import appeal_window_closes
from core import calendar
from core.errors import DomainError
from core.http import client_ip, request_user
from core.selectors import letter_editions, notification_list
from core.services import notification_mark_read
from exam import forms
from exam.admission import selectors, services
from exam.admission.documents import exam_system_url, render_receipt_pdf
from exam.admission.documents import sitting_ics as sitting_ics_document
from exam.models import Application, Attachment, Attempt, Decision, Submission
from exam.testing import selectors as testing_selectors
from frontend.views.common import apply_error, candidate_required, letter_pdf_response
from registry import selectors as registry_selectors
from registry.models import AttestationDecision

SECTIONS = [
    ("higher_education", _("Сведения о высшем образовании")),
    ("additional_education", _("Сведения о дополнительном профессиональном образовании")),
    ("experience", _("Сведения об опыте практической работы в области оценки условий труда")),
]

ENTRY_FIELDS = {
    "higher_education": ["institution", "specialty", "document_name", "document_number", "document_date"],
    "additional_education": ["organisation", "programme", "assessment_hours", "document_number", "document_date"],
    "experience": ["employer", "works", "date_from", "date_to"],
}


def _own(request: HttpRequest, pk: int) -> Application:
    try:
        return selectors.application_get(user=request_user(request), pk=pk)
    except DomainError:
        raise Http404 from None


@candidate_required
def cabinet(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    return render(
        request,
        "frontend/cabinet/index.html",
        {
            "applications": selectors.application_stage_pairs(user.applications.order_by("-created_at")),
            "appeals": user.appeals.order_by("-received_at"),
            "complaints": user.complaints.order_by("-received_at"),
            "notifications": notification_list(user=user)[:5],
            "held": registry_selectors.certificate_held_by(user=user),
        },
    )


@candidate_required
@require_POST
def application_new(request: HttpRequest) -> HttpResponse:
    try:
        application = services.application_start(candidate=request_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("frontend:cabinet")
    return redirect("frontend:cabinet_application_edit", pk=application.pk)


def _formsets(application: Application, data: Any = None) -> dict[str, djforms.BaseFormSet]:
    result = {}
    for section, _label in SECTIONS:
        initial = [
            {name: getattr(entry, name) for name in ENTRY_FIELDS[section]}
            for entry in getattr(application, section).all()
        ]
        result[section] = forms.EntryFormSets[section](data=data, initial=None if data else initial, prefix=section)
    return result


def _cleaned_entries(formset: djforms.BaseFormSet) -> list[dict[str, Any]]:
    """The rows kept: neither left empty nor marked for removal."""
    return [
        {k: v for k, v in row.items() if k != "DELETE"} for row in formset.cleaned_data if row and not row.get("DELETE")
    ]


@candidate_required
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    if not application.is_editable:
        return redirect("frontend:cabinet_application", pk=application.pk)
    if request.method == "POST":
        applicant = forms.ApplicantForm(request.POST, prefix="a")
        formsets = _formsets(application, request.POST)
        if applicant.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            cleaned: dict[str, Any] = {"applicant": applicant.cleaned_data}
            cleaned.update({name: _cleaned_entries(fs) for name, fs in formsets.items()})
            try:
                services.application_save_draft(application=application, by=request_user(request), cleaned=cleaned)
            except DomainError as exc:
                apply_error(applicant, exc)
            else:
                messages.success(request, _("Черновик сохранён."))
                if request.POST.get("next") == "sign":
                    return redirect("frontend:cabinet_application_sign", pk=application.pk)
                return redirect("frontend:cabinet_application_edit", pk=application.pk)
        else:
            messages.error(request, _("Исправьте ошибки в отмеченных полях. Черновик не сохранён."))
    else:
        applicant = forms.ApplicantForm(
            prefix="a", initial={f: getattr(application, f) for f in forms.ApplicantForm.base_fields}
        )
        formsets = _formsets(application)
    return render(
        request,
        "frontend/cabinet/application_form.html",
        {
            "application": application,
            "applicant": applicant,
            "sections": [(name, label, formsets[name]) for name, label in SECTIONS],
            "attachment_kinds": Attachment.Kind.choices,
            "attachments": application.attachments.in_paragraph_order(),
            "max_mb": _max_mb(),
        },
    )


def _max_mb() -> int:
    from django.conf import settings

    return int(settings.ATTACHMENT_MAX_BYTES // (1024 * 1024))


@candidate_required
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Выберите файл."))
    else:
        try:
            services.attachment_add(
                application=application,
                by=request_user(request),
                kind=request.POST.get("kind", ""),
                upload=upload,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Документ «%(name)s» приложен.") % {"name": upload.name})
    return redirect(f"{application.cabinet_url()}edit/#documents")


@candidate_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    application = _own(request, pk)
    try:
        attachment = selectors.attachment_get(user=request_user(request), application=application, pk=attachment_id)
        services.attachment_remove(attachment=attachment, by=request_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{application.cabinet_url()}edit/#documents")


@candidate_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    application = _own(request, pk)
    try:
        attachment = selectors.attachment_get(user=request_user(request), application=application, pk=attachment_id)
    except DomainError:
        raise Http404 from None
    return FileResponse(
        attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
    )


@candidate_required
def application_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the set, e-mail a one-time code, sign and submit (p.19, p.39)."""
    application = _own(request, pk)
    if not application.is_editable:
        return redirect("frontend:cabinet_application", pk=application.pk)
    code_form = forms.SignatureCodeForm(request.POST if request.POST.get("action") == "submit" else None)
    qes_form = forms.QualifiedSignatureUploadForm(
        request.POST if request.POST.get("action") == "qes" else None,
        request.FILES if request.POST.get("action") == "qes" else None,
    )
    if request.method == "POST" and request.POST.get("action") == "send":
        try:
            services.signature_request(application=application, by=request_user(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, _("Код отправлен на %(email)s.") % {"email": request_user(request).email})
        return redirect("frontend:cabinet_application_sign", pk=application.pk)
    # The e-mailed code (p.39) or a qualified electronic signature: the same submission otherwise.
    submits: list[tuple[djforms.Form, Callable[..., Submission], str]] = [
        (code_form, services.application_submit, "code"),
        (qes_form, services.application_submit_qualified, "signature"),
    ]
    for form, submit, field in submits:
        if request.method != "POST" or not form.is_valid():
            continue
        try:
            submission = submit(
                application=application,
                by=request_user(request),
                ip=client_ip(request),
                **{field: form.cleaned_data[field]},
            )
        except DomainError as exc:
            if not _own(request, pk).is_editable:  # a second click while the first one was submitting it
                messages.info(request, _("Заявление уже подано."))
                return redirect("frontend:cabinet_application", pk=application.pk)
            apply_error(form, exc)
        else:
            _submitted_message(request, application, submission)
            return redirect("frontend:cabinet_application", pk=application.pk)
    challenge = application.challenges.filter(used_at__isnull=True).first()
    return render(
        request,
        "frontend/cabinet/sign.html",
        {
            "application": application,
            "missing": selectors.application_missing_items(application),
            "digest": selectors.document_digest(selectors.application_document(application)),
            "code_form": code_form,
            "qes_form": qes_form,
            "code_sent": challenge is not None and challenge.expires_at > timezone.now(),
        },
    )


def _submitted_message(request: HttpRequest, application: Application, submission: Submission) -> None:
    if submission.outcome == submission.Outcome.ACCEPTED:
        application.refresh_from_db()
        messages.success(
            request,
            _("Заявление зарегистрировано, регистрационный номер %(n)s.") % {"n": application.registration_number},
        )
    elif submission.verification is not None and not submission.verification.ok:
        messages.error(
            request,
            _(
                "В приёме документов отказано: электронная подпись не прошла проверку. Заявление сохранено: "
                "устраните причину и подпишите его снова."
            ),
        )
    else:
        messages.error(
            request, _("В приёме документов отказано: комплект неполный. Исправьте заявление и подайте снова.")
        )


@candidate_required
def application_signing_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The exact bytes a qualified electronic signature signs: the canonical document of the current
    draft, each attachment named by its SHA-256 (p.39; seed 003 p.27.1)."""
    application = _own(request, pk)
    if not application.is_editable:
        raise Http404
    content = selectors.document_bytes(selectors.application_document(application))
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="zayavlenie-{application.pk}.json"'
    return response


@candidate_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    decision = application.decisions.filter(state=Decision.State.SIGNED).order_by("-signed_at").first()
    attestation = registry_selectors.decision_for_application(application)
    if attestation is not None and attestation.status != AttestationDecision.Status.SIGNED:
        attestation = None  # the candidate sees the decision once it is signed
    notice = selectors.notice_for(application)
    certificate = getattr(attestation, "certificate", None) if attestation else None
    test_result = testing_selectors.final_result(application)
    return render(
        request,
        "frontend/cabinet/application.html",
        {
            "application": application,
            "attachments": application.attachments.in_paragraph_order(),
            "stage": selectors.application_stage(application),
            "timeline": selectors.application_timeline(application),
            "submissions": application.submissions.all(),
            "decision": decision,
            "notice": notice,
            "notice_editions": [(e, None) for e in letter_editions(notice)] if notice is not None else [],
            "attestation_editions": [(e, None) for e in letter_editions(attestation)] if attestation else [],
            "credential": getattr(application, "exam_credential", None),
            "exam_system_url": exam_system_url(),
            "test_result": test_result,
            "appeal_open": _appeal_open(test_result),
            "attestation": attestation,
            "certificate": certificate,
            "editions": registry_selectors.certificate_editions(certificate) if certificate is not None else [],
        },
    )


def _appeal_open(attempt: Attempt | None) -> bool:
    """An appeal is offered against a result that is not a pass, while the window of p.12(v) is open."""
    if attempt is None or attempt.passed or attempt.appeals.exists():
        return False
    return calendar.moscow_date(timezone.now()) <= appeal_window_closes(attempt)


@candidate_required
def receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt of p.41 of the candidate's registered application, as a PDF."""
    application = _own(request, pk)
    if not application.registration_number:
        raise Http404
    return HttpResponse(
        render_receipt_pdf(application=application),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{application.pk}.pdf"'},
    )


@candidate_required
def sitting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The sitting of the candidate's admission notice as a calendar entry (.ics)."""
    application = _own(request, pk)
    credential = getattr(application, "exam_credential", None)
    if credential is None or credential.sitting is None or application.status != Application.Status.ADMITTED:
        raise Http404
    return HttpResponse(
        sitting_ics_document(credential=credential),
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sitting-{credential.sitting.pk}.ics"'},
    )


@candidate_required
def notice_pdf(request: HttpRequest, pk: int) -> FileResponse:
    application = _own(request, pk)
    notice = selectors.notice_for(application)
    if notice is None:
        raise Http404
    return letter_pdf_response(request, notice, original=notice.pdf, filename=f"{notice.kind}.pdf")


@never_cache
@candidate_required
@require_POST
def exam_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the testing-system password once (p.53); only its hash is kept."""
    application = _own(request, pk)
    credential = getattr(application, "exam_credential", None)
    if credential is None:
        raise Http404
    try:
        password = services.exam_password_issue(credential=credential, by=request_user(request), ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("frontend:cabinet_application", pk=application.pk)
    decision = selectors.decision_current(application)
    return render(
        request,
        "frontend/cabinet/exam_password.html",
        {
            "application": application,
            "credential": credential,
            "password": password,
            "sitting": decision.sitting if decision else None,
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = list(notification_list(user=request_user(request))[:100])
    for note in items:
        notification_mark_read(notification=note)
    return render(request, "frontend/cabinet/notifications.html", {"items": items})


@candidate_required
def attestation_pdf(request: HttpRequest, pk: int, document: str) -> FileResponse:
    """The signed decision on attestation, or the certificate (p.68), of the candidate's own file."""
    application = _own(request, pk)
    attestation = registry_selectors.decision_for_application(application)
    if attestation is None or attestation.status != AttestationDecision.Status.SIGNED:
        raise Http404
    if document == "decision" and attestation.pdf:
        return letter_pdf_response(request, attestation, original=attestation.pdf, filename="attestation-decision.pdf")
    certificate = getattr(attestation, "certificate", None)
    if document == "certificate" and certificate is not None and certificate.pdf:
        return FileResponse(
            certificate.pdf.open("rb"), filename=f"certificate-{certificate.number}.pdf", content_type="application/pdf"
        )
    raise Http404
