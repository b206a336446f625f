"""A corrected edition of the decision on attestation (p.78(g), p.88(a)): the addressee's particulars
printed on it are corrected, the decision (its kind, the score) never is; a new outgoing letter
signed by a signatory, marked as corrected, the one it replaces marked as replaced, sent like the
decision (p.64)."""

import pytest
from django.core import mail
from django.test import TestCase

from core.errors import DomainError
from core.letters import letter_edition_dispatch
from core.models import AuditEvent, LetterEdition, OutgoingLetter
from registry.models import AttestationDecision
from registry.services import attestation_decision_can_correct, attestation_decision_correct
from tests.conftest import pass_the_test
from tests.registry.test_services_dispatch import paper_attempt, sign


def words(file) -> str:
    from tests.exam.test_services_notices import pdf_text

    with file.open("rb") as fh:
        return " ".join(pdf_text(fh.read()).split()).replace("- ", "-")


def correct(decision: AttestationDecision, by, **changes: str) -> LetterEdition:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return attestation_decision_correct(
            decision=decision,
            by=by,
            changes=changes or {"first_name": "Алиса-Мария"},
            reason="Имя указано неверно.",
            basis=LetterEdition.Basis.COMPLAINT,
            basis_reference="Жалоба № Ж-2026-00012 от 01.10.2026",
        )


def test_a_signatory_corrects_the_name_on_the_decision_and_the_result_stays(exam_setup, sergey, alice):
    decision = sign(pass_the_test(exam_setup["credential"], correct=38), sergey)
    edition = correct(decision, sergey)
    decision.refresh_from_db()
    assert (decision.kind, decision.score, decision.status) == ("attested", 38, "signed")
    assert edition.changes == {"first_name": ["Алиса", "Алиса-Мария"]}
    assert edition.basis_reference == "Жалоба № Ж-2026-00012 от 01.10.2026"
    assert OutgoingLetter.objects.filter(number=edition.outgoing_number, kind="attestation_decision").exists()
    assert edition.outgoing_number != decision.outgoing_number

    text = words(edition.pdf)
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in text and "Алексеева Алиса-Мария Петровна" in text
    assert "38 из 40" in text and "Ж-2026-00012" in text
    replaced = words(edition.previous_pdf)
    assert "ЗАМЕНЁН" in replaced and "Алексеева Алиса Петровна" in replaced and decision.outgoing_number in replaced

    assert AuditEvent.objects.get(verb="letter_corrected", case_id=decision.pk).actor == sergey
    assert edition.dispatch_channel == "cabinet"
    assert alice.notifications.filter(
        subject="Исправленный экземпляр: Решение по результатам аттестационного испытания"
    ).exists()


def test_only_a_signatory_corrects_a_current_decision(exam_setup, sergey, olga, rita):
    decision = sign(pass_the_test(exam_setup["credential"], correct=38), sergey)
    for user in (olga, rita):
        assert not attestation_decision_can_correct(decision=decision, user=user)
        with pytest.raises(DomainError) as refused:
            correct(decision, user)
        assert refused.value.status == 403
    assert attestation_decision_can_correct(decision=decision, user=sergey)
    AttestationDecision.objects.filter(pk=decision.pk).update(superseded=True)
    decision.refresh_from_db()
    assert not attestation_decision_can_correct(decision=decision, user=sergey)
    with pytest.raises(DomainError) as superseded:
        correct(decision, sergey)
    assert superseded.value.code == "not_correctable"
    assert not LetterEdition.objects.exists()


def test_a_paper_applicant_gets_the_corrected_decision_by_post(rita, victor, sergey, eva):
    decision = sign(paper_attempt(rita, victor, sergey, eva, email="", correct=30), sergey)
    with pytest.raises(DomainError) as unsent:
        correct(decision, sergey)
    assert unsent.value.code == "not_dispatched"
    from registry.services import attestation_decision_dispatch

    attestation_decision_dispatch(decision=decision, by=rita, channel="post", reference="12712345678901")
    mail.outbox.clear()
    edition = correct(decision, sergey, postal_address="119019, г. Москва, ул. Арбат, д. 1, кв. 10")
    assert edition.dispatched_at is None and mail.outbox == []
    letter_edition_dispatch(edition=edition, by=rita, channel="post", reference="12712345678902")
    edition.refresh_from_db()
    assert edition.dispatch_channel == "post" and edition.dispatched_by == rita
    assert AuditEvent.objects.filter(verb="letter_edition_dispatch", case_id=decision.pk, actor=rita).exists()
