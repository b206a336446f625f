"""Scheduled work: the daily reminder of due-soon and overdue deadlines, the staff dashboard counts,
and the safety net that issues a notice whose task was lost."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase
from django.urls import reverse

from core.models import Deadline, Notification
from core.tasks import deadline_flag_due
from exam.admission import selectors, services
from exam.models import Notice
from exam.tasks import notice_issue_pending
from tests.conftest import client_for, registered_application

MSK = ZoneInfo("Europe/Moscow")


def at(day, hour=8):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=MSK), tick=False)


def digests(user):
    return list(Notification.objects.filter(recipient=user, subject__startswith="Сроки на").order_by("id"))


def test_daily_task_reminds_every_day_from_due_soon_to_overdue_once_a_day(alice, victor, vera, outbox):
    from core import calendar

    application = registered_application(alice)
    due = Deadline.objects.get(kind=selectors.DEADLINE_DECISION).due_on
    with (
        at(calendar.add_working_days(application.registration_date, 5)),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert deadline_flag_due() == 2  # plenty of time for the decision, but nobody took the file (p.46)
    (transfer,) = digests(victor)
    assert transfer.subject.endswith("просрочено 1, истекает 0") and "передача заявления в департамент" in transfer.body
    assert "решение о допуске" not in transfer.body
    two_days_before = _previous(_previous(due))
    with at(two_days_before), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 2  # nobody took the file: both reviewers
    with at(two_days_before, hour=15), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 0  # a second run the same day sends nothing
    first = digests(victor)[1]
    assert first.subject == f"Сроки на {two_days_before:%d.%m.%Y}: просрочено 1, истекает 1"
    assert application.registration_number in first.body and "решение о допуске" in first.body
    assert f"срок {due:%d.%m.%Y} (истекает)" in first.body
    assert len(digests(vera)) == 2
    assert sorted(m.to[0] for m in outbox if m.subject == first.subject) == [vera.email, victor.email]  # by e-mail
    with at(_previous(due)), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 2  # the next day again, though the mark did not change
    for overdue_day in (calendar.next_working_day(due), calendar.next_working_day(calendar.next_working_day(due))):
        with at(overdue_day), TestCase.captureOnCommitCallbacks(execute=True):
            assert deadline_flag_due() == 2  # an overdue case is reminded every day until it is done
    latest = digests(victor)[-1]
    assert len(digests(victor)) == 5 and latest.subject.endswith("просрочено 2, истекает 0")
    assert "(просрочен)" in latest.body
    assert Deadline.objects.get(kind=selectors.DEADLINE_DECISION).flag == "overdue"


def test_one_digest_lists_all_of_a_persons_cases_overdue_first(alice, oscar, victor, vera):
    from core import calendar

    with time_machine.travel(datetime(2026, 11, 3, 10, 0, tzinfo=MSK), tick=False):
        later = registered_application(oscar)
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=MSK), tick=False):
        earlier = registered_application(alice)
    for application in (later, earlier):
        services.application_start_review(application=application, by=victor)
    day = calendar.next_working_day(Deadline.objects.get(case_id=earlier.pk, kind=selectors.DEADLINE_DECISION).due_on)
    assert Deadline.objects.get(case_id=later.pk, kind=selectors.DEADLINE_DECISION).due_on == day
    with at(day), TestCase.captureOnCommitCallbacks(execute=True):
        assert deadline_flag_due() == 1  # Victor took both files; Vera is not responsible
    (digest,) = digests(victor)
    assert digest.subject.endswith("просрочено 1, истекает 1")
    first, second = digest.body.splitlines()
    assert earlier.registration_number in first and "(просрочен)" in first
    assert later.registration_number in second and "(истекает)" in second
    assert not digests(vera)


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
    due = Deadline.objects.get(kind=selectors.DEADLINE_DECISION).due_on
    with at(calendar.next_working_day(due)), TestCase.captureOnCommitCallbacks(execute=True):
        deadline_flag_due()
    assert list(Notification.objects.filter(recipient__is_staff=True).values_list("recipient__email", flat=True)) == [
        victor.email
    ]
    assert application.registration_number in digests(victor)[0].body


def test_dashboard_counts_open_due_soon_and_overdue_work_of_the_users_roles(alice, oscar, victor, sergey):
    from core import calendar

    first = registered_application(alice)
    registered_application(oscar)
    due = Deadline.objects.filter(case_id=first.pk, kind=selectors.DEADLINE_DECISION).get().due_on
    with at(calendar.next_working_day(due)):
        page = client_for(victor).get(reverse("frontend:staff_dashboard")).content.decode()
        signatory_page = client_for(sergey).get(reverse("frontend:staff_dashboard")).content.decode()
    # Each file: the decision (p.12(a)) and, as nobody took it, the transfer to the department (p.46).
    assert '<div class="stat" data-count="open"><b>4</b>' in page
    assert '<div class="stat overdue" data-count="overdue"><b>4</b>' in page
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


def test_every_scheduled_task_is_registered_under_the_name_the_schedule_uses() -> None:
    """The beat schedule and tasks already queued name a task by its registered name: moving a task's
    module (exam/ split in two) must not change it."""
    import importlib

    from django.conf import settings

    from config.celery import app

    for name in ("core", "exam", "registry", "appeals"):
        importlib.import_module(f"{name}.tasks")  # what the worker's autodiscovery imports
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
    assert {
        "exam.tasks.attempt_finalize",
        "exam.tasks.attempt_finalize_second",
        "exam.tasks.notice_issue",
        "exam.tasks.signature_code_email",
    } <= set(app.tasks)


def test_the_worker_and_its_pool_run_at_the_niceness_of_the_settings(tmp_path, settings):
    """A real worker (the embedded mode's file-system broker, in a folder of its own): its processes
    yield the CPU to the app servers (config/celery.py)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from config.workdir import prepare

    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "SECRET_KEY": "s" * 50}
    env |= {"PATH": "/usr/bin:/bin", "WORKER_NICE": "7"}
    os.environ["VAR_DIR"], saved = str(tmp_path), os.environ.get("VAR_DIR")
    try:
        prepare()  # the broker's folders
    finally:
        os.environ.pop("VAR_DIR") if saved is None else os.environ.__setitem__("VAR_DIR", saved)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def nice_of_group() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == worker.pid:  # the worker's process group
                found.append(int(fields[16]))
        return found

    try:
        deadline = time.monotonic() + 60
        while len(nice := nice_of_group()) < 2 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert len(nice) >= 2, worker.stderr.read().decode() if worker.poll() is not None else nice
        assert set(nice) == {7}  # the worker and the process of its pool
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
