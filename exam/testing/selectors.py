"""Reads of the attestation test: what the exam room shows, results, the published bank and the
practice set, item statistics and the sitting monitor.

The answer key of a question that a test can draw is never read into anything a candidate or the
public sees: not in the room, not in the result (the score and pass or fail only, not which answers
were right), not in the practice quiz (which has practice-only questions of its own). Only the
exam administrator (the bank, its export, item statistics) and the appeals commission see it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from prometheus_client.metrics_core import Metric

from exam.models import (
    Application,
    Attempt,
    AttemptEvent,
    AttemptInterruption,
    AttemptItem,
    ExamCredential,
    Question,
    QuestionVersion,
    Sitting,
)


def attempt_for_credential(credential: ExamCredential) -> Attempt | None:
    """The attempt under way, or else the latest one."""
    return attempt_for_credential_id(credential.pk)


def attempt_for_credential_id(credential_id: int) -> Attempt | None:
    """The same, from the credential's id alone (the exam room's API: its session holds the id)."""
    return Attempt.objects.filter(credential_id=credential_id).order_by("-started_at").first()


# What the room shows of a question version, kept in the process: a version in an attempt has been
# shown and is never changed again (exam.testing.services.bank._edit_in_place), so what was read once
# stays true. Reconnecting candidates (a node restarted in a sitting) read it all again at once.
_SHOWN: dict[int, tuple[str, bool, list[str]]] = {}
_SHOWN_MAX = 20_000


def _shown_versions(ids: set[int]) -> dict[int, tuple[str, bool, list[str]]]:
    missing = ids - _SHOWN.keys()
    if missing:
        if len(_SHOWN) + len(missing) > _SHOWN_MAX:
            _SHOWN.clear()
        for version in QuestionVersion.objects.filter(pk__in=missing).only("text", "options", "correct"):
            _SHOWN[version.pk] = (version.prompt, version.is_multiple, list(version.options))
    return {pk: _SHOWN[pk] for pk in ids}


def attempt_state(attempt: Attempt) -> dict[str, Any]:
    """The exam room's view of an attempt: questions in the shown order with their options in the
    shown order, the stored answers and flags, and the server's clock. No correct answers."""
    now = timezone.now()
    rows: list[tuple[int, int, list[int], list[int], bool, int]]
    if attempt.stored_test is not None:  # just started: nothing answered yet (Attempt.stored_test)
        rows = [(position, v, order, [], False, 0) for position, (v, order) in enumerate(attempt.stored_test, 1)]
    else:
        rows = list(
            AttemptItem.objects.filter(attempt=attempt)
            .order_by("position")
            .values_list("position", "version_id", "option_order", "answer", "flagged", "seq")
        )
    versions = _shown_versions({row[1] for row in rows})
    items = []
    for position, version_id, option_order, answer, flagged, seq in rows:
        prompt, multiple, options = versions[version_id]
        items.append(
            {
                "position": position,
                "text": prompt,
                "multiple": multiple,
                "options": [{"id": index, "text": options[index]} for index in option_order],
                "answer": answer,
                "flagged": flagged,
                "seq": seq,
            }
        )
    max_seq = max((row[5] for row in rows), default=0)
    return {**attempt_clock(attempt, now=now), "max_seq": max_seq, "items": items}


def attempt_clock(attempt: Attempt, *, now: datetime | None = None) -> dict[str, Any]:
    """The server's clock of an attempt: its deadline and what remains of it now."""
    now = now or timezone.now()
    return {
        "attempt": attempt.pk,
        "status": attempt.status,
        "server_time": now.isoformat(),
        "deadline": attempt.deadline_at.isoformat(),
        "remaining_ms": int(attempt.remaining_seconds(now) * 1000),
    }


def attempt_result(attempt: Attempt) -> dict[str, Any]:
    """What the candidate sees at the end: the score and pass or fail (p.57). Not which questions
    were answered right: with the candidate's own answers that would be the key of each of them."""
    return {
        "attempt": attempt.pk,
        "status": attempt.status,
        "score": attempt.score,
        "question_count": attempt.question_count,
        "pass_score": attempt.pass_score,
        "passed": attempt.passed,
        "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
        "finish_reason": attempt.finish_reason,
    }


def attempt_review_counts(attempt: Attempt) -> dict[str, int]:
    """How many questions of the attempt an upheld appeal re-scored and voided (the candidate is
    told how many, not which)."""
    counts = attempt.items.aggregate(
        rescored=Count("pk", filter=Q(rescored=True)), voided=Count("pk", filter=Q(voided=True))
    )
    return {"rescored": counts["rescored"] or 0, "voided": counts["voided"] or 0}


def final_result(application: Application) -> Attempt | None:
    """p.58: the result of the last test the person took (over all their admissions)."""
    finished = Attempt.objects.filter(status=Attempt.Status.FINISHED, application__person_key=application.person_key)
    return finished.order_by("-finished_at", "-pk").first()


# --- The published bank (p.55) and practice --------------------------------------------------------


def _active_questions(*, practice_only: bool) -> QuerySet[Question]:
    return (
        Question.objects.filter(retired_at__isnull=True, current__isnull=False, practice_only=practice_only)
        .select_related("topic", "current")
        .order_by("topic__order", "topic__code", "code")
    )


def public_questions() -> QuerySet[Question]:
    """The published bank of the test (p.55): the questions a test can draw, without the answers."""
    return _active_questions(practice_only=False)


def practice_questions() -> QuerySet[Question]:
    """The practice set: practice-only questions, never drawn into a test, whose key the practice
    quiz shows. The practice quiz reads nothing else."""
    return _active_questions(practice_only=True)


# --- Item statistics --------------------------------------------------------------------------------


@dataclass
class ItemStats:
    version: QuestionVersion
    n: int
    facility: float | None
    discrimination: float | None
    option_counts: list[int]
    flags: list[str] = field(default_factory=list)


MIN_SAMPLE = 20


def item_statistics() -> list[ItemStats]:
    """For each question version shown in finished attempts: facility (share correct),
    discrimination (point-biserial correlation of the item with the rest of the score) and how often
    each option was chosen; questions that look broken are flagged."""
    rows = AttemptItem.objects.filter(attempt__status=Attempt.Status.FINISHED, voided=False).values_list(
        "version_id", "is_correct", "answer", "attempt__score"
    )
    by_version: dict[int, list[tuple[bool, list[int], int]]] = {}
    for version_id, correct, answer, score in rows:
        by_version.setdefault(version_id, []).append((bool(correct), answer or [], score or 0))
    versions = QuestionVersion.objects.select_related("question").in_bulk(list(by_version))
    result = []
    for version_id, data in by_version.items():
        version = versions[version_id]
        n = len(data)
        marks = [1.0 if c else 0.0 for c, _a, _s in data]
        rest = [s - (1 if c else 0) for c, _a, s in data]
        facility = sum(marks) / n if n else None
        discrimination = _point_biserial(marks, rest)
        counts = Counter(i for _c, answer, _s in data for i in answer)
        stats = ItemStats(
            version=version,
            n=n,
            facility=facility,
            discrimination=discrimination,
            option_counts=[counts.get(i, 0) for i in range(len(version.options))],
        )
        if n >= MIN_SAMPLE:
            if facility is not None and facility < 0.2:
                stats.flags.append("too_hard")
            if facility is not None and facility > 0.95:
                stats.flags.append("too_easy")
            if discrimination is not None and discrimination < 0.1:
                stats.flags.append("low_discrimination")
            key_choices = min(stats.option_counts[i] for i in version.correct)
            if any(c > key_choices for i, c in enumerate(stats.option_counts) if i not in version.correct):
                stats.flags.append("distractor_beats_key")
        result.append(stats)
    result.sort(key=lambda s: (not s.flags, s.version.question.code, s.version.number))
    return result


def _point_biserial(item: list[float], rest: list[int]) -> float | None:
    n = len(item)
    if n < 2:
        return None
    mean_i = sum(item) / n
    mean_r = sum(rest) / n
    cov = sum((a - mean_i) * (b - mean_r) for a, b in zip(item, rest, strict=True))
    var_i = sum((a - mean_i) ** 2 for a in item)
    var_r = sum((b - mean_r) ** 2 for b in rest)
    if var_i == 0 or var_r == 0:
        return None
    return cov / math.sqrt(var_i * var_r)


# --- The live monitor of a sitting ----------------------------------------------------------------


def sitting_monitor(sitting: Sitting) -> list[dict[str, Any]]:
    """Who is in the sitting, answered count, remaining time and the latest events."""
    now = timezone.now()
    attempts = (
        Attempt.objects.filter(sitting=sitting)
        .select_related("application")
        .annotate(
            answered=Count("items", filter=~Q(items__answer=[]), distinct=True),
            event_count=Count(
                "events",
                filter=Q(events__kind__in=(*AttemptEvent.CLIENT_KINDS, "takeover", "ip_changed", "browser_changed")),
                distinct=True,
            ),
        )
        .order_by("application__last_name")
    )
    latest: dict[int, list[str]] = {}
    for attempt_id, kind in (
        AttemptEvent.objects.filter(attempt__sitting=sitting).order_by("-at").values_list("attempt_id", "kind")[:500]
    ):
        bucket = latest.setdefault(attempt_id, [])
        if len(bucket) < 5:
            bucket.append(str(AttemptEvent.Kind(kind).label))
    interruptions: dict[int, list[dict[str, Any]]] = {}
    for interruption in AttemptInterruption.objects.filter(attempt__sitting=sitting):
        interruptions.setdefault(interruption.attempt_id, []).append(
            {
                "pk": interruption.pk,
                "label": str(interruption),
                "lost_minutes": interruption.lost_minutes,
                "max_minutes": interruption.max_minutes,
                "granted_minutes": interruption.granted_minutes,
            }
        )
    credentials = ExamCredential.objects.filter(sitting=sitting).select_related("application")
    started = {a.credential_id for a in attempts}
    rows = [
        {
            "attempt": a.pk,
            "name": a.application.full_name,
            "status": a.status,
            "in_progress": a.is_active,
            "status_label": str(a.get_status_display()),
            "answered": a.answered,
            "questions": a.question_count,
            "remaining_s": int(a.remaining_seconds(now)) if a.is_active else 0,
            "score": a.score,
            "passed": a.passed,
            "events": a.event_count,
            "latest_events": latest.get(a.pk, []),
            "extra_min": a.extra_seconds // 60,
            "interruptions": interruptions.get(a.pk, []),
        }
        for a in attempts
    ]
    rows += [
        {
            "attempt": None,
            "name": c.application.full_name,
            "status": "not_started",
            "in_progress": False,
            "status_label": _("не начинал(а)"),
            "answered": 0,
            "questions": 0,
            "remaining_s": 0,
            "score": None,
            "passed": None,
            "events": 0,
            "latest_events": [],
            "extra_min": 0,
            "interruptions": [],
        }
        for c in credentials
        if c.pk not in started
    ]
    return rows


def finalisation_scrape() -> Iterator[Metric]:
    """For /metrics (core.metrics): attempts past their deadline not yet finalised, and how long
    the oldest of them has waited (the finalisation lag while it grows)."""
    from core.metrics import gauge

    now = timezone.now()
    overdue = Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline_at__lte=now)
    oldest = overdue.order_by("deadline_at").values_list("deadline_at", flat=True).first()
    yield gauge("sout_attempts_overdue", "Attempts past their deadline not yet finalised", overdue.count())
    yield gauge(
        "sout_attempts_overdue_oldest_seconds",
        "How long the oldest attempt past its deadline has waited for its finalisation",
        (now - oldest).total_seconds() if oldest else 0.0,
    )
