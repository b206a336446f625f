"""A refusal to accept (p.19) cancelled on an upheld complaint (p.88-89): the application is
registered as of the submission that was refused (p.26), its terms counted from that day."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase

from core import calendar
from core.errors import DomainError
from core.models import AuditEvent, Deadline, Notification
from exam.admission import selectors, services
from exam.models import Application, Submission
from tests.conftest import fill_application, registered_application, sign_and_submit

MSK = ZoneInfo("Europe/Moscow")
ARRIVED = datetime(2026, 9, 14, 20, 30, tzinfo=MSK)  # a Monday evening, after office hours
CANCELLED = datetime(2026, 10, 5, 11, 0, tzinfo=MSK)  # three weeks later, on the complaint


def refused_to_accept(candidate):
    """The candidate submits without the documents: refused acceptance (p.19)."""
    application = services.application_start(candidate=candidate)
    fill_application(application, candidate, attachments=False)
    with time_machine.travel(ARRIVED, tick=False):
        sign_and_submit(application, candidate)
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    return application


def cancel(application, by, reason="Жалоба № Ж-2026-00001 удовлетворена: документы были приложены."):
    with time_machine.travel(CANCELLED, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        services.application_refusal_to_accept_cancel(application=application, by=by, reason=reason)
    application.refresh_from_db()
    return application


def test_a_cancelled_refusal_to_accept_registers_the_application_as_of_its_arrival(alice, rita):
    application = cancel(refused_to_accept(alice), rita)
    assert application.status == Application.Status.REGISTERED
    assert application.registration_number and application.registration_date == date(2026, 9, 14)
    assert application.received_at == ARRIVED and application.registered_by == rita
    assert application.not_accepted_reasons == []
    assert application.submissions.get().outcome == Submission.Outcome.ACCEPTED
    event = AuditEvent.objects.get(verb="accept_on_complaint")
    assert (event.from_state, event.to_state, event.actor) == ("not_accepted", "registered", rita)
    assert "Ж-2026-00001" in event.reason
    receipt = Notification.objects.filter(recipient=alice, subject__startswith="Заявление зарегистрировано").get()
    assert "Отказ в приёме документов от 14.09.2026 отменён" in receipt.body
    assert "Дата регистрации: 14.09.2026" in receipt.body


def test_the_terms_of_the_cancelled_refusal_to_accept_run_from_the_original_arrival(alice, rita):
    cancel(refused_to_accept(alice), rita)
    review = Deadline.objects.get(kind=selectors.DEADLINE_DECISION)
    assert review.started_on == date(2026, 9, 14)
    assert review.due_on == calendar.add_working_days(date(2026, 9, 14), 20)
    transfer = Deadline.objects.get(kind=selectors.DEADLINE_TRANSFER)  # p.46, from the same day
    assert (transfer.started_on, transfer.due_on) == (date(2026, 9, 14), date(2026, 9, 15))


def test_the_application_goes_to_the_reviewers_pool(alice, rita, victor):
    application = cancel(refused_to_accept(alice), rita)
    assert application in selectors.review_queue(user=victor)
    taken = services.application_start_review(application=application, by=victor)
    assert taken.status == Application.Status.UNDER_REVIEW


def test_only_a_refusal_to_accept_can_be_cancelled(alice, rita):
    application = registered_application(alice)
    with pytest.raises(DomainError) as err:
        services.application_refusal_to_accept_cancel(application=application, by=rita, reason="Жалоба.")
    assert err.value.status == 409
    assert not AuditEvent.objects.filter(verb="accept_on_complaint").exists()


def test_the_cancellation_joins_the_callers_transaction(alice, rita):
    """A plain atomic block: a caller's rollback (the complaint's remedy failing after it) takes the
    registration back too."""
    from django.db import transaction

    application = refused_to_accept(alice)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.application_refusal_to_accept_cancel(application=application, by=rita, reason="Жалоба.")
        raise Undo
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED and application.registration_number is None
