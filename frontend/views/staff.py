"""Staff pages: dashboard, review queue, the candidate's file, signing, registration of paper
applications, sittings and the audit trail. Every object is checked against the user's roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import LetterDispatchForm
from core.http import client_ip, request_user
from core.letters import letter_edition_dispatch
from core.models import AuditEvent, LetterEdition
from core.qes.selectors import expiry_warnings
from core.roles import Role, has_role
from core.selectors import deadline_counts, deadline_list_open
from core.services import audit_file_viewed
from exam import forms
from exam.admission import selectors, services
from exam.admission.documents import render_notice_pdf
from exam.models import Application, Decision, Notice, Sitting, Submission
from exam.testing.services.sittings import sitting_create
from frontend.views.common import (
    apply_error,
    letter_correct_post,
    letter_correction_form,
    letter_dispatch_post,
    letter_editions_rows,
    letter_pdf_response,
    perform,
    staff_required,
)
from registry import selectors as registry_selectors

S = Application.Status


def _file(request: HttpRequest, pk: int) -> Application:
    try:
        return selectors.application_get(user=request_user(request), pk=pk)
    except DomainError:
        raise Http404 from None


def _notice(request: HttpRequest, pk: int) -> tuple[Application, Notice]:
    """The file and its notice, or 404."""
    application = _file(request, pk)
    notice = selectors.notice_for(application)
    if notice is None:
        raise Http404
    return application, notice


def _drafts_to_sign(user: Any) -> dict[str, int] | None:
    """What waits for this signatory's signature: the admission notices and refusal letters they may
    sign (not their own drafts, p.49-50) and the decisions on attestation (p.59)."""
    if not has_role(user, Role.SIGNATORY):
        return None
    admission = sum(
        services.decision_can_sign(decision=d, user=user)
        for d in selectors.signing_queue(user=user).exclude(drafted_by=user)
    )
    return {"admission": admission, "attestation": registry_selectors.attestation_drafts_to_sign().count()}


@staff_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    return render(
        request,
        "frontend/staff/dashboard.html",
        {
            "to_sign": _drafts_to_sign(user),
            "counts": deadline_counts(user=user),
            "deadlines": deadline_list_open(roles=frozenset(r for r in Role if has_role(user, r)))[:20],
            # Seed 000: the ministry's own authority expired and stopped FGIS SOUT; every member of
            # staff sees what is about to expire, so that somebody renews it in time.
            "expiring": expiry_warnings(),
            "can_manage_signatures": has_role(user, Role.CERTIFICATE_OFFICER),
        },
    )


@staff_required(Role.REVIEWER)
def review_queue(request: HttpRequest) -> HttpResponse:
    queue = selectors.application_stage_pairs(selectors.review_queue(user=request_user(request)))
    return render(request, "frontend/staff/review_queue.html", {"queue": queue})


@staff_required(Role.SIGNATORY)
def signing_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request, "frontend/staff/signing_queue.html", {"queue": selectors.signing_queue(user=request_user(request))}
    )


@staff_required(Role.REGISTRAR, Role.AUDITOR)
def journal(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.registration_journal(user=request_user(request)), 50).get_page(request.GET.get("page"))
    rows = selectors.application_stage_pairs(page)
    late = {app.pk for app in page if selectors.application_registered_late(app)}  # p.25
    return render(request, "frontend/staff/journal.html", {"page": page, "rows": rows, "late": late})


@staff_required()
def application_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidate's file: entries, documents, criteria, submissions and their signatures, the
    decisions and the audit trail. Each opening is logged (personal data)."""
    application = _file(request, pk)
    user = request_user(request)
    audit_file_viewed(case=application, viewer=user, what="file_view", ip=client_ip(request))
    submissions = list(application.submissions.all())
    checks = {sub.pk: services.signature_verify(submission=sub) for sub in submissions if sub.is_signed}
    current = selectors.decision_current(application)
    can_draft = services.application_can_draft(application=application, user=user)
    decision_form = forms.DecisionForm(initial={"kind": Decision.Kind.ADMISSION}) if can_draft else None
    notice = selectors.notice_for(application)
    can_correct = services.entry_can_correct(application=application, user=user)
    originals = getattr(application, "originals_return", None)
    correction_form = (
        letter_correction_form(notice, source=application)
        if notice is not None and services.notice_can_correct(notice=notice, user=user)
        else None
    )
    return render(
        request,
        "frontend/staff/application.html",
        {
            "attachments": application.attachments.in_paragraph_order(),
            "notice_editions": letter_editions_rows(notice, user=user),
            "notice_correction_form": correction_form,
            "corrections": selectors.entry_correction_list(application),
            "correction_form": forms.EntryCorrectionForm(targets=selectors.entry_correction_targets(application))
            if can_correct
            else None,
            "originals_return": originals,
            "can_record_originals_return": originals is not None
            and services.originals_return_can_record(originals_return=originals, user=user),
            "application": application,
            "stage": selectors.application_stage(application),
            "criteria": selectors.application_criteria(application),
            "submissions": [(sub, checks.get(sub.pk)) for sub in submissions],
            "decisions": application.decisions.select_related("drafted_by", "signed_by", "returned_by", "sitting"),
            "current": current,
            "deadlines": selectors.application_deadlines(application),
            "registration_due": selectors.application_registration_due(application),
            "registered_late": selectors.application_registered_late(application),
            "trail": selectors.audit_trail_for(application)[:200],
            "can_take": services.application_can_take(application=application, user=user),
            "can_draft": can_draft,
            "decision_form": decision_form,
            "sittings": selectors.sitting_list_upcoming() if can_draft else [],
            "can_sign": current is not None and services.decision_can_sign(decision=current, user=user),
            "can_return": current is not None and services.decision_can_return(decision=current, user=user),
            "is_drafter": current is not None
            and current.state == Decision.State.DRAFT
            and current.drafted_by_id == user.pk,
            "can_issue_password": services.exam_password_can_issue(application=application, user=user),
            "notice": notice,
            # A candidate with a cabinet account is informed there; the paper dispatch is for the others.
            "can_dispatch_notice": notice is not None
            and application.candidate_id is None
            and services.notice_can_dispatch(notice=notice, user=user),
            "dispatch_form": LetterDispatchForm(),
            "originals_form": LetterDispatchForm(auto_id="originals_%s"),
        },
    )


@staff_required()
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    application = _file(request, pk)
    try:
        attachment = selectors.attachment_get(user=request_user(request), application=application, pk=attachment_id)
    except DomainError:
        raise Http404 from None
    audit_file_viewed(case=application, viewer=request_user(request), what="attachment_view", ip=client_ip(request))
    return FileResponse(
        attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
    )


@staff_required()
def submission_signed_file(request: HttpRequest, pk: int, submission_id: int, what: str) -> HttpResponse:
    """What a qualified signature signed (the canonical document, ``document``) and the signature as
    it came (``signature``), to check by hand (``manage.py signature_verify``, OpenSSL). Logged."""
    application = _file(request, pk)
    submission = application.submissions.filter(pk=submission_id, signature_method=Submission.QES).first()
    if submission is None or what not in ("document", "signature"):
        raise Http404
    audit_file_viewed(case=application, viewer=request_user(request), what="signature_view", ip=client_ip(request))
    name = f"zayavlenie-{application.pk}-{submission.pk}"
    if what == "document":
        response = HttpResponse(
            selectors.document_bytes(submission.document), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    else:
        response = HttpResponse(bytes(submission.signature), content_type="application/pkcs7-signature")
        response["Content-Disposition"] = f'attachment; filename="{name}.json.sig"'
    return response


@staff_required()
def notice_pdf(request: HttpRequest, pk: int) -> FileResponse:
    application, notice = _notice(request, pk)
    audit_file_viewed(case=application, viewer=request_user(request), what="notice_view", ip=client_ip(request))
    return letter_pdf_response(request, notice, original=notice.pdf, filename=f"{notice.kind}.pdf")


@staff_required(Role.REVIEWER)
@require_POST
def application_take(request: HttpRequest, pk: int) -> HttpResponse:
    application = _file(request, pk)
    perform(
        request,
        lambda: services.application_start_review(
            application=application, by=request_user(request), ip=client_ip(request)
        ),
        success=_("Заявление принято к рассмотрению."),
    )
    return redirect("frontend:staff_application", pk=application.pk)


@staff_required(Role.REVIEWER)
@require_POST
def decision_draft(request: HttpRequest, pk: int) -> HttpResponse:
    application = _file(request, pk)
    form = forms.DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        sitting = Sitting.objects.filter(pk=data["sitting"]).first() if data.get("sitting") else None
        perform(
            request,
            lambda: services.decision_draft(
                application=application,
                by=request_user(request),
                kind=data["kind"],
                sitting=sitting,
                grounds=data["grounds"],
                explanation=data["explanation"],
                ip=client_ip(request),
            ),
            success=_("Проект решения направлен на подпись."),
        )
    else:
        messages.error(
            request,
            _("Проверьте проект решения: %(errors)s")
            % {"errors": "; ".join(str(m) for ms in form.errors.values() for m in ms)},
        )
    return redirect("frontend:staff_application", pk=application.pk)


@staff_required(Role.REVIEWER)
@require_POST
def entry_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer corrects an entry from the attached document, with a reason."""
    application = _file(request, pk)
    form = forms.EntryCorrectionForm(request.POST, targets=selectors.entry_correction_targets(application))

    def correct() -> object:
        data = form.cleaned_data
        entry = selectors.entry_get(application=application, kind=data["kind"], pk=data["entry_id"])
        return services.entry_correct(
            application=application,
            entry=entry,
            field=data["field"],
            value=data["value"],
            reason=data["reason"],
            by=request_user(request),
            ip=client_ip(request),
        )

    perform(request, correct, success=_("Исправление сохранено; требования пересчитаны."), form=form)
    return redirect("frontend:staff_application", pk=application.pk)


def _decision(request: HttpRequest, pk: int) -> Decision:
    decision = Decision.objects.select_related("application").filter(pk=pk).first()
    if decision is None:
        raise Http404
    _file(request, decision.application_id)
    return decision


@staff_required(Role.SIGNATORY)
@require_POST
def decision_sign(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(request, pk)
    perform(
        request,
        lambda: services.decision_sign(decision=decision, by=request_user(request), ip=client_ip(request)),
        success=_("Решение подписано. Уведомление направляется заявителю."),
    )
    return redirect("frontend:staff_application", pk=decision.application_id)


@staff_required(Role.SIGNATORY)
@require_POST
def decision_return(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(request, pk)
    form = forms.ReasonForm(request.POST)
    perform(
        request,
        lambda: services.decision_return(
            decision=decision, by=request_user(request), reason=form.cleaned_data["reason"], ip=client_ip(request)
        ),
        success=_("Проект возвращён на доработку."),
        form=form,
    )
    return redirect("frontend:staff_application", pk=decision.application_id)


@staff_required(Role.REGISTRAR)
@require_POST
def notice_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """p.52: the registrar records that the notice or letter went out on paper."""
    application, notice = _notice(request, pk)
    letter_dispatch_post(
        request,
        lambda channel, reference: services.notice_dispatch(
            notice=notice, by=request_user(request), channel=channel, reference=reference
        ),
    )
    return redirect("frontend:staff_application", pk=application.pk)


@staff_required(Role.SIGNATORY)
@require_POST
def notice_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """p.78(g): a signatory issues a corrected edition of the admission notice or refusal letter."""
    application, notice = _notice(request, pk)
    letter_correct_post(
        request, lambda **data: services.notice_correct(notice=notice, by=request_user(request), **data)
    )
    return redirect("frontend:staff_application", pk=application.pk)


@staff_required(Role.REGISTRAR)
@require_POST
def letter_edition_dispatch_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The registrar records that a corrected edition of a letter went out on paper."""
    edition = LetterEdition.objects.filter(pk=pk).first()
    case = edition.case if edition is not None else None
    if edition is None or case is None:
        raise Http404
    letter_dispatch_post(
        request,
        lambda channel, reference: letter_edition_dispatch(
            edition=edition, by=request_user(request), channel=channel, reference=reference
        ),
    )
    return redirect(case.staff_url())


@staff_required(Role.REGISTRAR)
@require_POST
def originals_return(request: HttpRequest, pk: int) -> HttpResponse:
    """p.54: the registrar records that the paper documents went back to the applicant."""
    application = _file(request, pk)
    originals = getattr(application, "originals_return", None)
    if originals is None:
        raise Http404
    letter_dispatch_post(
        request,
        lambda channel, reference: services.originals_return_record(
            originals_return=originals, by=request_user(request), channel=channel, reference=reference
        ),
    )
    return redirect("frontend:staff_application", pk=application.pk)


@never_cache
@staff_required(Role.REGISTRAR)
@require_POST
def exam_password(request: HttpRequest, pk: int) -> HttpResponse:
    """For an application received on paper: print the notice with the password, shown once."""
    application = _file(request, pk)
    credential = getattr(application, "exam_credential", None)
    decision = selectors.decision_current(application)
    if credential is None or decision is None:
        raise Http404
    try:
        password = services.exam_password_issue(credential=credential, by=request_user(request), ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("frontend:staff_application", pk=application.pk)
    notice = selectors.notice_for(application)
    pdf = render_notice_pdf(
        decision=decision, issued_at=notice.issued_at if notice else timezone.now(), password=password
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="admission_notice_with_password.pdf"'
    return response


@staff_required(Role.REGISTRAR)
def paper_new(request: HttpRequest) -> HttpResponse:
    """Register an application received on paper (p.16, p.25-27)."""
    from frontend.views.cabinet import SECTIONS, _cleaned_entries

    receipt = forms.PaperReceiptForm(request.POST or None, prefix="r")
    applicant = forms.ApplicantForm(request.POST or None, prefix="a")
    formsets = {name: forms.EntryFormSets[name](data=request.POST or None, prefix=name) for name, _label in SECTIONS}
    if request.method == "POST":
        if receipt.is_valid() and applicant.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            cleaned: dict[str, Any] = {"applicant": applicant.cleaned_data}
            cleaned.update({name: _cleaned_entries(fs) for name, fs in formsets.items()})
            try:
                application = services.application_register_paper(
                    by=request_user(request),
                    channel=receipt.cleaned_data["channel"],
                    received_at=receipt.cleaned_data["received_at"],
                    cleaned=cleaned,
                    paper_documents=receipt.cleaned_data["paper_documents"],
                    candidate_email=receipt.cleaned_data["candidate_email"],
                    ip=client_ip(request),
                    token=receipt.cleaned_data["form_token"],
                )
            except DomainError as exc:
                apply_error(receipt, exc)
            else:
                if application.status == S.REGISTERED:
                    messages.success(
                        request, _("Заявление зарегистрировано: № %(n)s.") % {"n": application.registration_number}
                    )
                else:
                    messages.warning(
                        request,
                        _("Отказано в приёме документов: %(items)s")
                        % {"items": "; ".join(application.not_accepted_reasons)},
                    )
                return redirect("frontend:staff_application", pk=application.pk)
        else:
            messages.error(request, _("Исправьте ошибки в отмеченных полях. Ничего не сохранено."))
    return render(
        request,
        "frontend/staff/paper_new.html",
        {"receipt": receipt, "applicant": applicant, "sections": [(n, label, formsets[n]) for n, label in SECTIONS]},
    )


@staff_required(Role.EXAM_ADMIN)
def sittings(request: HttpRequest) -> HttpResponse:
    form = forms.SittingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            sitting_create(by=request_user(request), token=data.pop("form_token"), **data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Сеанс назначен."))
            return redirect("frontend:staff_sittings")
    upcoming = [(s, selectors.sitting_seats_taken(s)) for s in selectors.sitting_list_upcoming()]
    return render(request, "frontend/staff/sittings.html", {"form": form, "upcoming": upcoming})


@staff_required(Role.AUDITOR)
def audit(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("case_type").order_by("-at", "-id")
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    who = request.GET.get("who", "").strip()
    if who:
        events = events.filter(actor_label__icontains=who)
    case = request.GET.get("case", "").strip()
    if case:
        events = events.filter(case_label__icontains=case)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "frontend/staff/audit.html", {"page": page, "actions": AuditEvent.Action.choices, "q": request.GET}
    )
