"""The simple electronic signature stays verifiable: its record binds signer and time under a MAC,
and the files an earlier submission signed are never deleted by later edits of the draft."""

import os
from datetime import timedelta

import pytest

from core.models import AuditEvent
from exam.admission import services
from exam.models import Application, Attachment, Submission
from tests.conftest import complete_payload, fill_application, sign_and_submit, upload


@pytest.fixture
def submission(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    return sign_and_submit(application, alice)


def test_signature_record_carries_a_mac_over_signer_time_and_challenge(submission, alice):
    submission.refresh_from_db()
    assert submission.signer_email == alice.email
    assert submission.challenge is not None and submission.challenge.used_at == submission.signed_at
    assert len(submission.signature_mac) == 64
    assert services.signature_verify(submission=submission).valid


def test_changing_the_signer_breaks_the_signature(submission, oscar):
    Submission.objects.filter(pk=submission.pk).update(signer=oscar)
    submission.refresh_from_db()
    check = services.signature_verify(submission=submission)
    assert not check.valid
    assert any("Запись о подписи изменена" in p for p in check.problems)


def test_changing_the_signers_email_breaks_the_signature(submission):
    Submission.objects.filter(pk=submission.pk).update(signer_email="someone@example.ru")
    submission.refresh_from_db()
    assert not services.signature_verify(submission=submission).valid


def test_changing_the_signing_time_breaks_the_signature(submission):
    Submission.objects.filter(pk=submission.pk).update(signed_at=submission.signed_at - timedelta(days=3))
    submission.refresh_from_db()
    check = services.signature_verify(submission=submission)
    assert not check.valid
    assert any("Запись о подписи изменена" in p for p in check.problems)


def test_changing_document_and_digest_together_breaks_the_signature(submission):
    from exam.admission.selectors import document_digest

    document = dict(submission.document, personal_data_consent=False)
    Submission.objects.filter(pk=submission.pk).update(document=document, digest=document_digest(document))
    submission.refresh_from_db()
    assert not services.signature_verify(submission=submission).valid


def test_record_signed_before_the_mac_existed_is_reported_unsigned_not_a_crash(submission):
    Submission.objects.filter(pk=submission.pk).update(signature_mac="")
    submission.refresh_from_db()
    check = services.signature_verify(submission=submission)
    assert not check.valid
    assert any("не заверена" in p for p in check.problems)


def test_the_migration_binds_the_records_signed_before_the_mac_existed(submission):
    """exam 0006 fills the signer's e-mail, the code's challenge and the MAC of earlier submissions:
    they verify after the deploy as they did before it."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("exam.migrations.0006_attachment_detached_signature_mac")
    challenge_id = submission.challenge_id
    assert challenge_id is not None
    Submission.objects.filter(pk=submission.pk).update(signature_mac="", signer_email="", challenge=None)
    migration.bind_earlier_signatures(apps, None)
    submission.refresh_from_db()
    assert submission.challenge_id == challenge_id and submission.signer_email == submission.signer.email
    assert services.signature_verify(submission=submission).valid


def test_a_different_key_does_not_verify_the_record(submission, settings):
    settings.SIGNATURE_MAC_KEY = "another-key-" + "x" * 40
    assert not services.signature_verify(submission=submission).valid


def test_earlier_submission_stays_verifiable_after_its_file_is_removed_and_the_case_resubmitted(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    services.attachment_add(application=application, by=alice, kind="higher_education", upload=upload("old.pdf"))
    services.attachment_add(application=application, by=alice, kind="qualification", upload=upload("q.pdf"))
    first = sign_and_submit(application, alice)  # the work book is missing: refused acceptance (p.19)
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED

    old = application.attachments.get(kind="higher_education")
    old_path = old.file.path
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.attachment_remove(attachment=old, by=alice)
    # Gone from the draft, kept on disk for the first submission.
    assert not application.attachments.filter(pk=old.pk).exists()
    assert os.path.exists(old_path)
    assert AuditEvent.objects.filter(verb="attachment_remove", data__kept_for_submission=True).exists()

    services.attachment_add(application=application, by=alice, kind="higher_education", upload=upload("new.pdf"))
    services.attachment_add(application=application, by=alice, kind="experience", upload=upload("book.pdf"))
    second = sign_and_submit(application, alice)
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED
    assert "old.pdf" not in {a["name"] for a in second.document["attachments"]}

    assert services.signature_verify(submission=first).valid
    assert services.signature_verify(submission=second).valid


def test_removing_a_file_no_submission_signed_deletes_it(alice):
    from django.test import TestCase

    application = services.application_start(candidate=alice)
    services.application_save_draft(application=application, by=alice, cleaned={})
    attachment = services.attachment_add(application=application, by=alice, kind="experience", upload=upload())
    path = attachment.file.path
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.attachment_remove(attachment=attachment, by=alice)
    assert not os.path.exists(path)
    assert not Attachment.all_objects.filter(pk=attachment.pk).exists()


def test_removed_signed_file_no_longer_counts_for_the_draft(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, complete_payload(postal_address=""))
    sign_and_submit(application, alice)  # refused: the postal address is empty
    attachment = application.attachments.get(kind="experience")
    services.attachment_remove(attachment=attachment, by=alice)
    from exam.admission.selectors import application_document, application_missing_items

    application.refresh_from_db()
    assert any("трудовой книжки" in m for m in application_missing_items(application))
    assert attachment.pk not in {a["id"] for a in application_document(application)["attachments"]}
