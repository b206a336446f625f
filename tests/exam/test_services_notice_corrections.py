"""A corrected edition of the admission notice or refusal letter (p.78(g), p.88(a)): only the
addressee's particulars printed on the letter change, never the decision; the edition is a new
outgoing letter signed by a signatory who may sign that kind of letter (p.49-50), marked as
corrected, the one it replaces kept and marked as replaced, sent by the one outbound path."""

import pytest
from django.core import mail
from django.test import TestCase

from core.errors import DomainError
from core.letters import letter_edition_dispatch
from core.models import AuditEvent, LetterEdition, OutgoingLetter, User
from exam.admission import services
from exam.models import Decision, Notice
from tests.conftest import make_user, registered_application
from tests.exam.test_services_notices import decide, paper_application, pdf_text

TYPO = {"last_name": "Алексеева-Петрова"}


def words(content: bytes) -> str:
    """The PDF's text with its line breaks as spaces (none after a hyphen, where a name may wrap)."""
    return " ".join(pdf_text(content).split()).replace("- ", "-")


def read(file) -> str:
    with file.open("rb") as fh:
        return words(fh.read())


def correct(notice: Notice, by, **changes: str) -> LetterEdition:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.notice_correct(
            notice=notice,
            by=by,
            changes=changes or TYPO,
            reason="Фамилия указана неверно.",
            basis=LetterEdition.Basis.REQUEST,
        )


def test_a_signatory_corrects_the_name_on_a_refusal_letter_and_the_decision_stays(alice, victor, sergey):
    application = registered_application(alice)
    notice = decide(application, victor, sergey)
    assert notice is not None
    decision = Decision.objects.get(pk=notice.decision_id)
    edition = correct(notice, sergey)

    assert edition.number == 2 and edition.changes == {"last_name": ["Алексеева", "Алексеева-Петрова"]}
    assert edition.particulars["first_name"] == "Алиса" and edition.issued_by == sergey
    # A new outgoing letter, in the journal; the letter as first sent keeps its number.
    assert edition.outgoing_number and edition.outgoing_number != decision.outgoing_number
    assert OutgoingLetter.objects.filter(number=edition.outgoing_number, kind="refusal_letter").exists()
    decision.refresh_from_db()
    application.refresh_from_db()
    assert (decision.kind, decision.grounds, decision.explanation) == ("refusal", ["a_training"], "71 час.")
    assert application.last_name == "Алексеева" and application.status == "refused"  # the signed entry stays

    text = read(edition.pdf)
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in text and "Алексеева-Петрова Алиса Петровна" in text
    assert edition.outgoing_number in text and decision.outgoing_number in text  # «взамен исх. № …»
    assert "72 часов" in text  # the ground of refusal is printed as signed
    replaced = read(edition.previous_pdf)
    assert "ЗАМЕНЁН" in replaced and edition.outgoing_number in replaced
    assert "Алексеева Алиса Петровна" in replaced and "ИСПРАВЛЕННЫЙ" not in replaced
    with notice.pdf.open("rb") as fh:
        assert "ЗАМЕНЁН" not in words(fh.read())  # the file sent is kept as it was

    event = AuditEvent.objects.get(verb="letter_corrected", case_id=application.pk)
    assert event.actor == sergey and event.reason == "Фамилия указана неверно."
    assert event.data["changes"] == {"last_name": ["Алексеева", "Алексеева-Петрова"]}
    assert event.data["replaces"] == decision.outgoing_number
    # The cabinet candidate receives it in the cabinet: that is its dispatch.
    assert edition.dispatch_channel == "cabinet" and edition.dispatched_at is not None
    assert alice.notifications.filter(subject__startswith="Исправленный экземпляр").exists()
    assert AuditEvent.objects.filter(verb="letter_edition_dispatch", case_id=application.pk).exists()


def test_only_the_addressees_particulars_are_corrected(alice, victor, sergey):
    notice = decide(registered_application(alice), victor, sergey)
    assert notice is not None
    with pytest.raises(DomainError) as refused:
        correct(notice, sergey, explanation="Другое пояснение")
    assert refused.value.code == "not_correctable" and "explanation" in refused.value.fields
    with pytest.raises(DomainError) as same:
        correct(notice, sergey, last_name="Алексеева", first_name="Алиса")
    assert same.value.code == "nothing_to_correct"
    with pytest.raises(DomainError) as bad:
        correct(notice, sergey, first_name="")
    assert "first_name" in bad.value.fields
    with pytest.raises(DomainError) as complaint:
        services.notice_correct(
            notice=notice, by=sergey, changes=TYPO, reason="Опечатка.", basis=LetterEdition.Basis.COMPLAINT
        )
    assert "basis_reference" in complaint.value.fields
    assert not LetterEdition.objects.exists()


def test_only_a_signatory_of_the_letters_position_signs_the_corrected_letter(alice, victor, sergey, rita):
    """p.49-50: a refusal letter, corrected or not, is signed by a deputy director."""
    notice = decide(registered_application(alice), victor, sergey)
    assert notice is not None
    director = make_user(
        "dina@mintrud.test", last="Директорова", first="Дина", roles=("signatory",), position=User.Position.DIRECTOR
    )
    for user, code in ((director, "signatory_position"), (victor, "forbidden"), (rita, "forbidden")):
        assert not services.notice_can_correct(notice=notice, user=user)
        with pytest.raises(DomainError) as refused:
            correct(notice, user)
        assert refused.value.code == code
    assert services.notice_can_correct(notice=notice, user=sergey)


def test_a_second_correction_replaces_the_first_edition(alice, victor, sergey):
    notice = decide(registered_application(alice), victor, sergey)
    assert notice is not None
    first = correct(notice, sergey, last_name="Алексеева-Петрова")
    second = correct(notice, sergey, postal_address="119019, г. Москва, ул. Арбат, д. 2")
    first.refresh_from_db()
    assert first.is_replaced and not second.is_replaced and second.number == 3
    assert second.particulars["last_name"] == "Алексеева-Петрова"  # the first correction holds
    assert second.changes == {
        "postal_address": ["119019, г. Москва, ул. Арбат, д. 1, кв. 1", "119019, г. Москва, ул. Арбат, д. 2"]
    }
    replaced = read(second.previous_pdf)
    assert "ЗАМЕНЁН" in replaced and "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in replaced and first.outgoing_number in replaced
    assert len({notice.outgoing_number, first.outgoing_number, second.outgoing_number}) == 3


def test_a_paper_applicant_gets_the_corrected_letter_at_the_corrected_email_address(rita, victor, sergey):
    application = paper_application(rita, email="anna.k@example.ru")
    notice = decide(application, victor, sergey)
    assert notice is not None
    mail.outbox.clear()
    edition = correct(notice, sergey, email="anna.k@example.com")
    message = next(m for m in mail.outbox if m.to == ["anna.k@example.com"])
    assert message.subject == "Исправленный экземпляр: Письмо об отказе в аттестационном испытании"
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in words(message.attachments[0][1])
    edition.refresh_from_db()
    assert edition.dispatch_channel == "email" and edition.dispatch_reference == "anna.k@example.com"


def test_a_paper_applicant_without_an_address_gets_it_by_post_recorded_by_the_registrar(rita, victor, sergey):
    application = paper_application(rita, email="")
    notice = decide(application, victor, sergey)
    assert notice is not None
    with pytest.raises(DomainError) as unsent:
        correct(notice, sergey)
    assert unsent.value.code == "not_dispatched"  # not issued yet: nothing to correct
    services.notice_dispatch(notice=notice, by=rita, channel="post", reference="12345678901234")
    mail.outbox.clear()
    edition = correct(notice, sergey)
    assert edition.dispatched_at is None and mail.outbox == []
    with pytest.raises(DomainError):
        letter_edition_dispatch(edition=edition, by=victor, channel="post", reference="12345678901235")
    letter_edition_dispatch(edition=edition, by=rita, channel="post", reference="1234 5678 9012 35")
    edition.refresh_from_db()
    assert edition.dispatch_channel == "post" and edition.dispatch_reference == "12345678901235"
    assert AuditEvent.objects.get(verb="letter_edition_dispatch", case_id=application.pk).actor == rita
    with pytest.raises(DomainError) as twice:
        letter_edition_dispatch(edition=edition, by=rita, channel="in_person", reference="")
    assert twice.value.code == "already_dispatched"
