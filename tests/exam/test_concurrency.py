"""Concurrency on PostgreSQL: simultaneous submissions get distinct, consecutive numbers."""

import re

import pytest
from django.core import mail

from exam.admission import services
from exam.models import Application
from tests.conftest import fill_application, make_user, run_concurrently

N = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_submissions_get_fifty_consecutive_numbers(settings):
    settings.APPLICATION_NUMBER_FORMAT = "{year}-{seq:05d}"
    prepared = []
    for i in range(N):
        candidate = make_user(f"c{i}@example.ru", last="Кандидатов", first="Кирилл")
        application = services.application_start(candidate=candidate)
        fill_application(application, candidate)
        mail.outbox.clear()
        services.signature_request(application=application, by=candidate)
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        prepared.append((application, candidate, code))

    _results, errors = run_concurrently(
        *[
            (lambda a=a, c=c, code=code: services.application_submit(application=a, by=c, code=code))
            for a, c, code in prepared
        ]
    )
    assert not errors, errors
    numbers = list(Application.objects.values_list("registration_number", flat=True))
    assert len(numbers) == N and all(numbers)
    sequence = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequence == list(range(1, N + 1))


def _exam_ready():
    from exam.testing.services.bank import blueprint_set
    from tests.conftest import admit, make_bank, make_sitting, make_user, open_sitting

    make_bank()
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    candidate = make_user("cand@example.ru", last="Кандидатов", first="Кирилл")
    reviewer = make_user("rev@mintrud.test", last="Ревьюев", first="Роман", roles=("reviewer",))
    signatory = make_user("sig@mintrud.test", last="Подписнов", first="Павел", roles=("signatory",))
    admin = make_user("adm@mintrud.test", last="Админов", first="Антон", roles=("exam_admin",))
    sitting = make_sitting(admin, days_ahead=1)
    credential = admit(candidate, reviewer, signatory, sitting)
    open_sitting(sitting)
    from exam.testing.services.attempts import attempt_start

    return attempt_start(credential=credential, session_key="k", personally=True)


def _race(workers):
    return run_concurrently(*workers)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_candidate_submit_racing_the_automatic_finalisation_gives_exactly_one_result():
    import time_machine

    from core.models import AuditEvent
    from exam.models import AttemptEvent
    from exam.testing.services import attempts as service

    attempt = _exam_ready()
    # At the very deadline: the candidate presses "finish" as the sweeper and the task run.
    with time_machine.travel(attempt.deadline_at, tick=False):
        _results, errors = _race(
            [
                lambda: service.attempt_submit(attempt=attempt, session_key="k"),
                lambda: service.attempt_finalize_due(),
                lambda: service.attempt_finalize(attempt_id=attempt.pk),
                lambda: service.attempt_submit(attempt=attempt, session_key="k"),
            ]
        )
    assert not errors, errors
    attempt.refresh_from_db()
    assert attempt.status == "finished" and attempt.finished_at == attempt.deadline_at
    assert AuditEvent.objects.filter(verb="finish", case_id=attempt.pk).count() == 1
    assert AttemptEvent.objects.filter(attempt=attempt, kind__in=["submitted", "expired"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_hundred_saves_of_one_question_out_of_order_end_with_the_newest():
    import random

    from exam.models import AttemptItem
    from exam.testing.services import attempts as service

    attempt = _exam_ready()
    item = attempt.items.select_related("version").get(position=7)
    options = len(item.version.options)
    # Each save chooses a different combination; seq 100 chooses [seq % options].
    saves = [(seq, [seq % options]) for seq in range(1, 101)]
    random.shuffle(saves)

    # 20 concurrent clients (connections) deliver the 100 saves between them, in shuffled order.
    def deliver(batch):
        return lambda: [
            service.attempt_save_answer(
                attempt_id=attempt.pk, session_key="k", position=7, answer=answer, flagged=None, seq=seq
            )
            for seq, answer in batch
        ]

    results, errors = _race([deliver(saves[i::20]) for i in range(20)])
    assert not errors, errors
    stored = AttemptItem.objects.get(pk=item.pk)
    assert stored.seq == 100
    assert stored.answer == [100 % options]
    acknowledged = [r for batch in results for r in batch]
    assert len(acknowledged) == 100 and all(r.seq >= 1 for r in acknowledged)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_save_acknowledged_while_the_test_is_being_finalised_is_scored():
    """Saves of every question race the candidate's submit: each save either is acknowledged and
    then counted in the score with exactly that answer, or is refused because the test is over."""
    from core.errors import DomainError
    from exam.models import AttemptItem
    from exam.testing.services import attempts as service

    attempt = _exam_ready()
    items = list(attempt.items.select_related("version").order_by("position"))
    acknowledged: dict[int, list[int]] = {}
    refused = []

    def save(item):
        def run():
            for seq in range(1, 6):  # a few changes each, the last one the correct answer
                answer = sorted(item.version.correct) if seq == 5 else [(seq + 1) % len(item.version.options)]
                try:
                    service.attempt_save_answer(
                        credential_id=attempt.credential_id,
                        session_key="k",
                        position=item.position,
                        answer=answer,
                        flagged=None,
                        seq=seq,
                    )
                except DomainError as exc:
                    refused.append(exc.code)
                    return
                acknowledged[item.position] = answer

        return run

    workers = [save(item) for item in items[:30]]
    workers.append(lambda: service.attempt_submit(attempt=attempt, session_key="k"))
    _results, errors = _race(workers)
    assert not errors, errors
    attempt.refresh_from_db()
    assert attempt.status == "finished"
    assert set(refused) <= {"attempt_finished"}
    stored = {i.position: i for i in AttemptItem.objects.filter(attempt=attempt).select_related("version")}
    for position, answer in acknowledged.items():
        assert stored[position].answer == answer, position
    expected = sum(1 for i in stored.values() if sorted(i.answer) == sorted(i.version.correct))
    assert attempt.score == expected
    assert all(i.is_correct is not None for i in stored.values())
