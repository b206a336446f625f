"""Appeals and complaints: the candidate's cabinet and the staff workspaces."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals import selectors, services
from appeals.forms import (
    AppealDecisionForm,
    AppealForm,
    ComplaintAnswerDispatchForm,
    ComplaintCertificateCorrectionForm,
    ComplaintDecisionForm,
    ComplaintForm,
    ComplaintLetterCorrectionForm,
    ComplaintRemedyCarryOutForm,
    ComplaintRemedyDoneForm,
    PaperComplaintForm,
    PublicComplaintForm,
    VoteForm,
)
from appeals.models import Appeal, AppealAttachment, Complaint, ComplaintAttachment
from core.accounts import second_factor_pending
from core.errors import DomainError
from core.http import client_ip, request_user
from core.qes.verifier import Protocol
from core.roles import ROLE_LABELS, Role
from core.services import audit_file_viewed
from core.uploads import read_upload
from exam.admission.selectors import application_stage, application_stage_pairs
from exam.forms import SIGNATURE_FILE_TYPES
from exam.models import Application, Attempt
from exam.testing.selectors import attempt_review_counts
from frontend.views.common import (
    apply_error,
    candidate_required,
    letter_particulars_initial,
    page_of,
    perform,
    second_factor_redirect,
    staff_required,
    status_filter,
)
from registry.selectors import decision_for_application


def _appeal(request: HttpRequest, pk: int) -> Appeal:
    try:
        return selectors.appeal_get(user=request_user(request), pk=pk)
    except DomainError:
        raise Http404 from None


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    try:
        return selectors.complaint_get(user=request_user(request), pk=pk)
    except DomainError:
        raise Http404 from None


def _attachment_response(attachment: AppealAttachment | ComplaintAttachment) -> FileResponse:
    return FileResponse(
        attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
    )


def _appeal_attachment(appeal: Appeal, attachment_id: int) -> AppealAttachment:
    attachment = appeal.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment


def _complaint_attachment(complaint: Complaint, attachment_id: int) -> ComplaintAttachment:
    attachment = complaint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment


# --- The candidate --------------------------------------------------------------------------------


@candidate_required
def appeal_new(request: HttpRequest, attempt_id: int) -> HttpResponse:
    user = request_user(request)
    attempt = Attempt.objects.filter(pk=attempt_id, application__candidate=user).select_related("application").first()
    if attempt is None:
        raise Http404
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appeal = services.appeal_file(
                candidate=user,
                attempt=attempt,
                reasons=form.cleaned_data["reasons"],
                files=request.FILES.getlist("files"),
                token=form.cleaned_data["form_token"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Апелляция зарегистрирована: № %(n)s.") % {"n": appeal.number})
            return redirect("frontend:cabinet_appeal", pk=appeal.pk)
    closes = selectors.appeal_window_closes(attempt) if not attempt.is_active else None
    return render(request, "frontend/appeals/appeal_new.html", {"form": form, "attempt": attempt, "closes": closes})


@candidate_required
def cabinet_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidate's appeal. An upheld one says how many questions were re-scored or voided, not
    which: with the candidate's answers, which questions the commission re-scored tells their key."""
    appeal = _appeal(request, pk)
    review = attempt_review_counts(appeal.attempt) if appeal.status == Appeal.Status.UPHELD else None
    return render(request, "frontend/appeals/cabinet_appeal.html", {"appeal": appeal, "review": review})


@candidate_required
def cabinet_appeal_decision_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The commission's decision on the candidate's own appeal, with its reasons, as a PDF."""
    appeal = _appeal(request, pk)
    if appeal.decided_at is None:
        raise Http404
    appeal = services.appeal_decision_pdf(appeal=appeal)
    with appeal.decision_pdf.open("rb") as fh:
        content = fh.read()
    return HttpResponse(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="appeal-{appeal.number}.pdf"'},
    )


@candidate_required
def cabinet_appeal_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """The candidate's own file attached to the appeal (another's appeal is 404)."""
    return _attachment_response(_appeal_attachment(_appeal(request, pk), attachment_id))


@candidate_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    initial = {
        "last_name": user.last_name,
        "first_name": user.first_name,
        "patronymic": user.patronymic,
        "email": user.email,
    }
    form = ComplaintForm(request.POST or None, initial=initial)
    protocol = None
    evidence, attorney = request.FILES.getlist("evidence"), request.FILES.getlist("power_of_attorney")
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "document":
                # p.82: what to sign, from the form as filled in; nothing is saved, the page stays.
                content = services.complaint_signing_document(
                    data=form.cleaned_data, evidence=evidence, power_of_attorney=attorney
                )
                response = HttpResponse(content, content_type="application/json; charset=utf-8")
                response["Content-Disposition"] = 'attachment; filename="zhaloba.json"'
                return response
            upload = request.FILES.get("signature")
            complaint = services.complaint_file(
                data=form.cleaned_data,
                channel=Complaint.Channel.PORTAL,
                complainant=user,
                evidence=evidence,
                power_of_attorney=attorney,
                token=form.cleaned_data["form_token"],
                signature=read_upload(
                    upload,
                    name=upload.name or "signature",
                    limit=settings.QES_VERIFY_SIGNATURE_MAX_BYTES,
                    field="signature",
                )
                if upload
                else None,
            )
        except DomainError as exc:
            apply_error(form, exc)
            if "protocol" in exc.details:
                protocol = Protocol.from_json(exc.details["protocol"])
        else:
            messages.success(request, _("Жалоба зарегистрирована: № %(n)s.") % {"n": complaint.number})
            return redirect("frontend:cabinet_complaint", pk=complaint.pk)
    # The complainant's cases, each at its stage: which decision or action the complaint is about.
    cases = application_stage_pairs(user.applications.exclude(status=Application.Status.DRAFT).order_by("-created_at"))
    return render(
        request,
        "frontend/appeals/complaint_new.html",
        {
            "form": form,
            "paper": False,
            "cases": cases,
            "protocol": protocol,
            "files_to_choose_again": [upload.name for upload in [*evidence, *attorney]] if form.is_bound else [],
            "signature_file_types": SIGNATURE_FILE_TYPES,
        },
    )


def complaint_public(request: HttpRequest) -> HttpResponse:
    """The complaint of p.79 without a cabinet account, with its documents: held until the sender
    confirms the e-mail address by the link sent to it (appeals.services.complaint_confirmation_request).
    A signed-in candidate files from the cabinet."""
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("frontend:complaint_new")
    form = PublicComplaintForm(request.POST or None)
    evidence, attorney = request.FILES.getlist("evidence"), request.FILES.getlist("power_of_attorney")
    if request.method == "POST" and form.is_valid():
        try:
            confirmation = services.complaint_confirmation_request(
                data=form.cleaned_data, ip=client_ip(request), evidence=evidence, power_of_attorney=attorney
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            return render(request, "frontend/appeals/complaint_sent.html", {"email": confirmation.email})
    login_url = f"{reverse('frontend:login')}?next={reverse('frontend:complaint_new')}"
    return render(
        request,
        "frontend/appeals/complaint_new.html",
        {
            "form": form,
            "paper": False,
            "public": True,
            "login_url": login_url,
            "files_to_choose_again": [upload.name for upload in [*evidence, *attorney]] if form.is_bound else [],
        },
    )


def complaint_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: shows the held complaint and files it on the sender's confirmation (a POST,
    so that a mail program that opens links does not file it)."""
    try:
        confirmation = services.complaint_confirmation_get(token=token)
    except DomainError as exc:
        return render(
            request, "frontend/appeals/complaint_confirm.html", {"error": exc.message}, status=exc.status or 400
        )
    complaint = confirmation.complaint
    if request.method == "POST" and complaint is None:
        try:
            complaint = services.complaint_confirm(token=token)
        except DomainError as exc:
            return render(
                request, "frontend/appeals/complaint_confirm.html", {"error": exc.message}, status=exc.status or 400
            )
    held_subject = str(confirmation.data.get("subject") or "")
    subject = Complaint.Subject(held_subject).label if held_subject in Complaint.Subject.values else ""
    return render(
        request,
        "frontend/appeals/complaint_confirm.html",
        {"confirmation": confirmation, "complaint": complaint, "subject": subject},
    )


@candidate_required
def cabinet_complaint(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "frontend/appeals/cabinet_complaint.html", {"complaint": _complaint(request, pk)})


@candidate_required
def cabinet_complaint_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """The candidate's own file attached to the complaint (another's complaint is 404)."""
    return _attachment_response(_complaint_attachment(_complaint(request, pk), attachment_id))


def complaint_answer_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The answer, for the complainant and for staff (past the TOTP step when they turned it on)."""
    if not request.user.is_authenticated:
        raise Http404
    if request.user.is_staff and second_factor_pending(request.user):
        return second_factor_redirect(request)
    complaint = _complaint(request, pk)
    if not complaint.answer_pdf:
        raise Http404
    if request.user.is_staff:
        audit_file_viewed(
            case=complaint, viewer=request_user(request), what="complaint_answer_view", ip=client_ip(request)
        )
    return FileResponse(
        complaint.answer_pdf.open("rb"), filename=f"answer-{complaint.number}.pdf", content_type="application/pdf"
    )


# --- The appeals commission -----------------------------------------------------------------------

COMMISSION = (Role.APPEALS_MEMBER, Role.APPEALS_CHAIR, Role.AUDITOR)


@staff_required(*COMMISSION)
def appeal_list(request: HttpRequest) -> HttpResponse:
    appeals, status = status_filter(
        request, selectors.appeals_for(request_user(request)).select_related("candidate"), Appeal.Status
    )
    return render(
        request,
        "frontend/appeals/appeal_list.html",
        {
            "page": page_of(request, appeals.order_by("due_on", "pk")),
            "status": status,
            "statuses": Appeal.Status.choices,
        },
    )


@staff_required(*COMMISSION)
def appeal_staff(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = _appeal(request, pk)
    user = request_user(request)
    audit_file_viewed(case=appeal, viewer=user, what="appeal_view", ip=client_ip(request))
    votes = list(appeal.votes.select_related("member"))
    return render(
        request,
        "frontend/appeals/appeal_staff.html",
        {
            "appeal": appeal,
            "items": selectors.appeal_attempt_in_full(appeal),
            "events": appeal.attempt.events.all(),
            "votes": votes,
            "can_open": services.appeal_can_open(appeal=appeal, user=user),
            "can_vote": services.appeal_can_vote(appeal=appeal, user=user),
            "can_decide": services.appeal_can_decide(appeal=appeal, user=user),
            "vote_form": VoteForm(),
        },
    )


@staff_required(*COMMISSION)
def appeal_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """A file the candidate attached to the appeal, for the commission and auditors; each opening
    is logged (personal data)."""
    appeal = _appeal(request, pk)
    attachment = _appeal_attachment(appeal, attachment_id)
    audit_file_viewed(case=appeal, viewer=request_user(request), what="appeal_attachment_view", ip=client_ip(request))
    return _attachment_response(attachment)


@staff_required(Role.APPEALS_MEMBER, Role.APPEALS_CHAIR)
@require_POST
def appeal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    appeal = _appeal(request, pk)
    user = request_user(request)
    if action == "open":
        perform(request, lambda: services.appeal_open(appeal=appeal, by=user), success=_("Рассмотрение начато."))
    elif action == "vote":
        form = VoteForm(request.POST)
        if form.is_valid():
            perform(
                request,
                lambda: services.appeal_vote(
                    appeal=appeal,
                    member=user,
                    outcome=form.cleaned_data["outcome"],
                    rescore=form.cleaned_data["rescore"],
                    void=form.cleaned_data["void"],
                    opinion=form.cleaned_data["opinion"],
                ),
                success=_("Голос учтён."),
            )
        else:
            messages.error(request, "; ".join(str(m) for ms in form.errors.values() for m in ms))
    elif action == "decide":
        decision = AppealDecisionForm(request.POST)
        perform(
            request,
            lambda: services.appeal_decide(appeal=appeal, by=user, reasons=decision.cleaned_data["reasons"]),
            success=_("Решение по апелляции принято."),
            form=decision,
        )
    else:
        raise Http404
    return redirect("frontend:appeal_staff", pk=appeal.pk)


# --- Complaints -------------------------------------------------------------------------------------

# The signatory signs a letter corrected on an upheld complaint (appeals.selectors.complaints_visible_q).
COMPLAINT_STAFF = (Role.COMPLAINT_HANDLER, Role.REGISTRAR, Role.AUDITOR, Role.CERTIFICATE_OFFICER, Role.SIGNATORY)


@staff_required(*COMPLAINT_STAFF)
def complaint_list(request: HttpRequest) -> HttpResponse:
    complaints, status = status_filter(request, selectors.complaints_for(request_user(request)), Complaint.Status)
    return render(
        request,
        "frontend/appeals/complaint_list.html",
        {
            "page": page_of(request, complaints.order_by("status", "due_on", "pk")),
            "status": status,
            "statuses": Complaint.Status.choices,
        },
    )


@staff_required(Role.REGISTRAR)
def complaint_paper(request: HttpRequest) -> HttpResponse:
    form = PaperComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = dict(form.cleaned_data)
        try:
            complaint = services.complaint_file(
                data=data,
                channel=data["channel"],
                registered_by=request_user(request),
                received_at=data["received_at"],
                evidence=request.FILES.getlist("evidence"),
                power_of_attorney=request.FILES.getlist("power_of_attorney"),
                token=data["form_token"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Жалоба зарегистрирована: № %(n)s.") % {"n": complaint.number})
            return redirect("frontend:complaint_staff", pk=complaint.pk)
    return render(request, "frontend/appeals/complaint_new.html", {"form": form, "paper": True})


def _correction_forms(complaint: Complaint, user: Any) -> list[tuple[str, forms.Form]]:
    """For a correction of errors: a form for each document of the case this user may correct,
    filled with what the document now reads (the certificate's names and areas, the particulars the
    letter's current edition prints)."""
    rows: list[tuple[str, forms.Form]] = []
    for key, document in services.complaint_correctable_documents(complaint=complaint, user=user).items():
        form: forms.Form
        if key == services.CorrectedDocument.CERTIFICATE:
            initial = {name: getattr(document, name) for name in ("last_name", "first_name", "patronymic")}
            form = ComplaintCertificateCorrectionForm(
                initial={**initial, "areas": list(document.areas.all()), "document": key}, auto_id=f"{key}_%s"
            )
        else:
            initial = letter_particulars_initial(document, source=complaint.related_application)
            form = ComplaintLetterCorrectionForm(initial={**initial, "document": key}, auto_id=f"{key}_%s")
        rows.append((str(services.CorrectedDocument(key).label), form))
    return rows


@staff_required(*COMPLAINT_STAFF)
def complaint_staff(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    user = request_user(request)
    if request.method == "POST":  # p.93: the answer sent on paper
        dispatch_form = ComplaintAnswerDispatchForm(request.POST)
        if dispatch_form.is_valid():  # the service checks the role
            perform(
                request,
                lambda: services.complaint_answer_dispatch(
                    complaint=complaint,
                    by=user,
                    channel=dispatch_form.cleaned_data["channel"],
                    reference=dispatch_form.cleaned_data["reference"],
                ),
                success=_("Отправка ответа отмечена."),
            )
        else:
            messages.error(request, "; ".join(str(m) for ms in dispatch_form.errors.values() for m in ms))
        return redirect("frontend:complaint_staff", pk=pk)
    audit_file_viewed(case=complaint, viewer=user, what="complaint_view", ip=client_ip(request))
    repeat_of = selectors.complaint_repeats(complaint)
    initial: dict[str, Any] = (
        {"outcome": "refuse", "refusal_ground": Complaint.RefusalGround.REPEAT} if repeat_of else {}
    )
    last_position = selectors.complaint_handler_position_last(user)
    if last_position:
        initial["handler_position"] = last_position
    can_carry_out = services.complaint_can_carry_out_remedy(complaint=complaint, user=user)
    return render(
        request,
        "frontend/appeals/complaint_staff.html",
        {
            "complaint": complaint,
            "related_stage": application_stage(complaint.related_application)
            if complaint.related_application
            else None,
            "repeat_of": repeat_of,
            "can_decide": services.complaint_can_decide(complaint=complaint, user=user),
            "remedy_deadline": selectors.complaint_remedy_deadline(complaint),
            "remedy_role": ", ".join(str(ROLE_LABELS[role]) for role in services.remedy_roles(complaint.remedy)),
            "remedy_on_certificate": complaint.remedy in services.REMEDIES_ON_CERTIFICATE,
            "remedy_decision": decision_for_application(complaint.related_application)
            if complaint.remedy == Complaint.Remedy.CANCEL_ATTESTATION_REFUSAL and complaint.related_application
            else None,
            "can_carry_out": can_carry_out,
            "carry_out_form": ComplaintRemedyCarryOutForm(),
            "correction_forms": _correction_forms(complaint, user)
            if can_carry_out and complaint.remedy == Complaint.Remedy.CORRECT_ERRORS
            else [],
            "remedy_open": services.complaint_can_record_remedy(complaint=complaint, user=user),
            "form": ComplaintDecisionForm(initial=initial),
            "registration_due": selectors.complaint_registration_due(complaint),
            "registered_late": selectors.complaint_registered_late(complaint),
            "can_dispatch": services.complaint_answer_can_dispatch(complaint=complaint, user=user),
            "dispatch_form": ComplaintAnswerDispatchForm(),
        },
    )


@staff_required(*COMPLAINT_STAFF)
def complaint_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """A document attached to the complaint, for the staff who see the complaint; each opening is
    logged (personal data)."""
    complaint = _complaint(request, pk)
    attachment = _complaint_attachment(complaint, attachment_id)
    audit_file_viewed(
        case=complaint, viewer=request_user(request), what="complaint_attachment_view", ip=client_ip(request)
    )
    return _attachment_response(attachment)


@staff_required(Role.CERTIFICATE_OFFICER)
@require_POST
def complaint_remedy_done(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    form = ComplaintRemedyDoneForm(request.POST)
    perform(
        request,
        lambda: services.complaint_remedy_done(
            complaint=complaint, by=request_user(request), note=form.cleaned_data["note"]
        ),
        success=_("Исполнение отмечено."),
        form=form,
    )
    return redirect("frontend:complaint_staff", pk=pk)


@staff_required(*dict.fromkeys([*services.REMEDY_ROLES.values(), *services.CORRECTION_ROLES]))
@require_POST
def complaint_remedy_carry_out(request: HttpRequest, pk: int) -> HttpResponse:
    """The remedy of an upheld complaint carried out by its service (the role is the service's
    check); a correction of errors with the document chosen and its values as they should read."""
    complaint = _complaint(request, pk)
    user = request_user(request)
    form: ComplaintRemedyCarryOutForm | ComplaintCertificateCorrectionForm | ComplaintLetterCorrectionForm
    if complaint.remedy == Complaint.Remedy.CORRECT_ERRORS:
        certificate = request.POST.get("document") == services.CorrectedDocument.CERTIFICATE
        correction = (ComplaintCertificateCorrectionForm if certificate else ComplaintLetterCorrectionForm)(
            request.POST
        )
        form = correction

        def action() -> object:
            return services.complaint_remedy_carry_out(
                complaint=complaint,
                by=user,
                correction=services.ErrorCorrection(
                    document=correction.cleaned_data["document"], changes=correction.changes()
                ),
            )
    else:
        form = ComplaintRemedyCarryOutForm(request.POST)

        def action() -> object:
            return services.complaint_remedy_carry_out(complaint=complaint, by=user)

    perform(
        request,
        action,
        success=_("Мера по жалобе исполнена: %(remedy)s.") % {"remedy": complaint.get_remedy_display()},
        form=form,
    )
    return redirect("frontend:complaint_staff", pk=pk)


@staff_required(Role.COMPLAINT_HANDLER)
@require_POST
def complaint_decide(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    form = ComplaintDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(m) for ms in form.errors.values() for m in ms))
        return redirect("frontend:complaint_staff", pk=pk)
    data = form.cleaned_data
    perform(
        request,
        lambda: services.complaint_decide(
            complaint=complaint,
            by=request_user(request),
            outcome=data["outcome"],
            text=data["text"],
            remedy=data["remedy"],
            refusal_ground=data["refusal_ground"],
            silence_ground=data["silence_ground"],
            address_readable=data["address_readable"],
            handler_position=data["handler_position"],
        ),
        success=_("Решение по жалобе принято; ответ формируется и направляется заявителю."),
    )
    return redirect("frontend:complaint_staff", pk=pk)
