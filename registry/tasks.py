"""Celery tasks of the registry: draft the attestation decision after an attempt, and the sweeper."""

from __future__ import annotations

from celery import shared_task


@shared_task
def attestation_decision_draft(attempt_id: int) -> None:
    from exam.models import Attempt
    from registry.services import attestation_decision_draft as draft

    attempt = Attempt.objects.filter(pk=attempt_id).first()
    if attempt is not None:
        draft(attempt=attempt)


@shared_task
def attestation_decision_sweep() -> int:
    """Safety net: every decision that is stale (p.58) and not carried out is superseded, and every
    finished attempt that is a person's last and has no current decision gets one."""
    from django.db import transaction
    from django.utils.translation import gettext as _

    from registry.selectors import attempts_awaiting_decision, decisions_stale
    from registry.services import attestation_decision_draft as draft
    from registry.services import attestation_decisions_supersede_stale

    persons_done: set[str] = set()
    for decision in decisions_stale()[:1000]:
        if decision.application.person_key in persons_done:
            continue  # one pass of the rule covers every decision of the person
        persons_done.add(decision.application.person_key)
        with transaction.atomic():
            attestation_decisions_supersede_stale(
                application=decision.application,
                by=None,
                reason=_("Решение не соответствует последнему результату испытания заявителя (п. 58)."),
            )
    count = 0
    for attempt in attempts_awaiting_decision()[:1000]:
        if draft(attempt=attempt) is not None:
            count += 1
    return count


@shared_task(bind=True, max_retries=10, default_retry_delay=30)
def certificate_render_pdf(self, certificate_id: int) -> None:  # type: ignore[no-untyped-def]
    from registry.models import Certificate
    from registry.services import certificate_editions_render_replaced, certificate_render

    certificate = Certificate.objects.filter(pk=certificate_id).first()
    if certificate is None:
        return
    try:
        certificate_render(certificate=certificate)
        certificate_editions_render_replaced(certificate=certificate)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def certificate_pdf_sweep() -> int:
    """Safety net: render the PDF of every certificate that has none (a lost task), of its current
    edition after a correction or a duplicate too, and the stamped copy of every replaced edition."""
    from django.db.models import Q

    from registry.models import AttestationDecision, Certificate, CertificateEdition

    unstamped = CertificateEdition.objects.filter(replaced_at__isnull=False, replaced_pdf="")
    ids = list(
        Certificate.objects.filter(
            Q(pdf="", decision__isnull=False) | Q(pdf="", editions__number__gt=1) | Q(editions__in=unstamped)
        )
        .values_list("pk", flat=True)
        .distinct()[:200]
    )
    for certificate_id in ids:
        certificate_render_pdf.delay(certificate_id)
    decisions = list(AttestationDecision.objects.filter(pdf="", status="signed").values_list("pk", flat=True)[:200])
    # ... and the decisions rendered for e-mail and not sent (a lost task or a mail server down).
    decisions += list(
        AttestationDecision.objects.filter(
            status="signed",
            superseded=False,
            dispatched_at__isnull=True,
            application__candidate__isnull=True,
        )
        .exclude(pdf="")
        .exclude(application__email="")
        .order_by("signed_at")
        .values_list("pk", flat=True)[:200]
    )
    for decision_id in decisions:
        decision_render_pdf.delay(decision_id)
    return len(ids) + len(decisions)


@shared_task(bind=True, max_retries=10, default_retry_delay=30)
def decision_render_pdf(self, decision_id: int) -> None:  # type: ignore[no-untyped-def]
    """Render the signed decision's PDF; an applicant without a cabinet account who gave an e-mail
    address gets it by e-mail (p.64)."""
    from registry.models import AttestationDecision
    from registry.services import attestation_decision_email, decision_render

    decision = AttestationDecision.objects.select_related("application").filter(pk=decision_id).first()
    if decision is None:
        return
    try:
        decision = decision_render(decision=decision)
        attestation_decision_email(decision=decision)
    except OSError as exc:
        raise self.retry(exc=exc) from exc
