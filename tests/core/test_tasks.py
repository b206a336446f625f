"""Scheduled work: the daily flagging of due-soon and overdue deadlines, the staff dashboard counts,
and the safety net that issues a notice whose task was lost."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase
from django.urls import reverse

from core.models import Deadline, Notification
from core.tasks import deadline_flag_due
from exam import selectors, services
from exam.models import Notice
from exam.tasks import notice_issue_pending
from tests.conftest import client_for, registered_application

MSK = ZoneInfo("Europe/Moscow")


def at(day, hour=8):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=MSK), tick=False)


def test_daily_task_flags_due_soon_then_overdue_and_reminds_once_each(alice, victor, vera):
    from core import calendar

    application = registered_application(alice)
    due = Deadline.objects.get(kind=selectors.DEADLINE_DECISION).due_on
    with (
        at(calendar.add_working_days(application.registration_date, 5)),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert deadline_flag_due() == 0  # plenty of time
    two_days_before = _previous(_previous(due))
    with at(two_days_before), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 1
        assert deadline_flag_due() == 0  # the same mark reminds once
    # Nobody took the file: every reviewer is reminded.
    assert {n.recipient for n in Notification.objects.filter(subject__startswith="Истекает срок")} == {victor, vera}
    with at(due), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 0
    with at(calendar.next_working_day(due)), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 1
    assert Notification.objects.filter(subject__startswith="Просрочен срок", recipient=victor).exists()
    assert Deadline.objects.get().flag == "overdue"


def _previous(day):
    from datetime import timedelta

    from core import calendar

    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def test_reminder_goes_to_the_reviewer_who_took_the_file(alice, victor, vera):
    from core import calendar

    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    due = Deadline.objects.get().due_on
    with at(calendar.next_working_day(due)), TestCase.captureOnCommitCallbacks(execute=True):
        deadline_flag_due()
    assert list(
        Notification.objects.filter(subject__startswith="Просрочен").values_list("recipient__email", flat=True)
    ) == [victor.email]


def test_dashboard_counts_open_due_soon_and_overdue_work_of_the_users_roles(alice, oscar, victor, sergey):
    from core import calendar

    first = registered_application(alice)
    registered_application(oscar)
    due = Deadline.objects.filter(case_id=first.pk).get().due_on
    with at(calendar.next_working_day(due)):
        page = client_for(victor).get(reverse("frontend:staff_dashboard")).content.decode()
        signatory_page = client_for(sergey).get(reverse("frontend:staff_dashboard")).content.decode()
    assert '<div class="stat" data-count="open"><b>2</b>' in page
    assert '<div class="stat overdue" data-count="overdue"><b>2</b>' in page
    assert '<div class="stat" data-count="open"><b>0</b>' in signatory_page


def test_review_queue_is_ordered_by_deadline_with_marks(alice, oscar, victor):
    from core import calendar

    later = registered_application(oscar)
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=MSK), tick=False):
        earlier = registered_application(alice)
    with at(calendar.add_working_days(earlier.registration_date, 19)):
        page = client_for(victor).get(reverse("frontend:staff_review_queue")).content.decode()
    assert page.index(earlier.registration_number) < page.index(later.registration_number)
    assert 'data-mark="due_soon"' in page


def test_lost_notice_task_is_caught_by_the_sweeper(alice, victor, sergey, sitting):
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=sergey)  # on_commit never runs here: the task is "lost"
    assert not Notice.objects.exists()
    assert notice_issue_pending() == 1
    assert Notice.objects.filter(application=application).count() == 1
    assert notice_issue_pending() == 0
