"""The sign-in's and the start's reads of the credential: on PostgreSQL one prepared statement each
(the ORM's compilation of them cost more CPU than the rest of the request, at a sitting's peak), and
what they load is what the ORM's queries load, in every state of a credential."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.errors import DomainError
from exam.models import Application, ExamCredential
from exam.testing.services import attempts as service

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the statements of PostgreSQL")


def loaded(credential):
    """What the entry reads of a credential, as plain values (None for a credential not found)."""
    if credential is None:
        return None
    application, sitting = credential.application, credential.sitting
    candidate = application._state.fields_cache.get("candidate", "not read")
    return {
        "credential": fields(credential),
        "application": fields(application),
        "candidate": candidate if candidate in (None, "not read") else fields(candidate),
        "sitting": None if sitting is None else fields(sitting),
        "has_attempts": credential.has_attempts,
    }


def fields(instance):
    """Each field of the instance's model: its value as loaded, or 'deferred'."""
    return {f.attname: instance.__dict__.get(f.attname, "deferred") for f in type(instance)._meta.concrete_fields}


def both_reads(credential):
    """(the prepared statements' result, the ORM's) for the sign-in and for the start."""
    login = (service._credential_for_login(credential.login), service._login_query(credential.login).first())
    with transaction.atomic():
        start = (service._credential_for_start(credential.pk), service._start_query(credential.pk).first())
    return login, start


def assert_same(credential):
    for prepared, orm in both_reads(credential):
        assert loaded(prepared) == loaded(orm)
        assert prepared is not None


def test_the_entry_reads_load_what_the_orm_loads_in_every_state_of_a_credential(exam_setup):
    credential = exam_setup["credential"]
    assert_same(credential)  # admitted, the window open, no attempt yet

    ExamCredential.objects.filter(pk=credential.pk).update(
        failed_logins=3, locked_until=timezone.now() + timedelta(minutes=5)
    )
    assert_same(credential)

    service.attempt_start(credential=credential, session_key="k", personally=True)
    assert_same(credential)  # has an attempt
    login, start = both_reads(credential)
    assert login[0].has_attempts is True and start[0].application.candidate == exam_setup["candidate"]

    Application.objects.filter(pk=credential.application_id).update(candidate=None)
    ExamCredential.objects.filter(pk=credential.pk).update(sitting=None)
    assert_same(credential)  # no candidate's account, no sitting
    login, start = both_reads(credential)
    assert login[0].sitting is None and start[0].application.candidate is None

    assert service._credential_for_login("nobody") is None
    with transaction.atomic():
        assert service._credential_for_start(credential.pk + 1000) is None


def test_the_sign_in_and_the_start_read_the_credential_in_a_prepared_statement(exam_setup):
    credential = exam_setup["credential"]
    with pytest.raises(DomainError):
        service.exam_login(login=credential.login, password="wrong password")  # refused, having read
    attempt = service.attempt_start(credential=credential.pk, session_key="k", personally=True)
    assert attempt.credential_id == credential.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    reads = [s for s in statements if "FROM exam_examcredential c" in s]
    assert any("WHERE c.login = $1" in s for s in reads)
    assert any("WHERE c.id = $1 FOR UPDATE OF c" in s for s in reads)


def test_the_start_writes_in_one_statement_what_the_orm_writes(exam_setup):
    """The attempt, its items and its event as the start's statement stores them, field by field
    against the same instances saved by the ORM, and the instances given their ids."""
    from exam.models import Attempt, AttemptEvent, AttemptItem

    credential = exam_setup["credential"]
    test = service._test_drawn()
    now = timezone.now()

    def write(*, orm):
        attempt = service._attempt_new(credential, test, now=now, session_key="k" * 32, ip="10.0.0.7", user_agent="UA")
        event = AttemptEvent(kind="started", ip="10.0.0.7", data={"ua": "UA"}, at=now)
        with transaction.atomic():
            if orm:
                attempt.save()
                service._items_store(attempt, test)
                event.attempt = attempt
                event.save()
            else:
                service._start_write(attempt, test, event)
        assert attempt.pk is not None and event.pk is not None and not attempt._state.adding
        stored = Attempt.objects.get(pk=attempt.pk)
        items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))
        return (
            {k: v for k, v in fields(stored).items() if k != "id"},
            [{k: v for k, v in fields(i).items() if k not in ("id", "attempt_id")} for i in items],
            {k: v for k, v in fields(AttemptEvent.objects.get(pk=event.pk, attempt=attempt)).items() if k != "id"}
            | {"attempt_id": None},
        )

    statement = write(orm=False)
    Attempt.objects.filter(credential=credential).update(status="finished")  # one under way at a time
    orm = write(orm=True)
    assert statement == orm
    assert len(statement[1]) == len(test) == 40
