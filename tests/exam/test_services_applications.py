"""Drafts, documents, the simple electronic signature, acceptance and registration."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from core.errors import DomainError, NotFound
from core.models import AuditEvent, Deadline, Notification
from exam.admission import selectors, services
from exam.models import Application, Attachment, Submission
from tests.conftest import PDF_BYTES, complete_payload, fill_application, png_bytes, sign_and_submit, upload

MSK = ZoneInfo("Europe/Moscow")


def test_candidate_starts_a_draft_prefilled_from_the_account(alice):
    application = services.application_start(candidate=alice)
    assert application.status == Application.Status.DRAFT
    assert (application.last_name, application.first_name, application.email) == (
        "Алексеева",
        "Алиса",
        "alice@example.ru",
    )
    assert services.application_start(candidate=alice) == application  # the same draft, not a second one


def test_draft_keeps_partial_data_and_replaces_entries_as_a_whole(alice):
    application = services.application_start(candidate=alice)
    payload = complete_payload(experience=[], postal_address="")
    fill_application(application, alice, payload, attachments=False)
    application.refresh_from_db()
    assert application.postal_address == ""
    assert application.higher_education.count() == 1
    fill_application(application, alice, complete_payload(higher_education=[]), attachments=False)
    assert application.higher_education.count() == 0
    assert application.experience.count() == 1


def test_renamed_executable_with_pdf_name_is_refused(alice):
    application = services.application_start(candidate=alice)
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
    with pytest.raises(DomainError) as err:
        services.attachment_add(
            application=application, by=alice, kind="higher_education", upload=upload("diploma.pdf", elf)
        )
    assert "не является документом PDF, JPEG или PNG" in err.value.message
    assert not Attachment.objects.exists()


def test_truncated_pdf_and_fake_png_are_refused(alice):
    application = services.application_start(candidate=alice)
    for name, content in [("a.pdf", b"%PDF-1.4\n garbage without end"), ("b.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)]:
        with pytest.raises(DomainError):
            services.attachment_add(application=application, by=alice, kind="experience", upload=upload(name, content))
    assert not Attachment.objects.exists()


def test_oversized_file_is_refused(alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    application = services.application_start(candidate=alice)
    big = PDF_BYTES[:-6] + b"0" * 2000 + b"%%EOF\n"
    with pytest.raises(DomainError) as err:
        services.attachment_add(application=application, by=alice, kind="experience", upload=upload("big.pdf", big))
    assert err.value.code == "file_too_large"
    assert "больше" in err.value.message
    assert not Attachment.objects.exists()


def test_png_and_pdf_are_accepted_with_their_digest(alice):
    import hashlib

    application = services.application_start(candidate=alice)
    png = png_bytes()
    attachment = services.attachment_add(
        application=application, by=alice, kind="experience", upload=upload("book.png", png, "image/png")
    )
    assert attachment.content_type == "image/png"
    assert attachment.sha256 == hashlib.sha256(png).hexdigest()
    assert attachment.file.read() == png


def test_submission_is_signed_with_the_emailed_code_and_registered(alice, outbox):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    submission = sign_and_submit(application, alice)
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED
    assert re.fullmatch(r"З-\d{4}-\d{5}", application.registration_number)
    assert submission.outcome == Submission.Outcome.ACCEPTED
    # The signature binds the signer, the time and the digest of exactly what was submitted.
    assert submission.signer == alice and submission.signed_at is not None
    assert submission.digest == selectors.document_digest(submission.document)
    assert {a["sha256"] for a in submission.document["attachments"]} == set(
        application.attachments.values_list("sha256", flat=True)
    )
    assert services.signature_verify(submission=submission).valid
    # A receipt in the cabinet and by e-mail (p.41).
    note = Notification.objects.get(recipient=alice, subject__contains=application.registration_number)
    assert "Электронная расписка" in note.body
    assert any(application.registration_number in m.subject for m in mail.outbox)
    # The decision deadline runs: 20 working days from registration (p.12(a)).
    deadline = Deadline.objects.get(kind=selectors.DEADLINE_DECISION)
    from core import calendar

    assert deadline.due_on == calendar.add_working_days(application.registration_date, 20)
    assert AuditEvent.objects.filter(verb="register", to_state="registered", actor=alice).exists()


def test_wrong_code_is_refused_and_counted(alice, settings):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.signature_request(application=application, by=alice)
    for _attempt in range(settings.SIGNATURE_CODE_MAX_ATTEMPTS):
        with pytest.raises(DomainError) as err:
            services.application_submit(application=application, by=alice, code="000000" if _attempt % 2 else "999999")
        if err.value.code != "code_invalid":
            break
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    with pytest.raises(DomainError) as err:
        services.application_submit(application=application, by=alice, code=code)
    assert err.value.code == "code_attempts"  # even the right code is refused after too many tries
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_code_signs_only_the_version_it_was_sent_for(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.signature_request(application=application, by=alice)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    # A file added after the code was sent changes what would be signed.
    extra = upload("extra.png", png_bytes(), "image/png")
    services.attachment_add(application=application, by=alice, kind="experience", upload=extra)
    with pytest.raises(DomainError) as err:
        services.application_submit(application=application, by=alice, code=code)
    assert err.value.code == "document_changed"
    assert not Submission.objects.exists()


def test_expired_code_is_refused(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    with (
        time_machine.travel(datetime(2026, 11, 19, 10, 0, tzinfo=MSK), tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        services.signature_request(application=application, by=alice)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    with time_machine.travel(datetime(2026, 11, 19, 10, 11, tzinfo=MSK), tick=False), pytest.raises(DomainError) as err:
        services.application_submit(application=application, by=alice, code=code)
    assert err.value.code == "code_expired"


def test_incomplete_set_is_refused_acceptance_with_exactly_what_is_missing(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    services.attachment_add(application=application, by=alice, kind="higher_education", upload=upload())
    services.attachment_add(application=application, by=alice, kind="experience", upload=upload())
    submission = sign_and_submit(application, alice)
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    assert application.registration_number is None
    assert submission.outcome == Submission.Outcome.NOT_ACCEPTED
    assert application.not_accepted_reasons == [
        "Не приложен документ: Копия документа о квалификации по программе не менее 72 часов по оценке условий труда (п. 15 «в»)"
    ]
    note = Notification.objects.get(recipient=alice, subject="Отказ в приёме документов к рассмотрению")
    assert "п. 15 «в»" in note.body
    assert not Deadline.objects.exists()
    # The candidate adds the missing document and submits again: now it is registered.
    services.attachment_add(application=application, by=alice, kind="qualification", upload=upload())
    sign_and_submit(application, alice)
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED
    assert application.registration_number
    assert application.submissions.count() == 2


def test_empty_required_fields_are_listed_as_missing(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, complete_payload(postal_address="", id_document_number="", experience=[]))
    sign_and_submit(application, alice)
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    reasons = " | ".join(application.not_accepted_reasons)
    assert "почтовый адрес" in reasons
    assert "серия и номер документа" in reasons
    assert "опыте практической работы" in reasons


def _submitted_at(candidate, moment):
    application = services.application_start(candidate=candidate)
    fill_application(application, candidate)
    with time_machine.travel(moment, tick=False):
        sign_and_submit(application, candidate)
    application.refresh_from_db()
    return application


def test_submission_on_a_saturday_is_registered_that_saturday(alice):
    """p.26: registered on the day it arrives; the 20 working days run from the next day, so the
    first of them is Monday 23.11 and the last Friday 18.12."""
    application = _submitted_at(alice, datetime(2026, 11, 21, 12, 0, tzinfo=MSK))
    assert application.registration_date == date(2026, 11, 21)
    assert application.registration_number.startswith("З-2026-")
    assert Deadline.objects.get(kind=selectors.DEADLINE_DECISION).due_on == date(2026, 12, 18)


def test_submission_after_office_hours_is_registered_the_same_day(alice):
    application = _submitted_at(alice, datetime(2026, 11, 19, 22, 30, tzinfo=MSK))  # Thursday, after 18:00
    assert application.registration_date == date(2026, 11, 19)
    assert Deadline.objects.get(kind=selectors.DEADLINE_DECISION).due_on == date(2026, 12, 17)


def test_submission_late_on_new_years_eve_is_registered_in_the_old_year(alice):
    """The Moscow date decides: 31.12 at 23:30 in Moscow is still 2026 (20:30 in UTC)."""
    application = _submitted_at(alice, datetime(2026, 12, 31, 23, 30, tzinfo=MSK))
    assert application.registration_date == date(2026, 12, 31)
    assert application.registration_number.startswith("З-2026-")


def test_paper_application_arriving_by_post_on_a_sunday_is_dated_that_sunday(rita, alice):
    from tests.conftest import cleaned

    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=MSK), tick=False):
        application = services.application_register_paper(
            by=rita,
            channel="mail",
            received_at=datetime(2026, 11, 22, 11, 0, tzinfo=MSK),
            cleaned=cleaned(complete_payload()),
            paper_documents=list(Attachment.Kind.values),
            candidate_email="alice@example.ru",
        )
    assert application.registration_date == date(2026, 11, 22)


def test_registered_application_can_no_longer_be_changed(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    sign_and_submit(application, alice)
    with pytest.raises(DomainError) as err:
        services.application_save_draft(
            application=application, by=alice, cleaned={"applicant": {"last_name": "Другая"}}
        )
    assert err.value.status == 409
    with pytest.raises(DomainError):
        services.attachment_add(application=application, by=alice, kind="experience", upload=upload())


def test_another_candidate_cannot_touch_the_draft(alice, oscar):
    application = services.application_start(candidate=alice)
    with pytest.raises(NotFound):
        services.application_save_draft(
            application=application, by=oscar, cleaned={"applicant": {"last_name": "Осипов"}}
        )
    with pytest.raises(NotFound):
        services.attachment_add(application=application, by=oscar, kind="experience", upload=upload())
    with pytest.raises(NotFound):
        services.signature_request(application=application, by=oscar)


def test_signature_verification_detects_a_changed_file(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    submission = sign_and_submit(application, alice)
    attachment = application.attachments.first()
    with open(attachment.file.path, "ab") as fh:
        fh.write(b"tampered")
    check = services.signature_verify(submission=submission)
    assert not check.valid
    assert f"Файл «{attachment.original_name}» изменён после подписания." in check.problems


def test_signature_verification_detects_a_changed_document(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    submission = sign_and_submit(application, alice)
    submission.document["applicant"]["last_name"] = "Подменова"
    assert not services.signature_verify(submission=submission).valid


def test_registrar_registers_a_complete_paper_application(rita, alice):
    from django.utils import timezone

    from tests.conftest import cleaned

    application = services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload()),
        paper_documents=list(Attachment.Kind.values),
        candidate_email="alice@example.ru",
    )
    assert application.status == Application.Status.REGISTERED
    assert application.channel == "mail"
    assert application.registered_by == rita
    assert application.candidate == alice
    submission = application.submissions.get()
    assert not submission.is_signed and submission.paper_documents == sorted(Attachment.Kind.values)


def test_incomplete_paper_application_is_refused_acceptance(rita):
    from django.utils import timezone

    from tests.conftest import cleaned

    application = services.application_register_paper(
        by=rita,
        channel="in_person",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload()),
        paper_documents=["higher_education"],
    )
    assert application.status == Application.Status.NOT_ACCEPTED
    assert len(application.not_accepted_reasons) == 2


def test_only_a_registrar_registers_paper_applications(victor):
    from django.utils import timezone

    with pytest.raises(DomainError) as err:
        services.application_register_paper(
            by=victor, channel="mail", received_at=timezone.now(), cleaned={}, paper_documents=[]
        )
    assert err.value.status == 403
    assert not Application.objects.exists()


def test_numbers_are_consecutive_within_a_year_and_restart_next_year(alice, oscar, settings):
    from tests.conftest import make_user

    zoe = make_user("zoe@example.ru", last="Зотова", first="Зоя")
    settings.APPLICATION_NUMBER_FORMAT = "{seq}/{year}"
    numbers = []
    # 01.01.2027 is a day off: that submission is registered on that day (p.26) and opens the 2027 series.
    moments = [
        (alice, datetime(2026, 12, 29, 10)),
        (oscar, datetime(2026, 12, 30, 10)),
        (zoe, datetime(2027, 1, 1, 10)),
    ]
    for candidate, moment in moments:
        application = services.application_start(candidate=candidate)
        fill_application(application, candidate)
        with time_machine.travel(moment.replace(tzinfo=MSK), tick=False):
            sign_and_submit(application, candidate)
        application.refresh_from_db()
        numbers.append(application.registration_number)
    assert numbers == ["1/2026", "2/2026", "1/2027"]


def test_an_application_is_submitted_in_its_own_transaction_never_inside_another(alice):
    """The submission takes the person's lock and sends its e-mails on commit: run inside a caller's
    transaction, both would wait for a commit the service does not control."""
    from django.db import transaction

    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.signature_request(application=application, by=alice)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.application_submit(application=application, by=alice, code=code)
    assert services.application_submit(application=application, by=alice, code=code).outcome == "accepted"
