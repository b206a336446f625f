"""Staff pages of decisions on attestation, certificates and annulment."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import LetterDispatchForm
from core.http import client_ip, request_user
from core.roles import Role, has_role
from core.services import audit_file_viewed
from frontend.views.common import (
    letter_correct_post,
    letter_correction_form,
    letter_dispatch_post,
    letter_editions_rows,
    letter_pdf_response,
    page_of,
    perform,
    staff_required,
)
from registry import selectors, services
from registry.forms import (
    AnnulmentRequestForm,
    CertificateCorrectForm,
    CertificateDuplicateForm,
    CertificateIssueForm,
    HandoverForm,
    NoteForm,
)
from registry.models import Annulment, AttestationDecision, Certificate

STAFF = (Role.SIGNATORY, Role.CERTIFICATE_OFFICER, Role.AUDITOR)


@staff_required(*STAFF)
def attestation_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/certificates/queue.html",
        {
            "to_sign": selectors.attestation_drafts_to_sign().select_related("application"),
            "to_issue": AttestationDecision.objects.filter(
                status=AttestationDecision.Status.SIGNED,
                kind=AttestationDecision.Kind.ATTESTED,
                superseded=False,
                certificate__isnull=True,
            ).select_related("application"),
            "to_publish": Certificate.objects.filter(published_at__isnull=True),
            "annulments": Annulment.objects.filter(status=Annulment.Status.REQUESTED).select_related(
                "certificate", "reason"
            ),
        },
    )


def _decision(pk: int) -> AttestationDecision:
    decision = AttestationDecision.objects.select_related("application", "attempt", "signed_by").filter(pk=pk).first()
    if decision is None:
        raise Http404
    return decision


@staff_required(*STAFF, Role.REGISTRAR)
def attestation_decision(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    user = request_user(request)
    audit_file_viewed(case=decision.application, viewer=user, what="attestation_view", ip=client_ip(request))
    certificate = Certificate.objects.filter(decision=decision).first()
    not_current = "" if certificate is not None else services.attestation_decision_current_error(decision)
    can_correct = services.attestation_decision_can_correct(decision=decision, user=user)
    return render(
        request,
        "frontend/certificates/decision.html",
        {
            "decision": decision,
            "certificate": certificate,
            "not_current": not_current,
            "can_sign": services.attestation_decision_can_sign(decision=decision, user=user),
            "can_issue": services.certificate_can_issue(decision=decision, user=user),
            "issue_form": CertificateIssueForm(),
            # A candidate with a cabinet account receives it there; the paper dispatch is for the others.
            "can_dispatch": decision.application.candidate_id is None
            and services.attestation_decision_can_dispatch(decision=decision, user=user),
            "dispatch_form": LetterDispatchForm(),
            "editions": letter_editions_rows(decision, user=user),
            "correction_form": letter_correction_form(decision, source=decision.application) if can_correct else None,
        },
    )


@staff_required(*STAFF, Role.REGISTRAR)
def attestation_decision_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The signed decision, for the registrar to print and post (p.64); each opening is logged."""
    decision = _decision(pk)
    if not decision.pdf:
        raise Http404
    audit_file_viewed(
        case=decision.application, viewer=request_user(request), what="attestation_pdf_view", ip=client_ip(request)
    )
    return letter_pdf_response(request, decision, original=decision.pdf, filename=f"decision-{decision.pk}.pdf")


@staff_required(Role.SIGNATORY)
@require_POST
def attestation_decision_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """p.78(g): a signatory issues a corrected edition of the decision on attestation."""
    decision = _decision(pk)
    letter_correct_post(
        request,
        lambda **data: services.attestation_decision_correct(decision=decision, by=request_user(request), **data),
    )
    return redirect("frontend:attestation_decision", pk=pk)


@staff_required(Role.REGISTRAR)
@require_POST
def attestation_decision_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """p.64: the registrar records that the decision went out on paper."""
    decision = _decision(pk)
    letter_dispatch_post(
        request,
        lambda channel, reference: services.attestation_decision_dispatch(
            decision=decision, by=request_user(request), channel=channel, reference=reference
        ),
    )
    return redirect("frontend:attestation_decision", pk=pk)


@staff_required(Role.SIGNATORY)
@require_POST
def attestation_decision_sign(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    perform(
        request,
        lambda: services.attestation_decision_sign(decision=decision, by=request_user(request)),
        success=_("Решение подписано и направлено заявителю."),
    )
    return redirect("frontend:attestation_decision", pk=pk)


@staff_required(Role.CERTIFICATE_OFFICER)
@require_POST
def certificate_issue(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _decision(pk)
    form = CertificateIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Укажите хотя бы одну область деятельности."))
        return redirect("frontend:attestation_decision", pk=pk)
    result: dict[str, Certificate] = {}

    def issue() -> None:
        result["certificate"] = services.certificate_issue(
            decision=decision,
            by=request_user(request),
            areas=list(form.cleaned_data["areas"]),
            publish=form.cleaned_data["publish"],
        )

    if perform(request, issue, success=_("Сертификат выдан.")):
        return redirect("frontend:certificate_staff", pk=result["certificate"].pk)
    return redirect("frontend:attestation_decision", pk=pk)


@staff_required(*STAFF)
def certificate_list(request: HttpRequest) -> HttpResponse:
    certificates = Certificate.objects.order_by("-issued_on", "-id")
    query = request.GET.get("q", "").strip()
    if query:
        certificates = certificates.filter(Q(number__icontains=query) | Q(last_name__icontains=query))
    status = request.GET.get("status", "")
    if status in Certificate.Status.values:
        certificates = certificates.filter(selectors.status_q(status))
    return render(
        request,
        "frontend/certificates/list.html",
        {
            "page": page_of(request, certificates),
            "q": query,
            "status": status,
            "statuses": Certificate.Status.choices,
        },
    )


def _certificate(pk: int) -> Certificate:
    certificate = Certificate.objects.select_related("decision", "annulment_reason").filter(pk=pk).first()
    if certificate is None:
        raise Http404
    return certificate


@staff_required(*STAFF)
def certificate_staff(request: HttpRequest, pk: int) -> HttpResponseBase:
    certificate = _certificate(pk)
    user = request_user(request)
    if "annulment_basis" in request.GET:
        return _annulment_basis_file(request, certificate, request.GET["annulment_basis"])
    if "annulment_finding" in request.GET:
        return _annulment_basis_file(request, certificate, request.GET["annulment_finding"], finding=True)
    pending = (
        certificate.annulments.filter(status=Annulment.Status.REQUESTED)
        .select_related("reason", "requested_by", "expertise_finding")
        .first()
    )
    return render(
        request,
        "frontend/certificates/certificate.html",
        {
            "certificate": certificate,
            "history": certificate.history.all(),
            "annulments": certificate.annulments.select_related(
                "reason", "requested_by", "decided_by", "expertise_finding"
            ),
            "pending": pending,
            "editions": selectors.certificate_editions(certificate),
            "can_correct": services.certificate_can_correct(certificate=certificate, user=user),
            "can_duplicate": services.certificate_can_issue_duplicate(certificate=certificate, user=user),
            "correct_form": CertificateCorrectForm.for_certificate(certificate),
            "duplicate_form": CertificateDuplicateForm(prefix="duplicate"),
            "is_officer": has_role(user, Role.CERTIFICATE_OFFICER),
            "can_decide": pending is not None and services.annulment_can_confirm(annulment=pending, user=user),
            "handover_form": HandoverForm(),
            "annul_form": AnnulmentRequestForm(),
            "note_form": NoteForm(),
        },
    )


def _annulment_basis_file(
    request: HttpRequest, certificate: Certificate, annulment_id: str, *, finding: bool = False
) -> FileResponse:
    """The copy of an annulment's basis document, or with ``finding`` of the conclusion of a state
    expertise it rests on, for the signatory who confirms it (logged: it may carry personal data)."""
    annulment = (
        certificate.annulments.filter(pk=int(annulment_id)).select_related("expertise_finding").first()
        if annulment_id.isascii() and annulment_id.isdigit()
        else None
    )
    record = annulment.finding if annulment is not None and finding else None
    if annulment is None or (finding and record is None):
        raise Http404
    file = record.document if record is not None else annulment.basis_file
    if not file:
        raise Http404
    what = "annulment_finding_view" if finding else "annulment_basis_view"
    audit_file_viewed(case=annulment, viewer=request_user(request), what=what, ip=client_ip(request))
    name = file.name.rsplit("/", 1)[-1]
    return FileResponse(file.open("rb"), filename=f"annulment-{certificate.number}-{name}")


@staff_required(*STAFF)
def certificate_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The current PDF, or with ``?edition=n`` that edition's: a replaced one's copy stamped
    «заменён», or with ``&as_issued=1`` its file as issued (kept for the audit)."""
    certificate = _certificate(pk)
    number = request.GET.get("edition", "")
    file, filename = certificate.pdf, f"certificate-{certificate.number}.pdf"
    if number:
        edition = (
            certificate.editions.filter(number=int(number)).first() if number.isascii() and number.isdigit() else None
        )
        if edition is None:
            raise Http404
        file = edition.pdf if "as_issued" in request.GET or not edition.replaced_pdf else edition.replaced_pdf
        filename = f"certificate-{certificate.number}-{edition.number}.pdf"
    if not file:
        raise Http404
    return FileResponse(file.open("rb"), filename=filename, content_type="application/pdf")


@staff_required(Role.CERTIFICATE_OFFICER)
@require_POST
def certificate_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Publish, record the hand-over, issue a corrected edition or a duplicate, or ask to annul."""
    certificate = _certificate(pk)
    user = request_user(request)
    if action == "publish":
        perform(
            request,
            lambda: services.certificate_publish(certificate=certificate, by=user),
            success=_("Сведения внесены в реестр."),
        )
    elif action == "handover":
        form = HandoverForm(request.POST)
        if form.is_valid():
            perform(
                request,
                lambda: services.certificate_handover(
                    certificate=certificate,
                    by=user,
                    method=form.cleaned_data["method"],
                    tracking_number=form.cleaned_data["tracking_number"],
                ),
                success=_("Передача сертификата отмечена."),
            )
        else:
            messages.error(request, _("Проверьте способ передачи."))
    elif action == "annul":
        annul = AnnulmentRequestForm(request.POST, request.FILES)
        perform(
            request,
            lambda: services.annulment_request(
                certificate=certificate,
                by=user,
                reason=annul.cleaned_data["reason"],
                basis=annul.cleaned_data["basis"],
                comment=annul.cleaned_data["comment"],
                basis_file=annul.cleaned_data["basis_file"],
                finding=(
                    services.ExpertiseFindingData(**annul.cleaned_data["finding"])
                    if annul.cleaned_data["finding"]
                    else None
                ),
            ),
            success=_("Аннулирование направлено на подтверждение подписанту."),
            form=annul,
        )
    elif action == "correct":
        correct = CertificateCorrectForm(request.POST, prefix="correct")
        perform(
            request,
            lambda: services.certificate_correct(
                certificate=certificate,
                by=user,
                changes=correct.changes(),
                reason=correct.cleaned_data["reason"],
                basis=correct.cleaned_data["basis"],
                basis_reference=correct.cleaned_data["basis_reference"],
                request_date=correct.cleaned_data["request_date"],
                request_channel=correct.cleaned_data["request_channel"],
            ),
            success=_("Выдан исправленный экземпляр сертификата."),
            form=correct,
        )
    elif action == "duplicate":
        duplicate = CertificateDuplicateForm(request.POST, prefix="duplicate")
        perform(
            request,
            lambda: services.certificate_duplicate_issue(
                certificate=certificate,
                by=user,
                request_date=duplicate.cleaned_data["request_date"],
                request_channel=duplicate.cleaned_data["request_channel"],
                reason=duplicate.cleaned_data["reason"],
            ),
            success=_("Выдан дубликат сертификата."),
            form=duplicate,
        )
    else:
        raise Http404
    return redirect("frontend:certificate_staff", pk=pk)


@staff_required(Role.SIGNATORY)
@require_POST
def annulment_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    annulment = Annulment.objects.select_related("certificate").filter(pk=pk).first()
    if annulment is None or action not in ("confirm", "reject"):
        raise Http404
    user = request_user(request)
    form = NoteForm(request.POST)
    if action == "confirm":
        perform(
            request,
            lambda: services.annulment_confirm(annulment=annulment, by=user, note=form.cleaned_data["note"]),
            success=_("Сертификат аннулирован."),
            form=form,
        )
    else:
        perform(
            request,
            lambda: services.annulment_reject(annulment=annulment, by=user, note=form.cleaned_data["note"]),
            success=_("Аннулирование отклонено."),
            form=form,
        )
    return redirect("frontend:certificate_staff", pk=annulment.certificate_id)
