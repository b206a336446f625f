"""The attestation test: entry, the individual test, answers, the clock, submission and scoring."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.errors import DomainError
from core.models import AuditEvent
from exam.models import Attempt, AttemptEvent, AttemptInterruption, AttemptItem, Question, QuestionVersion
from exam.testing import selectors as testing_selectors
from exam.testing.services import attempts as service
from exam.testing.services.bank import QuestionData, question_save
from tests.conftest import answer_correctly


def start(credential, key="session-a"):
    return service.attempt_start(
        credential=credential, session_key=key, personally=True, ip="10.0.0.1", user_agent="UA"
    )


def test_login_opens_the_room_only_within_the_window(exam_setup):
    from exam.admission.services import exam_password_issue

    credential = exam_setup["credential"]
    password = exam_password_issue(credential=credential, by=exam_setup["candidate"])
    assert service.exam_login(login=credential.login, password=password) == credential
    sitting = exam_setup["sitting"]
    with pytest.raises(DomainError) as err:
        service.exam_login(login=credential.login, password=password, now=sitting.starts_at - timedelta(minutes=5))
    assert err.value.code == "too_early"
    late = sitting.starts_at + timedelta(minutes=sitting.entry_window_minutes + 1)
    with pytest.raises(DomainError) as err:
        service.exam_login(login=credential.login, password=password, now=late)
    assert err.value.code == "window_closed"


def test_wrong_passwords_lock_the_exam_login(exam_setup, settings):
    from exam.admission.services import exam_password_issue

    credential = exam_setup["credential"]
    password = exam_password_issue(credential=credential, by=exam_setup["candidate"])
    for _ in range(settings.EXAM_LOGIN_FAILURE_LIMIT):
        with pytest.raises(DomainError) as err:
            service.exam_login(login=credential.login, password="wrong")
        assert err.value.message == "Неверный логин или пароль."
    with pytest.raises(DomainError) as err:
        service.exam_login(login=credential.login, password=password)
    assert err.value.code == "locked"


def test_start_needs_personal_confirmation(exam_setup):
    with pytest.raises(DomainError) as err:
        service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=False)
    assert err.value.code == "rules_not_confirmed"
    assert not Attempt.objects.exists()


def test_start_builds_the_whole_test_by_the_blueprint_before_the_first_question(exam_setup, settings):
    before = timezone.now()
    attempt = start(exam_setup["credential"])
    items = list(attempt.items.select_related("version__question__topic"))
    assert len(items) == 40 == attempt.question_count
    assert sorted(i.position for i in items) == list(range(1, 41))
    assert {t: sum(1 for i in items if i.version.question.topic.code == t) for t in ("T1", "T2")} == {
        "T1": 20,
        "T2": 20,
    }
    assert len({i.version_id for i in items}) == 40
    assert all(sorted(i.option_order) == list(range(len(i.version.options))) for i in items)
    assert any(i.option_order != sorted(i.option_order) for i in items)  # shuffled
    assert before <= attempt.started_at <= timezone.now()
    assert attempt.deadline_at == attempt.started_at + settings.EXAM_DURATION
    assert all(QuestionVersion.objects.filter(pk__in=[i.version_id for i in items]).values_list("shown", flat=True))
    assert start(exam_setup["credential"]) == attempt  # one active attempt; a second start returns it
    assert AttemptEvent.objects.filter(attempt=attempt, kind="started").count() == 1


def test_thirty_six_correct_pass_and_thirty_five_fail(exam_setup, alice, oscar, victor, sergey, eva):
    from tests.conftest import admit, open_sitting

    attempt = start(exam_setup["credential"])
    answer_correctly(attempt, 36)
    result = service.attempt_submit(attempt=attempt, session_key="session-a")
    assert (result.score, result.passed) == (36, True)

    from tests.conftest import make_sitting

    sitting = make_sitting(eva, days_ahead=2)
    credential = admit(oscar, victor, sergey, sitting)
    open_sitting(sitting)
    other = start(credential, key="session-o")
    answer_correctly(other, 35)
    result = service.attempt_submit(attempt=other, session_key="session-o")
    assert (result.score, result.passed) == (35, False)


def test_multi_answer_question_is_all_or_nothing(exam_setup):
    attempt = start(exam_setup["credential"])
    item = next(i for i in attempt.items.select_related("version") if len(i.version.correct) > 1)
    correct = item.version.correct
    wrong = next(i for i in range(len(item.version.options)) if i not in correct)
    cases = [(correct, True), (correct[:1], False), ([*correct, wrong], False), ([], False)]
    for seq, (answer, expected) in enumerate(cases, start=1):
        service.attempt_save_answer(
            attempt_id=attempt.pk, session_key="session-a", position=item.position, answer=answer, flagged=None, seq=seq
        )
        AttemptItem.objects.filter(pk=item.pk).update(is_correct=None)
        assert service._score(Attempt.objects.get(pk=attempt.pk)) == (1 if expected else 0), answer
    # The options are compared as sets: an answer stored in another order (as written before the
    # saves sorted it) is still right.
    AttemptItem.objects.filter(pk=item.pk).update(answer=list(reversed(correct)), is_correct=None)
    assert service._score(Attempt.objects.get(pk=attempt.pk)) == 1
    assert AttemptItem.objects.get(pk=item.pk).is_correct is True
    assert AttemptItem.objects.filter(attempt=attempt, is_correct=False).count() == attempt.question_count - 1


def test_save_is_ordered_and_idempotent(exam_setup):
    attempt = start(exam_setup["credential"])
    save = lambda answer, seq: service.attempt_save_answer(  # noqa: E731
        attempt_id=attempt.pk, session_key="session-a", position=3, answer=answer, flagged=None, seq=seq
    )
    assert save([1], 5).applied
    late = save([2], 4)  # an older change delivered late
    assert not late.applied and late.answer == [1] and late.seq == 5
    again = save([1], 5)  # the same delivery twice
    assert not again.applied
    assert save([0, 2], 6).applied
    assert AttemptItem.objects.get(attempt=attempt, position=3).answer == [0, 2]


def test_bad_answers_are_refused_with_a_clear_error(exam_setup):
    attempt = start(exam_setup["credential"])
    for answer, seq in [([99], 1), (["a"], 2), ("1", 3), ([True], 4), ([1], 0), ([1], "7"), ([1], -1)]:
        with pytest.raises(DomainError) as err:
            service.attempt_save_answer(
                attempt_id=attempt.pk, session_key="session-a", position=1, answer=answer, flagged=None, seq=seq
            )
        assert err.value.status == 400 and err.value.message
    with pytest.raises(DomainError) as err:
        service.attempt_save_answer(
            attempt_id=attempt.pk, session_key="session-a", position=41, answer=[1], flagged=None, seq=9
        )
    assert err.value.status == 404
    assert not AttemptItem.objects.filter(attempt=attempt).exclude(answer=[]).exists()


def test_save_after_the_deadline_is_refused(exam_setup):
    attempt = start(exam_setup["credential"])
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=1)), pytest.raises(DomainError) as err:
        service.attempt_save_answer(
            attempt_id=attempt.pk, session_key="session-a", position=1, answer=[1], flagged=None, seq=1
        )
    assert err.value.code == "time_is_up"
    assert AttemptItem.objects.get(attempt=attempt, position=1).answer == []


def test_double_submit_gives_one_result(exam_setup):
    attempt = start(exam_setup["credential"])
    answer_correctly(attempt, 38)
    first = service.attempt_submit(attempt=attempt, session_key="session-a")
    second = service.attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk), session_key="session-a")
    assert first.finished_at == second.finished_at and first.score == second.score == 38
    assert AuditEvent.objects.filter(verb="finish", case_id=attempt.pk).count() == 1
    assert AttemptEvent.objects.filter(attempt=attempt, kind="submitted").count() == 1
    # The audit trail names who ended it: the candidate.
    assert AuditEvent.objects.get(verb="finish", case_id=attempt.pk).actor == exam_setup["candidate"]


def test_sweeper_finalises_at_the_deadline_and_records_the_deadline_as_the_finish(exam_setup):
    attempt = start(exam_setup["credential"])
    answer_correctly(attempt, 10)
    assert service.attempt_finalize_due() == 0
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=30)):
        assert service.attempt_finalize_due() == 1
    attempt.refresh_from_db()
    assert attempt.status == "finished" and attempt.finish_reason == "deadline"
    assert attempt.finished_at == attempt.deadline_at
    assert attempt.score == 10 and attempt.passed is False
    assert AuditEvent.objects.get(verb="finish", case_id=attempt.pk).actor is None  # the system's act


def test_an_expired_attempt_is_finalised_on_any_access(exam_setup):
    attempt = start(exam_setup["credential"])
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=1)):
        attempt = service.attempt_finalize_if_due(attempt=attempt)
    assert attempt.status == "finished" and attempt.finished_at == attempt.deadline_at


def interruption(attempt, by, *, start_min: int, lost_min: int, cause="service_failure"):
    """An interruption ``lost_min`` minutes long, ``start_min`` minutes into the attempt, recorded
    when it ended."""
    started_at = attempt.started_at + timedelta(minutes=start_min)
    ended_at = started_at + timedelta(minutes=lost_min)
    with time_machine.travel(ended_at + timedelta(seconds=30), tick=False):
        return service.attempt_interruption_record(
            attempt=attempt,
            by=by,
            cause=cause,
            started_at=started_at,
            ended_at=ended_at,
            reason="Сервер тестирования не отвечал",
        )


def grant(attempt, by, lost, minutes, *, at_min: int = 20):
    with time_machine.travel(attempt.started_at + timedelta(minutes=at_min), tick=False):
        return service.attempt_grant_extra_time(attempt=attempt, by=by, interruption=lost, minutes=minutes)


def test_the_finalise_task_before_a_moved_deadline_leaves_the_attempt_running(exam_setup, eva):
    attempt = start(exam_setup["credential"])
    old_deadline = attempt.deadline_at
    lost = interruption(attempt, eva, start_min=5, lost_min=4)
    grant(attempt, eva, lost, 5)
    with time_machine.travel(old_deadline + timedelta(seconds=1)):
        assert service.attempt_finalize(attempt_id=attempt.pk).status == "in_progress"
        service.attempt_save_answer(
            attempt_id=attempt.pk, session_key="session-a", position=1, answer=[1], flagged=None, seq=1
        )
    attempt.refresh_from_db()
    assert attempt.deadline_at == old_deadline + timedelta(minutes=5)
    assert AuditEvent.objects.filter(
        verb="attempt_extra_time",
        actor=eva,
        reason="Сбой в работе системы тестирования: Сервер тестирования не отвечал",
    ).exists()


def test_extra_time_restores_at_most_the_time_lost_plus_the_margin(exam_setup, eva, settings):
    settings.EXAM_EXTRA_TIME_MARGIN_MINUTES = 2
    attempt = start(exam_setup["credential"])
    lost = interruption(attempt, eva, start_min=5, lost_min=4)
    assert lost.lost_seconds == 240 and lost.max_minutes == 6
    with pytest.raises(DomainError) as err:
        grant(attempt, eva, lost, 7)
    assert err.value.code == "extra_time_bound" and "minutes" in err.value.fields
    # (The plural forms of the counts come from the Russian catalog.)
    assert all(part in err.value.message for part in ("не более 6 мин", "потеряно 4 мин", "запас 2 мин", "п. 12 «г»"))
    attempt.refresh_from_db()
    assert attempt.extra_seconds == 0
    grant(attempt, eva, lost, 6)
    attempt.refresh_from_db()
    lost.refresh_from_db()
    assert attempt.extra_seconds == 360 and lost.granted_minutes == 6 and lost.granted_by == eva
    event = AuditEvent.objects.get(verb="attempt_extra_time")
    assert event.data["interruption"] == lost.pk and event.data["lost_seconds"] == 240
    assert event.data["bound_minutes"] == 6 and event.data["minutes"] == 6
    # Once per interruption: the time lost is restored, not granted again.
    with pytest.raises(DomainError) as err:
        grant(attempt, eva, lost, 1)
    assert err.value.code == "interruption_compensated" and err.value.status == 409
    # A part of a minute counts as a minute; the margin is a setting.
    settings.EXAM_EXTRA_TIME_MARGIN_MINUTES = 0
    with time_machine.travel(attempt.started_at + timedelta(minutes=12), tick=False):
        short = service.attempt_interruption_record(
            attempt=attempt,
            by=eva,
            cause="monitor_decision",
            started_at=attempt.started_at + timedelta(minutes=10),
            ended_at=attempt.started_at + timedelta(minutes=10, seconds=50),
            reason="Проверка личности заявителя по видеосвязи",
        )
    assert short.lost_minutes == 1 and short.max_minutes == 1
    with pytest.raises(DomainError):
        grant(attempt, eva, short, 2)
    grant(attempt, eva, short, 1)
    attempt.refresh_from_db()
    assert attempt.extra_seconds == 7 * 60


def test_extra_time_needs_a_recorded_interruption_of_that_attempt(exam_setup, eva, victor):
    attempt = start(exam_setup["credential"])
    with pytest.raises(DomainError) as err:
        service.attempt_grant_extra_time(attempt=attempt, by=eva, interruption=AttemptInterruption(pk=0), minutes=1)
    assert err.value.code == "no_interruption" and "перерыва" in err.value.message
    lost = interruption(attempt, eva, start_min=5, lost_min=4)
    with pytest.raises(DomainError) as err:
        grant(attempt, victor, lost, 5)
    assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        grant(attempt, eva, lost, 0)
    assert set(err.value.fields) == {"minutes"}


def test_an_interruption_is_recorded_within_the_attempt_once_by_the_exam_administrator(exam_setup, eva, victor):
    attempt = start(exam_setup["credential"])
    base = attempt.started_at
    with time_machine.travel(base + timedelta(minutes=15), tick=False):
        with pytest.raises(DomainError) as err:
            service.attempt_interruption_record(
                attempt=attempt, by=victor, cause="service_failure", started_at=base, ended_at=base, reason="x"
            )
        assert err.value.status == 403
        with pytest.raises(DomainError) as err:
            service.attempt_interruption_record(
                attempt=attempt, by=eva, cause="candidate", started_at=base, ended_at=base, reason=""
            )
        assert set(err.value.fields) == {"cause", "ended_at", "reason"}
        with pytest.raises(DomainError) as err:
            service.attempt_interruption_record(
                attempt=attempt,
                by=eva,
                cause="service_failure",
                started_at=base - timedelta(minutes=10),
                ended_at=base - timedelta(minutes=1),
                reason="Сбой до начала",
            )
        assert "не приходится на время тестирования" in err.value.message
        # Typed to the minute: only the part within the attempt and up to now is lost time.
        lost = service.attempt_interruption_record(
            attempt=attempt,
            by=eva,
            cause="monitor_decision",
            started_at=base + timedelta(minutes=10),
            ended_at=base + timedelta(minutes=20),
            reason="Проверка личности заявителя",
        )
        assert lost.lost_seconds == 300 and lost.max_minutes == 5 + 2
        with pytest.raises(DomainError) as err:
            service.attempt_interruption_record(
                attempt=attempt,
                by=eva,
                cause="service_failure",
                started_at=base + timedelta(minutes=12),
                ended_at=base + timedelta(minutes=14),
                reason="Сбой",
            )
        assert "пересекается" in err.value.message
    event = AuditEvent.objects.get(verb="attempt_interruption")
    assert event.actor == eva and event.reason == "Проверка личности заявителя"
    assert event.data["cause"] == "monitor_decision" and event.data["lost_seconds"] == 300


def test_a_second_login_takes_over_and_the_first_session_is_refused(exam_setup):
    attempt = start(exam_setup["credential"])
    assert service.attempt_claim(attempt=attempt, session_key="session-b", ip="10.0.0.2", user_agent="Other")
    with pytest.raises(DomainError) as err:
        service.attempt_save_answer(
            attempt_id=attempt.pk, session_key="session-a", position=1, answer=[1], flagged=None, seq=1
        )
    assert err.value.code == "taken_over"
    service.attempt_save_answer(
        attempt_id=attempt.pk, session_key="session-b", position=1, answer=[1], flagged=None, seq=1
    )
    event = AttemptEvent.objects.get(attempt=attempt, kind="takeover")
    assert event.ip == "10.0.0.2"


def test_an_edited_question_does_not_change_an_old_attempt(exam_setup):
    attempt = start(exam_setup["credential"])
    item = attempt.items.select_related("version__question").first()
    question = item.version.question
    shown_text = item.version.text
    question_save(
        data=QuestionData(
            code=question.code,
            topic=question.topic.code,
            text="Исправленная формулировка?",
            options=["а", "б", "в"],
            correct=[1],
        ),
        by=None,
    )
    question.refresh_from_db()
    assert question.current.number == 2 and question.current.text == "Исправленная формулировка?"
    item.refresh_from_db()
    assert item.version.number == 1 and item.version.text == shown_text
    state = testing_selectors.attempt_state(attempt)
    assert state["items"][0]["text"] == shown_text


def test_an_unshown_version_is_edited_in_place(db):
    from tests.conftest import make_bank

    question = make_bank(topics=1, per_topic=1)[0]
    question_save(
        data=QuestionData(
            code=question.code, topic="T1", text="Новый текст?", options=["а", "б", "в", "г"], correct=[0]
        ),
        by=None,
    )
    question.refresh_from_db()
    assert question.versions.count() == 1 and question.current.text == "Новый текст?"


def test_changing_the_number_of_options_of_an_unshown_version_makes_a_new_version(db):
    """A test being built may have drawn the version and stored an order of its four options."""
    from tests.conftest import make_bank

    question = make_bank(topics=1, per_topic=1)[0]
    question_save(
        data=QuestionData(code=question.code, topic="T1", text="Новый текст?", options=["а", "б", "в"], correct=[0]),
        by=None,
    )
    question.refresh_from_db()
    assert question.current.number == 2 and len(question.versions.get(number=1).options) == 4


def test_a_version_shown_after_the_editor_read_it_is_not_edited_in_place(exam_setup):
    """The editor reads the current version while a test being built has drawn it but not yet
    marked it shown; the mark lands before the edit is written. The edit becomes a new version and
    the attempt keeps the wording it drew."""
    from django.db.models.signals import post_init

    attempt = start(exam_setup["credential"])
    item = attempt.items.select_related("version__question").first()
    drawn = item.version
    QuestionVersion.objects.filter(pk=drawn.pk).update(shown=False)  # the attempt's mark not yet written

    def mark_shown_once(sender, instance, **kwargs):
        if instance.pk == drawn.pk and not instance.shown:
            post_init.disconnect(mark_shown_once, sender=QuestionVersion)
            QuestionVersion.objects.filter(pk=drawn.pk, shown=False).update(shown=True)

    post_init.connect(mark_shown_once, sender=QuestionVersion)
    try:
        question_save(
            data=QuestionData(
                code=drawn.question.code,
                topic=drawn.question.topic.code,
                text="Исправленная формулировка?",
                options=list(drawn.options),
                correct=[(drawn.correct[0] + 1) % len(drawn.options)],
            ),
            by=None,
        )
    finally:
        post_init.disconnect(mark_shown_once, sender=QuestionVersion)
    question = Question.objects.get(pk=drawn.question_id)
    assert question.current.number == 2 and question.current.text == "Исправленная формулировка?"
    unchanged = QuestionVersion.objects.get(pk=drawn.pk)
    assert (unchanged.text, unchanged.correct) == (drawn.text, drawn.correct)
    assert testing_selectors.attempt_state(attempt)["items"][0]["text"] == drawn.text


def test_a_retired_question_leaves_the_draw_but_stays_in_old_attempts(exam_setup, eva):
    import json

    from django.test import override_settings

    from exam.models import BlueprintItem
    from exam.testing.services.bank import bank_export_json, question_edit

    attempt = start(exam_setup["credential"])
    item = attempt.items.select_related("version__question").get(position=1)
    rows = json.loads(bank_export_json())["questions"]
    row = next(r for r in rows if r["code"] == item.version.question.code)
    question_edit(raw={**row, "retired": True}, by=eva)
    BlueprintItem.objects.all().delete()
    with override_settings(EXAM_QUESTION_COUNT=49):  # every active question of the 50
        drawn = {v.question_id for v in service.draw_versions()}
    assert len(drawn) == 49 and item.version.question_id not in drawn
    assert testing_selectors.attempt_state(attempt)["items"][0]["text"] == item.version.text


def test_no_response_before_scoring_contains_the_correct_answers(exam_setup):
    attempt = start(exam_setup["credential"])
    state = testing_selectors.attempt_state(attempt)
    assert "correct" not in str(state.keys())
    for item in state["items"]:
        assert set(item) == {"position", "text", "multiple", "options", "answer", "flagged", "seq"}
        assert all(set(o) == {"id", "text"} for o in item["options"])
    assert "correct" not in testing_selectors.attempt_clock(attempt)


@pytest.mark.parametrize(
    ("first_correct", "last_correct"),
    [(20, 39), (39, 20)],
    ids=["fail_then_pass_is_a_pass", "pass_then_fail_is_a_fail"],
)
def test_the_last_attempt_is_the_final_result(exam_setup, victor, sergey, eva, first_correct, last_correct):
    """p.58: a candidate who failed and passed on a new admission is attested, and one who passed
    and then failed is not: the last test counts, not the best."""
    from exam.models import Application
    from tests.conftest import admit, make_sitting, open_sitting

    alice = exam_setup["candidate"]
    first = start(exam_setup["credential"])
    answer_correctly(first, first_correct)
    service.attempt_submit(attempt=first, session_key="session-a")
    assert testing_selectors.final_result(first.application).passed is (first_correct >= 36)
    # A new admission (retake) for the same person, taken later.
    sitting = make_sitting(eva, days_ahead=3)
    credential = admit(alice, victor, sergey, sitting)
    open_sitting(sitting)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        second = start(credential, key="session-2")
        answer_correctly(second, last_correct)
        service.attempt_submit(attempt=second, session_key="session-2")
    for application in Application.objects.filter(candidate=alice):
        result = testing_selectors.final_result(application)
        assert (result.pk, result.score, result.passed) == (second.pk, last_correct, last_correct >= 36)


def test_one_attempt_per_admission(exam_setup):
    attempt = start(exam_setup["credential"])
    service.attempt_submit(attempt=attempt, session_key="session-a")
    with pytest.raises(DomainError) as err:
        start(exam_setup["credential"], key="again")
    assert err.value.code == "attempts_used"


def test_a_bank_too_small_for_the_blueprint_refuses_to_start(exam_setup):
    Question.objects.filter(topic__code="T1").update(retired_at=timezone.now())
    with pytest.raises(DomainError) as err:
        start(exam_setup["credential"])
    assert err.value.code == "bank_too_small"
    assert not Attempt.objects.exists()
