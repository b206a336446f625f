"""The admission notice's sitting as a calendar entry, and the reminder e-mailed the day before it,
once (issue 13)."""

from datetime import timedelta

import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from icalendar import Calendar

from core.models import Notification
from exam.admission.services import exam_reminder_send, exam_reminders_send_due
from exam.admission.services.notices import exam_reminder_due_at
from tests.conftest import admit, client_for, make_sitting


def _admitted(alice, victor, sergey, eva):
    sitting = make_sitting(eva, days_ahead=5)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the notice is issued
        credential = admit(alice, victor, sergey, sitting)
    credential.refresh_from_db()
    return credential


def test_the_notice_gives_the_testing_system_and_a_calendar_entry(alice, oscar, victor, sergey, eva, settings):
    settings.SITE_URL = "https://sout.example.ru"
    credential = _admitted(alice, victor, sergey, eva)
    application = credential.application
    page = client_for(alice).get(application.cabinet_url()).content.decode()
    assert "https://sout.example.ru/exam/" in page
    url = reverse("frontend:cabinet_sitting_ics", args=[application.pk])
    assert url in page
    response = client_for(alice).get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == credential.sitting.starts_at
    assert str(event.get("url")) == "https://sout.example.ru/exam/"
    assert credential.login in str(event.get("description"))
    assert event.walk("VALARM")
    assert client_for(oscar).get(url).status_code == 404


def test_the_reminder_goes_the_day_before_and_only_once(alice, victor, sergey, eva):
    credential = _admitted(alice, victor, sergey, eva)
    due = exam_reminder_due_at(credential.sitting.starts_at)
    mail.outbox.clear()
    with time_machine.travel(due - timedelta(hours=1), tick=False):
        assert exam_reminders_send_due() == 0  # too early
    with time_machine.travel(due + timedelta(minutes=5), tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert exam_reminders_send_due() == 1
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert exam_reminders_send_due() == 0  # the next hourly run
            assert exam_reminder_send(credential=credential) is False
    reminders = [m for m in mail.outbox if "Напоминание" in m.subject]
    assert len(reminders) == 1 and reminders[0].to == [alice.email]
    assert credential.login in reminders[0].body and "/exam/" in reminders[0].body
    assert Notification.objects.filter(recipient=alice, subject__startswith="Напоминание").count() == 1


def test_no_reminder_after_the_sitting_has_started(alice, victor, sergey, eva):
    credential = _admitted(alice, victor, sergey, eva)
    with time_machine.travel(credential.sitting.starts_at + timedelta(minutes=1), tick=False):
        assert exam_reminders_send_due() == 0
    credential.refresh_from_db()
    assert credential.reminder_sent_at is None
