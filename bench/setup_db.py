"""Preparing the bench database with the ORM (run by the drivers as a subprocess with the bench
environment: ``python -m bench.setup_db prepare|expiry ...``). Prints one JSON line last.

``prepare``: migrate, the sample bank (152 questions, blueprint of 40), collectstatic (DEBUG=false
serves the manifest), the reference table, one sitting open now, and admitted candidates with
testing-system credentials: ``bench-i`` (the sitting), ``cap-i`` (the capacity phase), ``exp-i``
(the expiry test).

``expiry``: 1,000 attempts (by default) of the ``exp-i`` candidates created directly in the database
with their 40 items, deadlines spread over one minute starting a few seconds from now; with
``--eta`` the finalisation task of each is also queued for its deadline, as ``attempt_start`` does.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import time
from datetime import timedelta
from typing import Any

import django


def _setup() -> None:
    django.setup()


def _static_stale() -> bool:
    """collectstatic with the compressing manifest storage takes half a minute: redo it only when
    the manifest is missing or older than one of the project's own static files."""
    from django.conf import settings

    from bench.common import ROOT

    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in ROOT.glob("*/static/**/*") if p.is_file())


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.common import PASSWORD
    from bench.reference import CREATE_SQL
    from core.models import User
    from core.roles import Role
    from exam.models import Application, ExamCredential, Sitting
    from exam.testing.services.attempts import tests_prepare

    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_sample_bank", verbosity=0)
    if _static_stale():
        call_command("collectstatic", "--noinput", verbosity=0)
        (settings.STATIC_ROOT / "staticfiles.json").touch()  # an unchanged manifest is not rewritten
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL)

    now = timezone.now()
    groups = [("bench", args.candidates), ("cap", args.capacity), ("exp", args.expiry)]
    total = sum(count for _prefix, count in groups)
    unusable = make_password(None)
    with transaction.atomic():
        sitting = Sitting.objects.create(
            starts_at=now - timedelta(minutes=1), entry_window_minutes=120, is_remote=True, capacity=total
        )
        users = User.objects.bulk_create(
            [
                User(
                    email=f"{prefix}-{i}@bench.invalid",
                    last_name="Нагрузочный",
                    first_name=f"{prefix}{i}",
                    password=unusable,
                )
                for prefix, count in groups
                for i in range(count)
            ],
            batch_size=2000,
        )
        today = timezone.localdate()
        applications = Application.objects.bulk_create(
            [
                Application(
                    candidate=user,
                    person_key=f"user:{user.pk}",
                    status=Application.Status.ADMITTED,
                    last_name=user.last_name,
                    first_name=user.first_name,
                    registration_number=f"BENCH-{n}",
                    registration_date=today,
                    received_at=now,
                    registered_at=now,
                )
                for n, user in enumerate(users)
            ],
            batch_size=2000,
        )
        credentials = []
        for application, user in zip(applications, users, strict=True):
            credential = ExamCredential(
                application=application,
                sitting=sitting,
                login=user.email.split("@")[0],
                password_issued_at=now,
            )
            credential.set_password(PASSWORD)
            credentials.append(credential)
        ExamCredential.objects.bulk_create(credentials, batch_size=2000)
        # Two signatories, as the ministry has: each decision drafted after a test tells them
        # (core.services.notification_gather), work of the worker at the sitting's end.
        signatories = Group.objects.get_or_create(name=Role.SIGNATORY)[0]
        for i in range(2):
            signatory = User.objects.create(
                email=f"signatory-{i}@bench.invalid", last_name="Подписной", first_name=f"s{i}", is_staff=True
            )
            signatory.groups.add(signatories)
    # The sitting's list is final: the individual tests are drawn now, as the task tests_prepare_due
    # does before a sitting (--no-prepare: every start draws its own, as before they were prepared).
    prepared, began = 0, time.monotonic()
    while not args.no_prepare and (count := tests_prepare(sitting=sitting, limit=5000)):
        prepared += count
    return {
        "sitting": sitting.pk,
        "candidates": total,
        "groups": dict(groups),
        "prepared_tests": prepared,
        "prepare_s": round(time.monotonic() - began, 1),
    }


def expiry(args: argparse.Namespace) -> dict[str, Any]:
    """Attempts created straight in the database, their deadlines spread over ``spread`` seconds
    starting ``lead`` seconds after the last row is written."""
    from django.conf import settings
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from exam.models import Attempt, AttemptItem, BlueprintItem, ExamCredential, QuestionVersion
    from exam.testing.services.attempts import finalisation_schedule

    rng = random.Random(args.seed)
    credentials = list(
        ExamCredential.objects.filter(login__startswith="exp-")
        .exclude(attempts__status=Attempt.Status.IN_PROGRESS)
        .select_related("application", "sitting")
        .order_by("pk")[: args.count]
    )
    if len(credentials) < args.count:
        raise SystemExit(f"only {len(credentials)} exp- candidates without an attempt under way")
    active = QuestionVersion.objects.filter(
        question__retired_at__isnull=True, question__practice_only=False, question__current_id=F("pk")
    )
    by_topic: dict[int, list[QuestionVersion]] = {}
    for version in active.select_related("question"):
        by_topic.setdefault(version.question.topic_id, []).append(version)
    blueprint = [(item.topic_id, item.count) for item in BlueprintItem.objects.all()]
    far = timezone.now() + timedelta(hours=1)
    with transaction.atomic():
        attempts = Attempt.objects.bulk_create(
            [
                Attempt(
                    credential=credential,
                    application=credential.application,
                    sitting=credential.sitting,
                    rules_confirmed_at=timezone.now(),
                    started_at=timezone.now(),
                    deadline_at=far,
                    question_count=sum(count for _topic, count in blueprint),
                    pass_score=settings.EXAM_PASS_SCORE,
                    session_key=secrets.token_hex(16),
                )
                for credential in credentials
            ],
            batch_size=1000,
        )
        items = []
        for attempt in attempts:
            versions = [v for topic, count in blueprint for v in rng.sample(by_topic[topic], count)]
            rng.shuffle(versions)
            for position, version in enumerate(versions, start=1):
                order = rng.sample(range(len(version.options)), len(version.options))
                items.append(
                    AttemptItem(
                        attempt=attempt,
                        position=position,
                        version=version,
                        option_order=order,
                        answer=[rng.choice(order)],
                        seq=position,
                        answered_at=timezone.now(),
                    )
                )
        AttemptItem.objects.bulk_create(items, batch_size=5000)
    # Deadlines from now on: spread evenly over the minute, in random order of the attempts.
    first = timezone.now() + timedelta(seconds=args.lead)
    offsets = [args.spread * i / max(1, len(attempts) - 1) for i in range(len(attempts))]
    rng.shuffle(offsets)
    deadlines = {}
    with transaction.atomic():
        for attempt, offset in zip(attempts, offsets, strict=True):
            deadlines[attempt.pk] = first + timedelta(seconds=offset)
        Attempt.objects.bulk_update(
            [Attempt(pk=pk, deadline_at=deadline) for pk, deadline in deadlines.items()],
            ["deadline_at"],
            batch_size=1000,
        )
    if args.eta:
        for deadline in deadlines.values():  # as the start does: one task per second of deadlines
            finalisation_schedule(deadline)
    return {
        "attempts": sorted(deadlines),
        "first_deadline": min(deadlines.values()).timestamp(),
        "last_deadline": max(deadlines.values()).timestamp(),
        "eta": args.eta,
        "items": len(items),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--candidates", type=int, default=500)
    p.add_argument("--capacity", type=int, default=32)
    p.add_argument("--expiry", type=int, default=1000)
    p.add_argument("--no-prepare", action="store_true", help="no test drawn ahead: every start draws its own")
    e = sub.add_parser("expiry")
    e.add_argument("--count", type=int, default=1000)
    e.add_argument("--lead", type=float, default=15)
    e.add_argument("--spread", type=float, default=60)
    e.add_argument("--eta", action="store_true")
    e.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _setup()
    result = prepare(args) if args.command == "prepare" else expiry(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
