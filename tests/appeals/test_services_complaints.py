"""Complaints (p.77-97): repeats across channels, late registration, the answer's content, signature
and dispatch, and the complainant's application."""

from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from pypdf import PdfReader

from appeals import selectors, services
from appeals.models import Complaint
from core.errors import DomainError
from core.models import AuditEvent, Deadline
from tests.conftest import client_for, complaint_data, make_user, registered_application

MSK = ZoneInfo("Europe/Moscow")
POSITION = "Заместитель Министра труда и социальной защиты Российской Федерации"
# A week of September 2026 without holidays: Monday 14 to Friday 18.
MONDAY = datetime(2026, 9, 14, 10, 0, tzinfo=MSK)


def at(day: int, hour: int = 11) -> datetime:
    return datetime(2026, 9, day, hour, 0, tzinfo=MSK)


def paper(rita, *, received_at=None, **overrides):
    """A complaint received by post and registered by the registrar (no cabinet account)."""
    return services.complaint_file(
        data=complaint_data(**overrides), channel="mail", registered_by=rita, received_at=received_at
    )


def decide(complaint, hanna, **kwargs):
    kwargs.setdefault("outcome", "refuse")
    kwargs.setdefault("refusal_ground", "unfounded")
    kwargs.setdefault("text", "Доводы не подтвердились.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_decide(complaint=complaint, by=hanna, handler_position=POSITION, **kwargs)
    complaint.refresh_from_db()
    return complaint


def pdf_text(complaint: Complaint) -> str:
    with complaint.answer_pdf.open("rb") as fh:
        return "".join(p.extract_text() for p in PdfReader(BytesIO(fh.read())).pages)


def on_time(kind_label: str, day: date) -> tuple[int, int] | None:
    from oversight.reports import period_report

    report = period_report(start=day.replace(day=1), end=day.replace(day=28))
    return next(((ok, total) for label, ok, total in report.on_time if label == kind_label), None)


# --- p.91(c): repeats, from whichever channel -------------------------------------------------------


def test_a_cabinet_complaint_repeating_a_decided_paper_complaint_can_only_be_refused_on_91c(alice, rita, hanna):
    application = registered_application(alice)
    earlier = decide(paper(rita), hanna)  # the e-mail and the name of the application: its case
    assert earlier.related_application == application
    # The same person, typed differently, now from the cabinet.
    repeat = services.complaint_file(
        data=complaint_data(
            last_name="АЛЕКСЕЕВА",
            first_name="алиса",
            patronymic="Петровна",
            residence="г Москва ул Арбат д 1 кв 1",
            arguments="Снова о том же отказе.",
        ),
        channel="portal",
        complainant=alice,
    )
    assert selectors.complaint_repeats(repeat) == earlier
    with pytest.raises(DomainError) as err:
        services.complaint_decide(
            complaint=repeat, by=hanna, handler_position=POSITION, outcome="uphold", remedy="other", text="Да."
        )
    assert err.value.code == "repeat_complaint" and earlier.number in err.value.message
    page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[repeat.pk])).content.decode()
    assert 'id="repeat"' in page and earlier.number in page


def test_a_namesake_at_another_address_is_not_a_repeat(alice, rita, hanna):
    registered_application(alice)
    tver = "170100, г. Тверь, ул. Советская, д. 5"
    decide(paper(rita, residence=tver, postal_address=tver), hanna)
    other = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert selectors.complaint_repeats(other) is None


def test_a_repeat_is_not_refused_on_the_merits_or_another_ground_but_may_be_left_unanswered(alice, hanna):
    registered_application(alice)
    decide(services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna)
    repeat = services.complaint_file(data=complaint_data(arguments="Ещё раз."), channel="portal", complainant=alice)
    for ground in ("unfounded", "a", "b"):
        with pytest.raises(DomainError) as err:
            services.complaint_decide(
                complaint=repeat, by=hanna, handler_position=POSITION, outcome="refuse", refusal_ground=ground, text="x"
            )
        assert err.value.code == "repeat_complaint", ground
    repeat.refresh_from_db()
    assert repeat.status == "registered"
    left = decide(repeat, hanna, outcome="unanswered", silence_ground="a", text="Угрозы должностному лицу.")
    assert left.status == "unanswered"


def _refused_paper_application(rita):
    """Alice's application on paper, refused acceptance (p.19): each one is a case of its own."""
    from django.utils import timezone

    from exam.admission.services import application_register_paper
    from tests.conftest import cleaned, complete_payload

    application = application_register_paper(
        by=rita,
        channel="in_person",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload()),
        paper_documents=["higher_education"],
        candidate_email="alice@example.ru",
    )
    assert application.status == "not_accepted"
    return application


def test_the_same_subject_about_another_application_is_a_new_complaint(alice, rita, hanna):
    """p.91(c): the same decision or action is the same subject and the same application."""
    first_case = _refused_paper_application(rita)
    earlier = decide(services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna)
    assert earlier.related_application == first_case and earlier.refusal_ground == "unfounded"
    second_case = _refused_paper_application(rita)
    new = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert new.related_application == second_case and new.subject == earlier.subject
    assert selectors.complaint_repeats(new) is None
    assert decide(new, hanna, outcome="uphold", remedy="other", text="Отказ в приёме неправомерен.").status == "upheld"
    again = services.complaint_file(data=complaint_data(arguments="Снова."), channel="portal", complainant=alice)
    assert selectors.complaint_repeats(again) == new  # the same case, answered on its merits (upheld)


@pytest.mark.parametrize(
    "earlier_outcome",
    [
        {"outcome": "unanswered", "silence_ground": "a"},
        {"outcome": "refuse", "refusal_ground": "a"},
        {"outcome": "refuse", "refusal_ground": "b"},
    ],
)
def test_a_complaint_not_answered_on_its_merits_makes_no_repeat(alice, hanna, earlier_outcome):
    """p.91(c) needs a decision on the earlier complaint: not one left unanswered (p.92), nor a refusal
    on ground (a) or (b) of p.91."""
    registered_application(alice)
    decide(
        services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna, **earlier_outcome
    )
    again = services.complaint_file(data=complaint_data(arguments="Ещё раз."), channel="portal", complainant=alice)
    assert selectors.complaint_repeats(again) is None
    with pytest.raises(DomainError) as err:
        decide(again, hanna, refusal_ground="c")
    assert "refusal_ground" in err.value.fields


def test_a_complaint_whose_application_is_not_established_repeats_nothing(rita, hanna):
    decide(paper(rita, email=""), hanna)
    again = paper(rita, email="", arguments="Снова о том же.")
    assert again.related_application is None
    assert selectors.complaint_repeats(again) is None


def test_a_first_complaint_may_still_be_refused_on_the_merits(alice, hanna):
    complaint = decide(services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna)
    assert complaint.status == "refused" and complaint.refusal_ground == "unfounded"


# --- p.86: registration no later than the next working day -------------------------------------------


def test_a_paper_complaint_registered_two_days_after_receipt_is_flagged_late(rita, hanna, audrey):
    with time_machine.travel(at(16), tick=False):  # Wednesday; received on Monday
        complaint = paper(rita, received_at=MONDAY, subject="d")
    assert complaint.received_at == MONDAY and complaint.registered_at == at(16)
    assert complaint.registered_on == date(2026, 9, 16)
    assert complaint.due_on == date(2026, 9, 23)  # p.87 counts from the registration
    assert selectors.complaint_registration_due(complaint) == date(2026, 9, 15)
    assert selectors.complaint_registered_late(complaint)
    registration = Deadline.objects.get(kind="complaint.registration", case_id=complaint.pk)
    assert registration.due_on == date(2026, 9, 15) and registration.completed_at == at(16)
    assert on_time("регистрация жалобы (п. 86)", date(2026, 9, 16)) == (0, 1)
    event = AuditEvent.objects.get(verb="complaint_file", case_id=complaint.pk)
    assert event.data["registered_late"] is True
    with time_machine.travel(at(16, 12), tick=False):
        page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert "data-registered-late" in page and "Зарегистрирована с нарушением срока п. 86" in page


def test_a_paper_complaint_registered_after_office_hours_counts_from_that_day(rita, alice):
    """Staff registering on Friday at 17:00 register on Friday: p.87's term starts then, not on Monday.
    A complaint arriving through the portal at the same moment counts from Monday (out of hours)."""
    friday_evening = datetime(2026, 9, 18, 17, 0, tzinfo=MSK)
    with time_machine.travel(friday_evening, tick=False):
        on_paper = paper(rita, received_at=friday_evening, subject="d")
        online = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert on_paper.registered_on == date(2026, 9, 18) and on_paper.due_on == date(2026, 9, 25)
    assert online.registered_on == date(2026, 9, 21) and online.due_on == date(2026, 9, 28)


def test_a_paper_complaint_registered_the_next_working_day_is_on_time(rita, hanna):
    with time_machine.travel(at(15), tick=False):
        complaint = paper(rita, received_at=MONDAY)
    assert not selectors.complaint_registered_late(complaint)
    assert on_time("регистрация жалобы (п. 86)", date(2026, 9, 15)) == (1, 1)
    page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert "data-registered-late" not in page


# --- p.94, p.95: the answer's content and signature --------------------------------------------------


def test_the_answer_pdf_has_each_item_of_p94_the_position_and_the_signature_digest(alice, hanna):
    with time_machine.travel(at(14), tick=False):
        registered_application(alice)  # the case the certificate is to be issued on
        complaint = services.complaint_file(
            data=complaint_data(subject="d", official="Регистратор общего отдела Петров П. П."),
            channel="portal",
            complainant=alice,
        )
        complaint = decide(
            complaint, hanna, outcome="uphold", remedy="issue_certificate", text="Отказ в приёме был неправомерен."
        )
    text = pdf_text(complaint)
    flat = "".join(text.split())
    for item in [
        # a) the authority, the deciding official's position and name
        "Министерство труда и социальной защиты Российской Федерации",
        POSITION,
        "Жалобина Анна",
        # b) number, date, place; the official complained of
        complaint.number,
        "14.09.2026",
        "г. Москва",
        "Регистратор общего отдела Петров П. П.",
        # c) the complainant
        "Алексеева Алиса Петровна",
        # d) the grounds, e) the decision
        "Отказ в приёме был неправомерен",
        "Удовлетворена",
        # f) the remedy and its term (p.89: 5 working days)
        "Выдача сертификата эксперта",
        "не позднее 21.09.2026",
        # g) how to appeal
        "обжаловано в судебном порядке",
    ]:
        assert " ".join(item.split()) in " ".join(text.split()), item
    assert complaint.handler_position == POSITION
    assert len(complaint.answer_digest) == 64 and complaint.answer_digest in flat
    assert "ПОДПИСАН ПРОСТОЙ ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in text and "14.09.2026 11:00" in text
    assert complaint.answer_document["handler_position"] == POSITION


def test_the_handler_must_give_the_position_that_goes_on_the_answer(alice, hanna):
    from appeals.forms import ComplaintDecisionForm

    form = ComplaintDecisionForm({"outcome": "refuse", "refusal_ground": "c", "text": "x", "handler_position": "  "})
    assert not form.is_valid() and form.errors["handler_position"] == ["Обязательное поле."]
    complaint = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    with pytest.raises(DomainError) as err:
        services.complaint_decide(
            complaint=complaint, by=hanna, handler_position="", outcome="refuse", refusal_ground="unfounded", text="x"
        )
    assert "handler_position" in err.value.fields
    complaint.refresh_from_db()
    assert complaint.status == "registered" and complaint.decided_at is None


# --- p.80: a deputy minister decides ---------------------------------------------------------------


@pytest.mark.parametrize("position", ["", "director", "deputy_director", "official"])
def test_a_complaint_handler_who_is_not_a_deputy_minister_cannot_decide(alice, position):
    director = make_user(
        "handler-director@mintrud.test",
        last="Директорова",
        first="Дина",
        roles=("complaint_handler",),
        position=position,
    )
    complaint = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert not services.complaint_can_decide(complaint=complaint, user=director)
    with pytest.raises(DomainError) as err:
        decide(complaint, director)
    assert err.value.code == "handler_position" and err.value.status == 403
    complaint.refresh_from_db()
    assert complaint.status == "registered" and complaint.decided_at is None
    page = client_for(director).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert 'name="outcome"' not in page


def test_a_deputy_minister_decides_a_complaint(alice, hanna):
    complaint = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert hanna.position == "deputy_minister"
    assert services.complaint_can_decide(complaint=complaint, user=hanna)
    assert decide(complaint, hanna).status == "refused"


# --- p.93: the answer goes out, and its term is met by the dispatch ----------------------------------


def test_a_cabinet_complainant_is_answered_in_the_cabinet_and_that_is_the_dispatch(alice, hanna):
    with time_machine.travel(at(14), tick=False):
        complaint = decide(services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna)
    assert complaint.answered_at == at(14) and complaint.answer_channel == "cabinet"
    assert alice.notifications.filter(subject=f"Ответ на жалобу № {complaint.number}").exists()
    assert Deadline.objects.get(kind="complaint.answer", case_id=complaint.pk).completed_at == at(14)


def test_a_paper_complainant_with_an_email_gets_the_answer_by_email(rita, hanna):
    mail.outbox.clear()
    with time_machine.travel(at(14), tick=False):
        complaint = decide(paper(rita, email="anna.k@example.ru"), hanna)
    message = next(m for m in mail.outbox if m.to == ["anna.k@example.ru"])
    assert complaint.number in message.subject
    (filename, content, mimetype) = message.attachments[0]
    assert filename.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert complaint.answer_channel == "email" and complaint.answered_at == at(14)
    assert Deadline.objects.get(kind="complaint.answer", case_id=complaint.pk).completed_at is not None
    assert on_time("ответ на жалобу (п. 93)", date(2026, 9, 14)) == (1, 1)
    # A retry or the sweeper holding the complaint as read before the send sends nothing more.
    mail.outbox.clear()
    stale = Complaint.objects.get(pk=complaint.pk)
    stale.answered_at = None
    services.complaint_answer_email(complaint=stale)
    assert mail.outbox == []


def test_a_paper_answer_waits_for_staff_to_record_the_postal_dispatch(rita, hanna, victor):
    with time_machine.travel(at(14), tick=False):
        complaint = decide(paper(rita, email=""), hanna)
    assert complaint.answer_pdf and complaint.answer_signed_at is not None
    assert complaint.answered_at is None
    deadline = Deadline.objects.get(kind="complaint.answer", case_id=complaint.pk)
    assert deadline.completed_at is None and deadline.due_on == date(2026, 9, 15)
    page = client_for(rita).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert 'id="dispatch"' in page and "Ответ не направлен (п. 93)" in page

    with pytest.raises(DomainError) as err:
        services.complaint_answer_dispatch(complaint=complaint, by=victor, channel="post", reference="РПО 1")
    assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        services.complaint_answer_dispatch(complaint=complaint, by=rita, channel="pigeon", reference="РПО 1")
    assert "channel" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.complaint_answer_dispatch(complaint=complaint, by=rita, channel="post", reference="")
    assert "reference" in err.value.fields

    with time_machine.travel(at(17), tick=False):  # Thursday: two days late
        response = client_for(rita).post(
            reverse("frontend:complaint_staff", args=[complaint.pk]),
            {"channel": "post", "reference": "РПО 12712345678901"},
            follow=True,
        )
    page = response.content.decode()
    assert "Отправка ответа отмечена" in page and "РПО 12712345678901" in page and 'id="dispatch"' not in page
    complaint.refresh_from_db()
    assert complaint.answered_at == at(17) and complaint.answer_channel == "post"
    assert Deadline.objects.get(kind="complaint.answer", case_id=complaint.pk).completed_at == at(17)
    assert AuditEvent.objects.filter(verb="complaint_answer_dispatch", actor=rita, case_id=complaint.pk).exists()
    assert on_time("ответ на жалобу (п. 93)", date(2026, 9, 17)) == (0, 1)
    with pytest.raises(DomainError) as err:
        services.complaint_answer_dispatch(complaint=complaint, by=rita, channel="in_person", reference="Лично")
    assert err.value.code == "answer_dispatched"


def test_the_sweep_does_not_resend_answers_waiting_for_the_post(rita, hanna):
    from appeals.tasks import complaint_answer_sweep

    decide(paper(rita, email=""), hanna)
    assert complaint_answer_sweep() == 0


# --- p.89: the remedy has a case to act on -----------------------------------------------------------


def test_a_complaint_is_linked_to_the_complainants_latest_application(alice, oscar, rita, hanna, olga):
    application = registered_application(alice)
    from_cabinet = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert from_cabinet.related_application == application
    on_paper = paper(rita)  # the same e-mail address and surname as the application
    assert on_paper.related_application == application
    stranger = paper(rita, last_name="Иванова", email="ivanova@example.ru")
    assert stranger.related_application is None
    relative = paper(rita, first_name="Анна")  # the same e-mail and surname, another person
    assert relative.related_application is None
    assert (
        services.complaint_file(data=complaint_data(), channel="portal", complainant=oscar).related_application is None
    )

    decide(from_cabinet, hanna, outcome="uphold", remedy="issue_certificate", text="Нарушение.")
    page = client_for(olga).get(reverse("frontend:complaint_staff", args=[from_cabinet.pk])).content.decode()
    assert 'id="remedy"' in page and application.registration_number in page


def test_the_position_is_prefilled_from_the_handlers_last_answer(alice, hanna):
    decide(services.complaint_file(data=complaint_data(), channel="portal", complainant=alice), hanna)
    other_handler = make_user("h2@mintrud.test", last="Вторая", first="Жанна", roles=("complaint_handler",))
    second = services.complaint_file(data=complaint_data(subject="a"), channel="portal", complainant=alice)
    assert selectors.complaint_handler_position_last(hanna) == POSITION
    assert selectors.complaint_handler_position_last(other_handler) == ""
    page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[second.pk])).content.decode()
    assert f'value="{POSITION}"' in page
