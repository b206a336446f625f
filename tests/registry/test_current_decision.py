"""p.58: the last test taken is final. Only the decision on the person's current result can be
signed, turned into a certificate, published or sent; a later attempt or an upheld appeal supersedes
every earlier decision not yet carried out, in the same transaction, with its open terms closed."""

import threading
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from appeals import services as appeals
from core.errors import DomainError
from core.models import Deadline
from exam.models import Attempt
from exam.testing.selectors import final_result
from exam.testing.services.attempts import attempt_finalize_due, attempt_start
from registry.models import AreaOfActivity, AttestationDecision, Certificate
from registry.services import (
    attestation_decision_dispatch,
    attestation_decision_draft,
    attestation_decision_sign,
    certificate_issue,
)
from tests.conftest import (
    admit,
    answer_correctly,
    make_sitting,
    make_user,
    open_sitting,
    pass_the_test,
    run_concurrently,
    tasks_queued,
)


def _areas():
    return list(AreaOfActivity.objects.filter(code__in=["01"]))


def _second_admission(candidate, victor, sergey, eva):
    """The candidate applies again after the first test and is admitted to a new sitting."""
    sitting = make_sitting(eva, days_ahead=2)
    credential = admit(candidate, victor, sergey, sitting)
    open_sitting(sitting)
    credential.refresh_from_db()
    return credential


def _draft(attempt):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return attestation_decision_draft(attempt=attempt)


def _current(candidate):
    return list(AttestationDecision.objects.filter(application__candidate=candidate, superseded=False))


def test_pass_then_fail_supersedes_the_attested_draft_and_nothing_can_be_done_with_it(
    exam_setup, alice, victor, sergey, eva, olga
):
    passed = pass_the_test(exam_setup["credential"], correct=38)
    attested = _draft(passed)
    assert attested.kind == "attested"

    failed = pass_the_test(_second_admission(alice, victor, sergey, eva), correct=20)
    attested.refresh_from_db()
    # Superseded in the transaction that ended the later attempt, before any decision on it exists.
    assert attested.superseded and "п. 58" in attested.superseded_reason
    assert not Deadline.objects.filter(case_id=attested.pk, kind="attestation.decision", completed_at__isnull=True)
    assert Deadline.objects.get(case_id=attested.pk, kind="attestation.decision").cancelled_at is not None

    with pytest.raises(DomainError) as refused:
        attestation_decision_sign(decision=attested, by=sergey)
    assert refused.value.code == "superseded" and "заменено" in refused.value.message.lower()
    refusal = _draft(failed)
    assert refusal.kind == "refused" and _current(alice) == [refusal]


def test_pass_then_fail_refuses_a_certificate_on_the_decision_signed_before(
    exam_setup, alice, victor, sergey, eva, olga
):
    passed = pass_the_test(exam_setup["credential"], correct=40)
    attested = _draft(passed)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=attested, by=sergey)

    pass_the_test(_second_admission(alice, victor, sergey, eva), correct=10)

    with pytest.raises(DomainError) as refused:
        certificate_issue(decision=attested, by=olga, areas=_areas())
    assert refused.value.code == "superseded" and refused.value.status == 409
    assert not Certificate.objects.exists()
    attested.refresh_from_db()
    assert attested.superseded
    assert not Deadline.objects.filter(case_id=attested.pk, kind="certificate.issue", completed_at__isnull=True)


def test_a_decision_superseded_without_a_recorded_moment_shows_no_empty_date(exam_setup):
    from registry.services import attestation_decision_current_error

    decision = _draft(pass_the_test(exam_setup["credential"], correct=40))
    decision.superseded, decision.superseded_reason = True, "Заменено решением по апелляции."
    assert attestation_decision_current_error(decision) == "Решение заменено: Заменено решением по апелляции."
    decision.superseded_reason = ""
    assert attestation_decision_current_error(decision) == "Решение заменено."


def test_the_staff_page_of_a_superseded_decision_offers_no_action_and_says_why(
    exam_setup, alice, victor, sergey, eva, olga, client
):
    attested = _draft(pass_the_test(exam_setup["credential"], correct=40))
    pass_the_test(_second_admission(alice, victor, sergey, eva), correct=10)
    client.force_login(sergey)
    page = client.get(f"/staff/attestation/{attested.pk}/").content.decode()
    assert 'id="not-current"' in page and "Решение заменено" in page
    assert "Подписать решение" not in page


def test_fail_then_pass_the_draft_refusal_is_superseded_and_the_pass_is_certified(
    exam_setup, alice, victor, sergey, eva, olga
):
    refusal = _draft(pass_the_test(exam_setup["credential"], correct=30))
    passed = pass_the_test(_second_admission(alice, victor, sergey, eva), correct=37)
    refusal.refresh_from_db()
    assert refusal.superseded
    attested = _draft(passed)
    assert _current(alice) == [attested] and attested.kind == "attested"
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=attested, by=sergey)
    assert certificate_issue(decision=attested, by=olga, areas=_areas()).decision == attested
    with pytest.raises(DomainError):
        attestation_decision_sign(decision=refusal, by=sergey)


def test_fail_then_pass_a_refusal_already_sent_stays_as_the_document_of_its_day(exam_setup, alice, victor, sergey, eva):
    refusal = _draft(pass_the_test(exam_setup["credential"], correct=30))
    attestation_decision_sign(decision=refusal, by=sergey)  # the cabinet is its dispatch
    pass_the_test(_second_admission(alice, victor, sergey, eva), correct=37)
    refusal.refresh_from_db()
    assert not refusal.superseded and refusal.dispatched_at is not None


def test_pass_then_appeal_upheld_on_the_later_fail_makes_a_new_attested_decision_current(
    exam_setup, alice, victor, sergey, eva, olga, commission
):
    first = _draft(pass_the_test(exam_setup["credential"], correct=40))
    failed = pass_the_test(_second_admission(alice, victor, sergey, eva), correct=34)
    refusal = _draft(failed)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=refusal, by=sergey)

    chair = commission[0]
    appeal = appeals.appeal_file(candidate=alice, attempt=failed, reasons="Вопросы 39 и 40 некорректны.")
    appeals.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals.appeal_vote(appeal=appeal, member=member, outcome="uphold", void=[39, 40])
    appeals.appeal_decide(appeal=appeal, by=chair, reasons="Вопросы 39 и 40 признаны некорректными.")

    first.refresh_from_db()
    refusal.refresh_from_db()
    assert first.superseded and refusal.superseded
    (current,) = _current(alice)
    assert current.attempt_id == failed.pk and current.kind == "attested" and current.score == 36
    for stale in (first, refusal):
        with pytest.raises(DomainError) as refused:
            certificate_issue(decision=stale, by=olga, areas=_areas())
        assert refused.value.code in ("superseded", "not_attested")
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=current, by=sergey)
    assert certificate_issue(decision=current, by=olga, areas=_areas()).decision == current


def test_an_appeal_that_changes_only_the_score_replaces_the_stale_refusal(exam_setup, sergey, alice, commission):
    failed = pass_the_test(exam_setup["credential"], correct=30)
    refusal = _draft(failed)
    chair = commission[0]
    appeal = appeals.appeal_file(candidate=alice, attempt=failed, reasons="Вопрос 40 некорректен.")
    appeals.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals.appeal_vote(appeal=appeal, member=member, outcome="uphold", void=[40])
    appeals.appeal_decide(appeal=appeal, by=chair, reasons="Вопрос 40 признан некорректным.")
    refusal.refresh_from_db()
    assert refusal.superseded
    (current,) = _current(alice)
    assert current.kind == "refused" and current.score == 31
    with pytest.raises(DomainError):
        attestation_decision_sign(decision=refusal, by=sergey)


def test_a_paper_applicants_superseded_decision_is_not_dispatched(exam_setup, alice, victor, sergey, eva, rita):
    attested = _draft(pass_the_test(exam_setup["credential"], correct=40))
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=attested, by=sergey)
    AttestationDecision.objects.filter(pk=attested.pk).update(dispatched_at=None, dispatch_channel="")
    pass_the_test(_second_admission(alice, victor, sergey, eva), correct=10)
    with pytest.raises(DomainError) as refused:
        attestation_decision_dispatch(decision=attested, by=rita, channel="post", reference="12345678901234")
    assert refused.value.code == "superseded"


def test_the_sweeper_drafts_only_the_last_attempt_of_each_person(exam_setup, alice, victor, sergey, eva):
    from registry.tasks import attestation_decision_sweep

    pass_the_test(exam_setup["credential"], correct=40)  # its task is not run: no decision yet
    later = pass_the_test(_second_admission(alice, victor, sergey, eva), correct=12)
    assert attestation_decision_sweep() == 1
    (current,) = _current(alice)
    assert current.attempt_id == later.pk and current.kind == "refused"
    assert attestation_decision_sweep() == 0


def test_a_second_current_decision_of_one_attempt_is_refused_by_the_database(exam_setup):
    from django.db import IntegrityError, transaction

    attempt = pass_the_test(exam_setup["credential"], correct=40)
    decision = _draft(attempt)
    with pytest.raises(IntegrityError), transaction.atomic():
        AttestationDecision.objects.create(
            application=decision.application,
            attempt=attempt,
            kind="attested",
            score=40,
            question_count=40,
            test_date=decision.test_date,
        )


def _two_admissions_racing():
    """Alice admitted twice (two sittings whose windows are open), both attempts answered: the first
    one passes, the second fails; both past their deadline (the same moment)."""
    from exam.testing.services.bank import blueprint_set
    from tests.conftest import ensure_reference_lists, make_bank

    ensure_reference_lists()
    make_bank()
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    alice = make_user("alice@example.ru", last="Алексеева", first="Алиса")
    victor = make_user("victor@mintrud.test", last="Рассмотрин", first="Виктор", roles=("reviewer",))
    sergey = make_user("sergey@mintrud.test", last="Подписнов", first="Сергей", roles=("signatory",))
    eva = make_user("eva@mintrud.test", last="Экзаменова", first="Ева", roles=("exam_admin",))
    attempts = []
    for index, days in enumerate((1, 2)):
        sitting = make_sitting(eva, days_ahead=days)
        credential = admit(alice, victor, sergey, sitting)
        open_sitting(sitting)
        attempt = attempt_start(credential=credential, session_key=f"k{index}", personally=True)
        answer_correctly(attempt, 40 if index == 0 else 10)
        attempts.append(attempt)
    Attempt.objects.filter(pk__in=[a.pk for a in attempts]).update(deadline_at=timezone.now() - timedelta(seconds=1))
    return alice, attempts


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_decision_drafted_while_a_later_attempt_is_finishing_does_not_stay_current():
    """The interleaving that two attempts ending at one moment can produce: the first attempt's
    decision is drafted while the second attempt's finalisation has not committed yet. (Tasks are
    queued, not run: the drafts happen where the test says.)"""
    alice, (first, second) = _two_admissions_racing()
    with tasks_queued():
        _race_draft_against_finish(first, second)
    # Right after the race, before any late task: the first attempt has no current decision.
    assert not AttestationDecision.objects.filter(attempt=first, superseded=False).exists()
    for attempt in (first, second):
        attestation_decision_draft(attempt=attempt)  # late or repeated tasks change nothing
    current = _current(alice)
    assert [d.attempt_id for d in current] == [second.pk] and current[0].kind == "refused"


def _race_draft_against_finish(first, second):
    from django.db import transaction

    from exam.testing.services.attempts import attempt_finalize

    attempt_finalize(attempt_id=first.pk)
    finishing = threading.Event()

    def finish_second():
        with transaction.atomic():
            attempt_finalize(attempt_id=second.pk)
            finishing.set()
            threading.Event().wait(0.5)  # the draft below runs while this has not committed

    def draft_first():
        assert finishing.wait(timeout=30)
        attestation_decision_draft(attempt=first)

    _results, errors = run_concurrently(finish_second, draft_first)
    assert not errors, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_attempts_of_one_person_finishing_at_the_same_moment_leave_one_current_decision():
    from exam.testing.services.attempts import attempt_finalize

    alice, attempts = _two_admissions_racing()
    # Two sweepers and the two attempts' own deadline tasks, all at once; each finalisation drafts
    # its decision after its commit (eager Celery in tests).
    _results, errors = run_concurrently(
        attempt_finalize_due,
        attempt_finalize_due,
        lambda: attempt_finalize(attempt_id=attempts[0].pk),
        lambda: attempt_finalize(attempt_id=attempts[1].pk),
    )
    assert not errors, errors
    # Before any late task: at most one current decision, and none on the earlier attempt.
    current = _current(alice)
    assert len(current) <= 1 and not [d for d in current if d.attempt_id == attempts[0].pk]
    for attempt in attempts:
        attestation_decision_draft(attempt=attempt)
    final = final_result(attempts[0].application)
    current = _current(alice)
    assert len(current) == 1 and current[0].attempt_id == final.pk
    assert final.pk == attempts[1].pk  # the same finish time: the later attempt is the last


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_superseding_does_not_wait_for_a_transaction_that_writes_for_the_same_account():
    """Signing and issuing write rows that refer to the candidate's account (a notification, an
    audit record), which takes a key-share lock on it. Superseding must not lock the account row
    (it would wait for them while they wait for the decision it holds: a deadlock). The check of a
    foreign key is deferred to the commit; the test makes it immediate to hold the lock now."""
    from django.db import connection, transaction

    from core.models import Notification
    from exam.testing.services.attempts import attempt_finalize

    alice, (first, second) = _two_admissions_racing()
    attempt_finalize(attempt_id=first.pk)
    writing, done = threading.Event(), threading.Event()

    def write_for_the_account():
        with transaction.atomic():
            Notification.objects.create(recipient=alice, subject="—", body="—")
            with connection.cursor() as cursor:  # the foreign key's check, as at the commit
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            writing.set()
            done.wait(timeout=30)

    def finish_the_later_attempt():
        assert writing.wait(timeout=30)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                attempt_finalize(attempt_id=second.pk)
        finally:
            done.set()

    _results, errors = run_concurrently(write_for_the_account, finish_the_later_attempt)
    assert not errors, errors
    second.refresh_from_db()
    assert second.status == "finished"


def test_the_sweeper_supersedes_a_stale_decision_left_from_before_the_rule(exam_setup, alice, victor, sergey, eva):
    from registry.tasks import attestation_decision_sweep

    attested = _draft(pass_the_test(exam_setup["credential"], correct=40))
    failed = pass_the_test(_second_admission(alice, victor, sergey, eva), correct=12)
    refusal = _draft(failed)
    # A database upgraded from a version without the rule: the old draft was never superseded.
    AttestationDecision.objects.filter(pk=attested.pk).update(
        superseded=False, superseded_at=None, superseded_reason=""
    )
    Deadline.objects.filter(case_id=attested.pk, kind="attestation.decision").update(
        cancelled_at=None, completed_at=None
    )

    attestation_decision_sweep()
    attested.refresh_from_db()
    assert attested.superseded and "п. 58" in attested.superseded_reason
    assert not Deadline.objects.filter(case_id=attested.pk, kind="attestation.decision", completed_at__isnull=True)
    assert _current(alice) == [refusal]


# --- A refusal of attestation cancelled on an upheld complaint (p.88-89) ------------------------------


def test_a_cancelled_refusal_of_attestation_is_no_longer_current_and_a_new_decision_is_drafted(
    exam_setup, alice, sergey, hanna
):
    from core import calendar
    from core.models import AuditEvent, Notification
    from registry.services import attestation_decision_current_error, attestation_refusal_cancel

    refusal = _draft(pass_the_test(exam_setup["credential"], correct=30))
    attestation_decision_sign(decision=refusal, by=sergey)
    term_from = calendar.today()
    new = attestation_refusal_cancel(
        decision=refusal, by=hanna, reason="Жалоба удовлетворена (п. 78 «д»).", term_from=term_from
    )
    refusal.refresh_from_db()
    assert refusal.superseded and "Отменено по жалобе" in refusal.superseded_reason
    assert attestation_decision_current_error(refusal)  # never signed, issued or sent again
    assert new is not None and new.status == "draft" and _current(alice) == [new]
    term = Deadline.objects.get(case_id=new.pk, kind="attestation.decision")
    assert (term.started_on, term.due_on) == (term_from, calendar.add_working_days(term_from, 15))
    assert AuditEvent.objects.filter(verb="attestation_refusal_cancel", case_id=refusal.pk, actor=hanna).exists()
    assert Notification.objects.filter(recipient=alice, subject="Решение об отказе в аттестации отменено").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=new, by=sergey)  # signed as usual


def test_only_a_current_signed_refusal_of_attestation_can_be_cancelled(exam_setup, sergey, hanna):
    from core import calendar
    from registry.services import attestation_refusal_cancel

    refusal = _draft(pass_the_test(exam_setup["credential"], correct=30))
    with pytest.raises(DomainError) as err:  # a draft is not a decision yet
        attestation_refusal_cancel(decision=refusal, by=hanna, reason="Жалоба.", term_from=calendar.today())
    assert err.value.code == "not_signed_refusal"
    attestation_decision_sign(decision=refusal, by=sergey)
    attestation_refusal_cancel(decision=refusal, by=hanna, reason="Жалоба.", term_from=calendar.today())
    refusal.refresh_from_db()
    with pytest.raises(DomainError) as err:  # cancelled once: superseded
        attestation_refusal_cancel(decision=refusal, by=hanna, reason="Жалоба.", term_from=calendar.today())
    assert err.value.code == "superseded"
