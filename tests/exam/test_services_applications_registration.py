"""Registration numbers across the New Year, and the rules a paper registration shares with the
portal: one case at a time, a date of receipt that is neither in the future nor long past."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.errors import DomainError
from exam.admission import services
from exam.models import Application, Attachment
from tests.conftest import (
    cleaned,
    complete_payload,
    fill_application,
    make_user,
    registered_application,
    sign_and_submit,
)

MSK = ZoneInfo("Europe/Moscow")


def _register_at(candidate, moment):
    application = services.application_start(candidate=candidate)
    fill_application(application, candidate)
    with time_machine.travel(moment.replace(tzinfo=MSK), tick=False):
        sign_and_submit(application, candidate)
    application.refresh_from_db()
    return application.registration_number


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [
        ("З-{year}-{seq:05d}", ["З-2026-00001", "З-2026-00002", "З-2027-00001"]),
        # Without {year} one series runs on: restarting would repeat 2026's numbers (and fail).
        ("З-{seq:05d}", ["З-00001", "З-00002", "З-00003"]),
    ],
)
def test_registration_numbers_across_the_new_year(alice, oscar, settings, number_format, expected):
    settings.APPLICATION_NUMBER_FORMAT = number_format
    zoe = make_user("zoe@example.ru", last="Зотова", first="Зоя")
    moments = [datetime(2026, 12, 29, 10), datetime(2026, 12, 30, 10), datetime(2027, 1, 12, 10)]
    numbers = [_register_at(c, m) for c, m in zip([alice, oscar, zoe], moments, strict=True)]
    assert numbers == expected


def _paper(rita, **overrides):
    kwargs = {
        "by": rita,
        "channel": "mail",
        "received_at": timezone.now(),
        "cleaned": cleaned(complete_payload()),
        "paper_documents": list(Attachment.Kind.values),
        "candidate_email": "alice@example.ru",
    }
    kwargs.update(overrides)
    return services.application_register_paper(**kwargs)


def test_paper_application_of_a_candidate_with_a_case_in_progress_is_refused(rita, alice):
    current = registered_application(alice)
    with pytest.raises(DomainError) as err:
        _paper(rita)
    assert err.value.status == 409 and err.value.code == "application_in_progress"
    assert current.registration_number in err.value.message
    assert Application.objects.count() == 1


def test_candidate_cannot_submit_a_draft_while_a_paper_case_is_in_progress(rita, alice):
    draft = services.application_start(candidate=alice)
    fill_application(draft, alice)
    paper = _paper(rita)
    assert paper.status == Application.Status.REGISTERED
    with pytest.raises(DomainError) as err:
        sign_and_submit(draft, alice)
    assert err.value.code == "application_in_progress"
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT and draft.registration_number is None


def test_paper_application_received_in_the_future_is_refused(rita, alice):
    with pytest.raises(DomainError) as err:
        _paper(rita, received_at=timezone.now() + timedelta(hours=2))
    assert "будущем" in err.value.message and "received_at" in err.value.fields
    assert not Application.objects.exists()


def test_paper_application_received_long_ago_is_refused(rita, alice, settings):
    with pytest.raises(DomainError) as err:
        _paper(rita, received_at=timezone.now() - timedelta(days=settings.PAPER_RECEIVED_MAX_DAYS + 1))
    assert "дней назад" in err.value.message and "received_at" in err.value.fields
    assert not Application.objects.exists()
    # Within the window it is registered, from the day it arrived.
    application = _paper(rita, received_at=timezone.now() - timedelta(days=settings.PAPER_RECEIVED_MAX_DAYS - 1))
    assert application.status == Application.Status.REGISTERED


# --- p.25 and p.46: registration and transfer, each within one working day --------------------------

# A week of September 2026 without holidays: Monday 14 to Friday 18.
MONDAY = datetime(2026, 9, 14, 11, 0, tzinfo=MSK)


def _at(day: int, hour: int = 11) -> datetime:
    return datetime(2026, 9, day, hour, 0, tzinfo=MSK)


def _term(application, kind):
    from core.models import Deadline

    return Deadline.objects.get(case_id=application.pk, kind=kind)


def test_a_paper_application_registered_two_days_after_receipt_is_flagged_late(rita, alice, audrey):
    from django.urls import reverse

    from core.models import AuditEvent
    from exam.admission import selectors
    from tests.conftest import client_for

    with time_machine.travel(_at(16), tick=False):  # Wednesday; received by post on Monday
        application = _paper(rita, received_at=MONDAY)
    assert application.registration_date == MONDAY.date()  # p.26: dated by its arrival
    assert selectors.application_registration_due(application) == _at(15).date()
    assert selectors.application_registered_late(application)
    registration = _term(application, selectors.DEADLINE_REGISTRATION)
    assert registration.due_on == _at(15).date() and registration.completed_at == _at(16)
    event = AuditEvent.objects.get(verb="register", case_id=application.pk)
    assert event.data["registered_late"] is True and event.data["registration_due_on"] == "2026-09-15"
    with time_machine.travel(_at(16, 12), tick=False):
        staff_page = client_for(audrey).get(reverse("frontend:staff_application", args=[application.pk]))
        journal = client_for(rita).get(reverse("frontend:staff_journal"))
    assert "Зарегистрировано с нарушением срока п. 25" in staff_page.content.decode()
    assert "data-registered-late" in journal.content.decode()


def test_a_paper_application_registered_the_next_working_day_is_on_time(rita, alice):
    from django.urls import reverse

    from exam.admission import selectors
    from tests.conftest import client_for

    with time_machine.travel(_at(15), tick=False):
        application = _paper(rita, received_at=MONDAY)
    assert not selectors.application_registered_late(application)
    assert _term(application, selectors.DEADLINE_REGISTRATION).completed_at == _at(15)
    with time_machine.travel(_at(15, 12), tick=False):
        journal = client_for(rita).get(reverse("frontend:staff_journal")).content.decode()
    assert application.registration_number in journal and "data-registered-late" not in journal


def test_an_electronic_application_has_no_registration_term_of_its_own(alice):
    """p.26: it is registered on arrival; p.25's working day is for paper."""
    from core.models import Deadline
    from exam.admission import selectors

    application = registered_application(alice)
    assert selectors.application_registration_due(application) is None
    assert not selectors.application_registered_late(application)
    assert not Deadline.objects.filter(kind=selectors.DEADLINE_REGISTRATION).exists()


def test_the_transfer_to_the_department_is_a_term_closed_when_a_reviewer_takes_the_file(alice, victor):
    """p.46: within one working day of the registration."""
    from exam.admission import selectors

    with time_machine.travel(_at(18, 20), tick=False):  # Friday evening
        application = registered_application(alice)
    transfer = _term(application, selectors.DEADLINE_TRANSFER)
    assert transfer.due_on == _at(21).date() and transfer.completed_at is None  # Monday
    assert transfer.role == "reviewer"
    with time_machine.travel(_at(21, 10), tick=False):
        services.application_start_review(application=application, by=victor)
    transfer.refresh_from_db()
    assert transfer.completed_at == _at(21, 10)
