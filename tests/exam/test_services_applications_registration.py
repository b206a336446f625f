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
