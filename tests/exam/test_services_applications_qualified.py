"""An application signed with a qualified electronic signature (p.19, p.39; seed 003 p.16(4), p.27.1):
the candidate signs the canonical document of the draft with their own tools (here OpenSSL's GOST
engine, tests/pki.py); every check passed registers it as the code does, a failed check refuses
acceptance naming the checks and the points of art. 11 of 63-FZ, and the draft can be signed again."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import TestCase

from core.errors import DomainError
from core.models import AuditEvent, Notification
from exam.admission import selectors, services
from exam.models import Application, Attachment, Submission
from tests.conftest import fill_application, upload

pytestmark = pytest.mark.django_db


def to_sign(application: Application) -> bytes:
    """What the candidate downloads and signs: the canonical document of the current draft."""
    application.refresh_from_db()
    return selectors.document_bytes(selectors.application_document(application))


def submit(application: Application, by: Any, signature: bytes) -> Submission:
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.application_submit_qualified(application=application, by=by, signature=signature, ip="10.0.0.1")


@pytest.fixture
def draft(alice: Any) -> Application:
    application = services.application_start(candidate=alice)
    return fill_application(application, alice)


def test_a_valid_qualified_signature_registers_the_application(draft, alice, pki, trusted):
    signature = pki.signer.sign(to_sign(draft))

    submission = submit(draft, alice, signature)

    draft.refresh_from_db()
    assert draft.status == Application.Status.REGISTERED and draft.registration_number
    assert submission.outcome == Submission.Outcome.ACCEPTED
    assert submission.signature_method == "qes" and bytes(submission.signature) == signature
    assert submission.verification is not None and submission.verification.ok
    assert submission.verification.certificate["owner"] == "Алексеева Алиса Петровна"
    # the same receipt and audit as with the simple signature
    assert "Электронная расписка" in mail.outbox[-1].body
    assert AuditEvent.objects.filter(case_id=draft.pk, verb="register", to_state="registered").exists()
    check = services.signature_verify(submission=submission)
    assert check.valid and check.protocol is not None and check.protocol.ok


def test_pem_and_base64_signature_files_are_accepted(draft, alice, pki, trusted):
    import base64

    signature = base64.encodebytes(pki.signer.sign(to_sign(draft)))

    assert submit(draft, alice, signature).outcome == Submission.Outcome.ACCEPTED


def refused(application: Application, submission: Submission) -> str:
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    assert application.registration_number is None
    assert submission.outcome == Submission.Outcome.NOT_ACCEPTED
    assert bytes(submission.signature)  # kept with its protocol
    return " ".join(application.not_accepted_reasons)


def test_an_attachment_changed_after_signing_is_refused_naming_the_integrity_check(draft, alice, pki, trusted):
    signature = pki.signer.sign(to_sign(draft))
    diploma = draft.attachments.get(kind=Attachment.Kind.HIGHER_EDUCATION)
    services.attachment_remove(attachment=diploma, by=alice)
    services.attachment_add(
        application=draft,
        by=alice,
        kind=Attachment.Kind.HIGHER_EDUCATION,
        upload=upload("other.pdf", b"%PDF-1.4\nanother diploma\n%%EOF"),
    )

    submission = submit(draft, alice, signature)

    reasons = refused(draft, submission)
    assert "п. 3 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ" in reasons
    assert "изменены после подписания" in reasons
    assert [c.code for c in submission.verification.failed] == ["integrity"]
    # the notice in the cabinet and by e-mail names the failed check
    note = Notification.objects.filter(recipient=alice).latest("id")
    assert note.subject == "Отказ в приёме документов к рассмотрению"
    assert "п. 3 ст. 11" in note.body and "подпишите заявление снова" in note.body
    assert "п. 3 ст. 11" in mail.outbox[-1].body
    event = AuditEvent.objects.get(case_id=draft.pk, verb="refuse_acceptance")
    assert event.data["failed_checks"] == ["integrity"]


def test_somebody_elses_certificate_is_refused_under_p16_1(draft, alice, pki, trusted):
    submission = submit(draft, alice, pki.stranger.sign(to_sign(draft)))

    reasons = refused(draft, submission)
    assert "пп. 1 п. 16 Административного регламента" in reasons
    assert [c.code for c in submission.verification.failed] == ["signer"]


def test_a_revoked_certificate_is_refused_under_art_11_p2(draft, alice, pki, trusted):
    submission = submit(draft, alice, pki.revoked.sign(to_sign(draft)))

    reasons = refused(draft, submission)
    assert "п. 2 ст. 11" in reasons and "отозван" in reasons


def test_without_the_trusted_list_the_issuer_is_not_accredited(draft, alice, pki):
    submission = submit(draft, alice, pki.signer.sign(to_sign(draft)))

    assert "п. 1 ст. 11" in refused(draft, submission)


def test_after_a_refusal_the_untouched_draft_is_signed_again_and_registered(draft, alice, pki, trusted):
    attachments = list(draft.attachments.values_list("pk", "sha256"))
    submit(draft, alice, pki.stranger.sign(to_sign(draft)))
    draft.refresh_from_db()
    assert list(draft.attachments.values_list("pk", "sha256")) == attachments  # nothing lost

    submission = submit(draft, alice, pki.signer.sign(to_sign(draft)))

    draft.refresh_from_db()
    assert submission.outcome == Submission.Outcome.ACCEPTED
    assert draft.status == Application.Status.REGISTERED and draft.not_accepted_reasons == []
    assert draft.submissions.count() == 2


def test_a_second_submission_of_the_same_signature_is_refused_and_registers_once(draft, alice, pki, trusted):
    signature = pki.signer.sign(to_sign(draft))
    submit(draft, alice, signature)

    with pytest.raises(DomainError) as err:
        submit(draft, alice, signature)

    assert err.value.status == 409
    assert draft.submissions.count() == 1


def test_a_file_that_is_not_a_signature_is_a_form_error_and_nothing_is_submitted(draft, alice, trusted):
    with pytest.raises(DomainError) as err:
        submit(draft, alice, b"%PDF-1.4 not a signature")

    assert "signature" in err.value.fields
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT and not draft.submissions.exists()


def test_another_candidate_cannot_submit_alices_application(draft, oscar, pki, trusted):
    with pytest.raises(DomainError) as err:
        submit(draft, oscar, pki.signer.sign(to_sign(draft)))

    assert err.value.status == 404


def test_a_stored_signature_whose_file_is_changed_later_fails_the_recheck(draft, alice, pki, trusted):
    submission = submit(draft, alice, pki.signer.sign(to_sign(draft)))
    attachment = draft.attachments.first()
    with attachment.file.open("wb") as fh:
        fh.write(b"%PDF-1.4\nswapped\n%%EOF")

    check = services.signature_verify(submission=submission)

    assert not check.valid
    assert any("изменён после подписания" in p for p in check.problems)


def test_a_stored_signature_over_a_changed_document_fails_the_integrity_recheck(draft, alice, pki, trusted):
    submission = submit(draft, alice, pki.signer.sign(to_sign(draft)))
    document = dict(submission.document, personal_data_consent=False)
    Submission.objects.filter(pk=submission.pk).update(document=document, digest=selectors.document_digest(document))
    submission.refresh_from_db()

    check = services.signature_verify(submission=submission)

    assert not check.valid
    assert check.protocol is not None and [c.code for c in check.protocol.failed] == ["integrity"]
