"""Appeals (p.12(v), p.65) and complaints (p.77-97) under their statutory deadlines."""

from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase
from pypdf import PdfReader

from appeals import services
from appeals.models import Appeal, Complaint
from core.errors import DomainError
from core.models import Deadline
from registry.models import AttestationDecision
from tests.conftest import complaint_data, pass_the_test, registered_application, upload

MSK = ZoneInfo("Europe/Moscow")
POSITION = "Заместитель Министра труда и социальной защиты Российской Федерации"


@pytest.fixture
def failed(exam_setup, sergey):
    """Alice failed with 35 of 40; the refusal of attestation is signed."""
    from registry.services import attestation_decision_draft, attestation_decision_sign

    attempt = pass_the_test(exam_setup["credential"], correct=35)
    decision = attestation_decision_draft(attempt=attempt)
    attestation_decision_sign(decision=decision, by=sergey)
    return attempt


def test_an_appeal_is_registered_with_a_three_month_deadline(failed, alice):
    appeal = services.appeal_file(
        candidate=alice, attempt=failed, reasons="Вопрос 7 сформулирован неоднозначно.", files=[upload()]
    )
    assert appeal.status == "registered" and appeal.number.startswith("А-")
    assert appeal.attachments.count() == 1
    deadline = Deadline.objects.get(kind="appeal.decision")
    from core import calendar

    assert deadline.due_on == appeal.due_on == calendar.add_months(appeal.registered_on, 3)


def test_an_appeal_after_the_window_is_refused_with_a_clear_message(failed, alice):
    from appeals.selectors import appeal_window_closes

    day_after = appeal_window_closes(failed) + timedelta(days=1)
    with (
        time_machine.travel(datetime.combine(day_after, datetime.min.time().replace(hour=12), tzinfo=MSK)),
        pytest.raises(DomainError) as err,
    ):
        services.appeal_file(candidate=alice, attempt=failed, reasons="Поздно.")
    assert err.value.code == "appeal_window_closed"
    assert "Срок подачи апелляции истёк" in err.value.message and "30 календарных дней" in err.value.message
    assert not Appeal.objects.exists()


def test_another_candidate_cannot_appeal_a_result_that_is_not_theirs(failed, oscar):
    from core.errors import NotFound

    with pytest.raises(NotFound):
        services.appeal_file(candidate=oscar, attempt=failed, reasons="Чужая попытка.")


def test_a_member_cannot_vote_twice(failed, alice, commission):
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    services.appeal_open(appeal=appeal, by=commission[0])
    services.appeal_vote(appeal=appeal, member=commission[1], outcome="reject", opinion="Доводы не подтвердились.")
    with pytest.raises(DomainError) as err:
        services.appeal_vote(appeal=appeal, member=commission[1], outcome="uphold", void=[3])
    assert err.value.code == "already_voted"
    assert appeal.votes.count() == 1


def test_upheld_with_a_voided_question_turns_the_result_into_a_pass_and_a_certificate_follows(
    failed, alice, commission, sergey, olga
):
    from django.test import TestCase

    from registry.services import attestation_decision_sign, certificate_issue

    wrong = failed.items.filter(is_correct=False).order_by("position").first()
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons=f"Вопрос {wrong.position} некорректен.")
    chair, m1, m2 = commission
    services.appeal_open(appeal=appeal, by=chair)
    services.appeal_vote(
        appeal=appeal, member=chair, outcome="uphold", void=[wrong.position], opinion="Вопрос двусмыслен."
    )
    services.appeal_vote(appeal=appeal, member=m1, outcome="uphold", void=[wrong.position])
    services.appeal_vote(appeal=appeal, member=m2, outcome="reject", opinion="Вопрос корректен.")
    decided = services.appeal_decide(appeal=appeal, by=chair, reasons="Большинство признало вопрос некорректным.")
    assert decided.status == "upheld" and (decided.score_before, decided.score_after) == (35, 36)
    failed.refresh_from_db()
    assert failed.score == 36 and failed.passed
    assert failed.items.get(position=wrong.position).voided
    old = AttestationDecision.objects.get(attempt=failed, kind="refused")
    assert old.superseded
    # The refusal was signed in time: superseding it leaves its term met, not cancelled.
    term = Deadline.objects.get(kind="attestation.decision", case_id=old.pk)
    assert term.completed_at is not None and term.cancelled_at is None
    new = AttestationDecision.objects.get(attempt=failed, superseded=False)
    assert new.kind == "attested" and new.status == "draft"
    assert Deadline.objects.filter(kind="attestation.decision", case_id=new.pk, completed_at__isnull=True).exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=new, by=sergey)
    certificate = certificate_issue(
        decision=new, by=olga, areas=list(__import__("registry").models.AreaOfActivity.objects.all()[:1])
    )
    assert certificate.full_name == "Алексеева Алиса Петровна"
    dissent = [v for v in appeal.votes.all() if v.outcome == "reject"]
    assert dissent and dissent[0].opinion == "Вопрос корректен."


def test_a_tie_goes_the_way_the_chair_voted_and_quorum_is_needed(failed, alice, commission):
    from tests.conftest import make_user

    fourth = make_user("m3@mintrud.test", last="Четвёртов", first="Марк", roles=("appeals_member",))
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    chair, m1, m2 = commission
    services.appeal_open(appeal=appeal, by=m1)
    services.appeal_vote(appeal=appeal, member=chair, outcome="reject")
    with pytest.raises(DomainError) as err:
        services.appeal_decide(appeal=appeal, by=chair, reasons="Итог.")
    assert err.value.code == "no_quorum"
    services.appeal_vote(appeal=appeal, member=m1, outcome="uphold", rescore=[1])
    services.appeal_vote(appeal=appeal, member=m2, outcome="uphold", rescore=[1])
    services.appeal_vote(appeal=appeal, member=fourth, outcome="reject")
    decided = services.appeal_decide(
        appeal=appeal, by=chair, reasons="Голоса разделились; решающий голос председателя."
    )
    assert decided.status == "rejected"


def test_only_the_chair_decides_and_members_vote(failed, alice, commission, victor):
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    with pytest.raises(DomainError):
        services.appeal_open(appeal=appeal, by=victor)
    services.appeal_open(appeal=appeal, by=commission[1])
    with pytest.raises(DomainError) as err:
        services.appeal_decide(appeal=appeal, by=commission[1], reasons="x")
    assert err.value.status == 403


@pytest.mark.parametrize(
    ("subject", "received", "due"),
    [
        ("d", datetime(2025, 12, 25, 11, 0), date(2026, 1, 13)),  # 5 working days over the New Year
        ("a", datetime(2025, 12, 25, 11, 0), date(2026, 1, 27)),  # 15 working days over the New Year
        ("g", datetime(2026, 4, 30, 11, 0), date(2026, 5, 8)),  # 5 working days over 1 May
        ("b", datetime(2026, 4, 30, 11, 0), date(2026, 5, 25)),  # 15 working days over the May holidays
        ("d", datetime(2026, 5, 8, 17, 30), date(2026, 5, 19)),  # after hours on Friday: counts from 12.05
    ],
)
def test_complaint_deadline_by_subject_over_the_holidays(alice, subject, received, due):
    with time_machine.travel(received.replace(tzinfo=MSK), tick=False):
        complaint = services.complaint_file(data=complaint_data(subject=subject), channel="portal", complainant=alice)
    assert complaint.due_on == due
    assert Deadline.objects.get(kind="complaint.decision").due_on == due


def test_an_appeal_decided_in_three_months_over_the_may_holidays(failed, alice):
    with time_machine.travel(datetime(2026, 2, 10, 12, 0, tzinfo=MSK), tick=False):
        failed.finished_at = datetime(2026, 2, 5, 12, 0, tzinfo=MSK)
        failed.save(update_fields=["finished_at"])
        AttestationDecision.objects.filter(attempt=failed).update(signed_at=datetime(2026, 2, 6, 12, 0, tzinfo=MSK))
        appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    assert appeal.due_on == date(2026, 5, 12)  # 10.05 is a Sunday, 11.05 a day off


def test_a_complaint_with_missing_content_is_refused_with_the_field(alice):
    for field in ["official", "residence", "decision_complained", "arguments"]:
        with pytest.raises(DomainError) as err:
            services.complaint_file(data=complaint_data(**{field: ""}), channel="portal", complainant=alice)
        assert field in err.value.fields
    with pytest.raises(DomainError) as err:
        services.complaint_file(data=complaint_data(subject="z"), channel="portal", complainant=alice)
    assert "subject" in err.value.fields
    assert not Complaint.objects.exists()


def test_a_representative_needs_a_notarised_power_of_attorney(alice):
    data = complaint_data(by_representative=True, representative_name="Петров П. П.")
    with pytest.raises(DomainError) as err:
        services.complaint_file(data=data, channel="portal", complainant=alice)
    assert "power_of_attorney" in err.value.fields
    complaint = services.complaint_file(
        data=data, channel="portal", complainant=alice, power_of_attorney=[upload("poa.pdf")]
    )
    assert complaint.attachments.get().kind == "power_of_attorney"


def test_a_repeat_of_a_decided_complaint_is_refused_on_ground_91c(alice, hanna):
    registered_application(alice)  # the case both complaints concern
    first = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    services.complaint_decide(
        handler_position=POSITION,
        complaint=first,
        by=hanna,
        outcome="refuse",
        refusal_ground="unfounded",
        text="Доводы не подтвердились.",
    )
    repeat = services.complaint_file(
        data=complaint_data(arguments="Снова о том же."), channel="portal", complainant=alice
    )
    with pytest.raises(DomainError) as err:
        services.complaint_decide(
            handler_position=POSITION,
            complaint=repeat,
            by=hanna,
            outcome="uphold",
            remedy="other",
            text="Удовлетворить.",
        )
    assert err.value.code == "repeat_complaint" and "п. 91 «в»" in err.value.message
    decided = services.complaint_decide(
        handler_position=POSITION,
        complaint=repeat,
        by=hanna,
        outcome="refuse",
        refusal_ground="c",
        text="Решение принято ранее.",
    )
    assert decided.status == "refused" and decided.refusal_ground == "c"
    other = services.complaint_file(data=complaint_data(subject="a"), channel="portal", complainant=alice)
    with pytest.raises(DomainError):
        services.complaint_decide(
            handler_position=POSITION,
            complaint=other,
            by=hanna,
            outcome="refuse",
            refusal_ground="c",
            text="Не повтор.",
        )


def test_the_answer_has_the_items_of_p94_and_is_sent_the_next_working_day(alice, hanna):
    registered_application(alice)  # the case the certificate is to be issued on
    complaint = services.complaint_file(data=complaint_data(subject="d"), channel="portal", complainant=alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_decide(
            complaint=complaint,
            by=hanna,
            handler_position=POSITION,
            outcome="uphold",
            remedy="issue_certificate",
            text="Отказ в приёме был неправомерен.",
        )
    complaint.refresh_from_db()
    assert complaint.answered_at is not None and complaint.answer_pdf
    with complaint.answer_pdf.open("rb") as fh:
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(fh.read())).pages)
    for item in [
        "Министерство труда и социальной защиты",
        "Жалобина Анна",
        complaint.number,
        "Алексеева Алиса Петровна",
        "Отказ в приёме был неправомерен",
        "Удовлетворена",
        "Выдача сертификата эксперта",
        "обжаловано",
    ]:
        assert item in text, item
    remedy = Deadline.objects.get(kind="complaint.remedy")
    from core import calendar

    assert remedy.due_on == calendar.add_working_days(calendar.today(), 5) and remedy.role == "certificate_officer"
    assert Deadline.objects.get(kind="complaint.answer").completed_at is not None


def test_a_complaint_with_an_unreadable_address_is_left_unanswered_without_an_answer(alice, hanna):
    complaint = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_decide(
            complaint=complaint,
            by=hanna,
            handler_position=POSITION,
            outcome="unanswered",
            silence_ground="b",
            address_readable=False,
            text="Текст нечитаем.",
        )
    complaint.refresh_from_db()
    assert complaint.status == "unanswered" and complaint.answered_at is None
    assert not Deadline.objects.filter(kind="complaint.answer").exists()


def test_the_certificate_officer_closes_other_measures_of_an_upheld_complaint(alice, hanna, olga, victor):
    complaint = services.complaint_file(data=complaint_data(subject="d"), channel="portal", complainant=alice)
    services.complaint_decide(
        handler_position=POSITION,
        complaint=complaint,
        by=hanna,
        outcome="uphold",
        remedy="other",
        text="Нарушение.",
    )
    with pytest.raises(DomainError):
        services.complaint_remedy_done(complaint=complaint, by=victor, note="Проведена проверка")
    services.complaint_remedy_done(complaint=complaint, by=olga, note="Проведена служебная проверка")
    assert Deadline.objects.get(kind="complaint.remedy").completed_at is not None


def test_an_appeal_window_ending_on_a_saturday_runs_to_monday(failed, alice):
    """Civil Code art. 193: the notice of 12.02.2026 gives day 30 on Saturday 14.03; Monday 16.03 is
    the last day."""
    from appeals.selectors import appeal_window_closes

    failed.finished_at = datetime(2026, 2, 12, 10, 0, tzinfo=MSK)
    failed.save(update_fields=["finished_at"])
    AttestationDecision.objects.filter(attempt=failed).update(signed_at=datetime(2026, 2, 12, 15, 0, tzinfo=MSK))
    assert appeal_window_closes(failed) == date(2026, 3, 16)
    with time_machine.travel(datetime(2026, 3, 17, 9, 30, tzinfo=MSK), tick=False), pytest.raises(DomainError) as err:
        services.appeal_file(candidate=alice, attempt=failed, reasons="Во вторник.")
    assert err.value.code == "appeal_window_closed" and "16.03.2026" in err.value.message
    with time_machine.travel(datetime(2026, 3, 16, 17, 0, tzinfo=MSK), tick=False):
        appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="В понедельник.")
    assert appeal.status == "registered"


@pytest.fixture
def chair_only(db):
    """A chair who does not also hold the member role, and three members."""
    from tests.conftest import make_user

    chair = make_user("chair2@mintrud.test", last="Главный", first="Глеб", roles=("appeals_chair",))
    members = [
        make_user(f"mm{i}@mintrud.test", last=f"Членов{i}", first="Иван", roles=("appeals_member",)) for i in range(3)
    ]
    return chair, members


def test_a_chair_without_the_member_role_votes_and_breaks_a_tie(failed, alice, chair_only):
    chair, (m1, m2, m3) = chair_only
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Вопрос 1 некорректен.")
    services.appeal_open(appeal=appeal, by=m1)
    services.appeal_vote(appeal=appeal, member=m1, outcome="uphold", void=[1])
    services.appeal_vote(appeal=appeal, member=m2, outcome="reject")
    services.appeal_vote(appeal=appeal, member=m3, outcome="reject")
    services.appeal_vote(appeal=appeal, member=chair, outcome="uphold", void=[1], opinion="Вопрос двусмыслен.")
    decided = services.appeal_decide(
        appeal=appeal, by=chair, reasons="Голоса разделились; решающий голос председателя."
    )
    assert decided.status == "upheld"
    assert appeal.votes.filter(member=chair, outcome="uphold").exists()


def test_a_tie_is_not_decided_before_the_chair_has_voted(failed, alice, chair_only, settings):
    settings.APPEAL_QUORUM = 2
    chair, (m1, m2, _m3) = chair_only
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    services.appeal_open(appeal=appeal, by=m1)
    services.appeal_vote(appeal=appeal, member=m1, outcome="uphold", rescore=[1])
    services.appeal_vote(appeal=appeal, member=m2, outcome="reject")
    with pytest.raises(DomainError) as err:
        services.appeal_decide(appeal=appeal, by=chair, reasons="Итог.")
    assert err.value.code == "tie_without_chair" and "решающий голос председателя" in err.value.message
    appeal.refresh_from_db()
    assert appeal.status == "under_consideration" and appeal.decided_at is None


def test_the_chair_without_the_member_role_sees_the_vote_form(failed, alice, chair_only):
    from django.urls import reverse

    from tests.conftest import client_for

    chair, members = chair_only
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Доводы.")
    services.appeal_open(appeal=appeal, by=members[0])
    page = client_for(chair).get(reverse("frontend:appeal_staff", args=[appeal.pk])).content.decode()
    assert reverse("frontend:appeal_action", args=[appeal.pk, "vote"]) in page


def test_an_unsigned_refusal_superseded_by_an_upheld_appeal_has_its_term_cancelled(exam_setup, alice, commission):
    """The report leaves a cancelled term out of the share done on time: it neither met nor missed it."""
    from registry.services import attestation_decision_draft

    attempt = pass_the_test(exam_setup["credential"], correct=35)
    refusal = attestation_decision_draft(attempt=attempt)
    wrong = attempt.items.filter(is_correct=False).order_by("position").first()
    appeal = services.appeal_file(candidate=alice, attempt=attempt, reasons=f"Вопрос {wrong.position} некорректен.")
    chair = commission[0]
    services.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        services.appeal_vote(appeal=appeal, member=member, outcome="uphold", void=[wrong.position])
    services.appeal_decide(appeal=appeal, by=chair, reasons="Вопрос некорректен.")
    term = Deadline.objects.get(kind="attestation.decision", case_id=refusal.pk)
    assert term.completed_at is not None and term.cancelled_at is not None
