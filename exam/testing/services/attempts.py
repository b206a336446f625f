"""The attestation test (p.12(g), 55-58): entry with the credentials of the admission notice, the
individual test, answers, the server's clock, submission and scoring.

The clock belongs to the server: ``deadline_at`` is stored when the test is built and an attempt is
finalised at the deadline by a task scheduled for that second of deadlines (finalisation_schedule),
by a periodic sweeper, and by any access to it, whichever comes first; the finish time recorded is
the deadline. An answer is acknowledged only after
it is committed to the database, so neither a closed browser nor a killed worker nor a restarted
Redis can lose it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import metrics
from core.db import fetch_prepared, inserted_fields
from core.errors import DomainError, NotFound
from core.models import User
from core.roles import Role, require_role
from core.services import audit_record, case_transition
from core.text import for_export
from exam.models import (
    Application,
    Attempt,
    AttemptEvent,
    AttemptInterruption,
    AttemptItem,
    BlueprintItem,
    ExamCredential,
    PreparedTest,
    QuestionVersion,
    Sitting,
)
from exam.signals import attempt_finished, attempt_result_changed

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _HasAttempts(TypedDict):
        has_attempts: bool

    EntryCredential = WithAnnotations[ExamCredential, _HasAttempts]

_random = random.SystemRandom()
LOGIN_LOCK = timedelta(minutes=15)
MAX_CLIENT_EVENTS = 1000
MAX_SEQ = 2**62


def new_session_key() -> str:
    return secrets.token_hex(16)


# --- Entry ----------------------------------------------------------------------------------------


def _window(sitting: Sitting) -> tuple[datetime, datetime]:
    return sitting.starts_at, sitting.starts_at + timedelta(minutes=sitting.entry_window_minutes)


# Whether the credential has had an attempt, read with it (the sign-in and the start).
_HAS_ATTEMPTS = Exists(Attempt.objects.filter(credential=OuterRef("pk")))

# What the sign-in reads (a sitting's peak): the credential's own checks, the admission, the window.
_LOGIN_READS = (
    "login",
    "password_hash",
    "failed_logins",
    "locked_until",
    "application__status",
    "sitting__starts_at",
    "sitting__entry_window_minutes",
)

# The sign-in's and the start's reads of the credential with its admission and sitting, on
# PostgreSQL in one prepared statement each (planned once per connection). Built by the ORM, each
# took more of a server's CPU than the rest of its request: compiling a query of three tables with
# a subquery costs more in Python than running it (bench/README.md, "The entry's own reads"). The
# ORM's queries (_login_query, _start_query) remain for SQLite, and a test holds both to the same
# result. Columns by table, in the order of the select list.
_CREDENTIAL_READ = """
SELECT {columns},
       EXISTS (SELECT 1 FROM exam_attempt t WHERE t.credential_id = c.id)
  FROM exam_examcredential c
  JOIN exam_application a ON a.id = c.application_id
  LEFT JOIN core_user u ON u.id = a.candidate_id
  LEFT JOIN exam_sitting s ON s.id = c.sitting_id
"""
_SITTING_COLUMNS = ("id", "starts_at", "entry_window_minutes")
_LOGIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "c": ("id", "login", "password_hash", "failed_logins", "locked_until", "application_id", "sitting_id"),
    "a": ("id", "status"),
    "u": (),
    "s": _SITTING_COLUMNS,
}
_START_COLUMNS: dict[str, tuple[str, ...]] = {
    "c": ("id", "application_id", "sitting_id"),
    "a": ("id", "status", "last_name", "first_name", "patronymic", "candidate_id"),
    "u": ("id", "email", "last_name", "first_name", "patronymic"),
    "s": _SITTING_COLUMNS,
}


def _select(columns: dict[str, tuple[str, ...]]) -> str:
    return _CREDENTIAL_READ.format(columns=", ".join(f"{t}.{c}" for t, names in columns.items() for c in names))


_LOGIN_SQL = _select(_LOGIN_COLUMNS) + " WHERE c.login = %s"
_START_SQL = _select(_START_COLUMNS) + " WHERE c.id = %s FOR UPDATE OF c"


def _instance(model: type[Any], values: dict[str, Any]) -> Any:
    """A model instance as the ORM loads one with only some fields (the rest deferred)."""
    if values.get("id") is None:
        return None  # the outer join found no row
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _credential_from(row: tuple[Any, ...], columns: dict[str, tuple[str, ...]]) -> EntryCredential:
    """The credential of a row of _CREDENTIAL_READ, its admission (with the candidate) and sitting
    attached as select_related attaches them."""
    values = iter(row)
    read = {table: {name: next(values) for name in names} for table, names in columns.items()}
    credential: ExamCredential = _instance(ExamCredential, read["c"])
    application: Application = _instance(Application, read["a"])
    if columns["u"]:
        application.candidate = _instance(User, read["u"])
    credential.application = application
    credential.sitting = _instance(Sitting, read["s"])
    credential.has_attempts = next(values)  # type: ignore[attr-defined]
    return cast("EntryCredential", credential)


def _login_query(login: str) -> Any:
    return (
        ExamCredential.objects.select_related("application", "sitting")
        .only(*_LOGIN_READS)
        .annotate(has_attempts=_HAS_ATTEMPTS)
        .filter(login=login)
    )


def _credential_for_login(login: str) -> EntryCredential | None:
    if connection.vendor != "postgresql":
        return _login_query(login).first()
    rows = fetch_prepared(_LOGIN_SQL, [login])
    return _credential_from(rows[0], _LOGIN_COLUMNS) if rows else None


def exam_login(*, login: str, password: str, now: datetime | None = None) -> ExamCredential:
    """Open the exam room with the login and password of the admission notice (p.53): only for an
    admitted candidate, and only within the sitting's entry window; an attempt already under way can
    be re-entered until its deadline, and a finished one to see the result. Repeated wrong passwords
    lock the login for a while."""
    now = now or timezone.now()
    wrong = DomainError(_("Неверный логин или пароль."), code="invalid_credentials", status=400)
    credential = _credential_for_login((login or "").strip())
    if credential is None:
        raise wrong
    if credential.locked_until and credential.locked_until > now:
        raise DomainError(
            _("Слишком много неудачных попыток. Вход возможен после %(t)s.")
            % {"t": timezone.localtime(credential.locked_until).strftime("%H:%M")},
            code="locked",
            status=429,
        )
    if not credential.check_password(password or ""):
        ExamCredential.objects.filter(pk=credential.pk).update(failed_logins=F("failed_logins") + 1)
        credential.refresh_from_db(fields=["failed_logins"])
        if credential.failed_logins >= settings.EXAM_LOGIN_FAILURE_LIMIT:
            ExamCredential.objects.filter(pk=credential.pk).update(locked_until=now + LOGIN_LOCK, failed_logins=0)
        raise wrong
    if credential.failed_logins:
        ExamCredential.objects.filter(pk=credential.pk).update(failed_logins=0)
    if credential.application.status != Application.Status.ADMITTED or credential.sitting is None:
        raise DomainError(_("Заявитель не допущен к аттестационному испытанию."), code="not_admitted", status=403)
    if credential.has_attempts:
        return credential  # resume an attempt under way, or see the result of a finished one
    opens, closes = _window(credential.sitting)
    if now < opens:
        raise DomainError(
            _("Тестирование начнётся %(t)s (московское время).")
            % {"t": timezone.localtime(opens).strftime("%d.%m.%Y %H:%M")},
            code="too_early",
            status=403,
        )
    if now > closes:
        raise DomainError(_("Время входа в сеанс тестирования истекло."), code="window_closed", status=403)
    return credential


# --- Building the individual test ----------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A question version drawn into a test: what the test needs of it, not the version itself."""

    version_id: int
    question_id: int
    option_count: int


@dataclass(frozen=True)
class Bank:
    """What a draw reads of the bank: the drawable versions by topic, and the blueprint."""

    by_topic: dict[int, list[Drawn]]
    blueprint: list[BlueprintItem]

    @classmethod
    def read(cls) -> Bank:
        """Only active questions are drawn, never a practice-only one (its key is public); each
        contributes its current version. One query for the whole bank (ids and option counts only)."""
        rows = QuestionVersion.objects.filter(
            question__retired_at__isnull=True, question__practice_only=False, question__current_id=F("pk")
        ).values_list("pk", "question_id", "question__topic_id", "options")
        by_topic: dict[int, list[Drawn]] = {}
        for version_id, question_id, topic_id, options in rows:
            by_topic.setdefault(topic_id, []).append(Drawn(version_id, question_id, len(options)))
        return cls(by_topic=by_topic, blueprint=list(BlueprintItem.objects.select_related("topic")))

    def draw(self) -> list[Drawn]:
        """Questions drawn at random by the blueprint (or from the whole bank without one), in
        random order."""
        chosen: list[Drawn] = []
        if self.blueprint:
            for item in self.blueprint:
                pool = self.by_topic.get(item.topic_id, [])
                if len(pool) < item.count:
                    raise DomainError(
                        _("В теме «%(t)s» недостаточно вопросов для теста.") % {"t": item.topic.title},
                        code="bank_too_small",
                        status=409,
                    )
                chosen.extend(_random.sample(pool, item.count))
        else:
            pool = [drawn for topic in self.by_topic.values() for drawn in topic]
            if len(pool) < settings.EXAM_QUESTION_COUNT:
                raise DomainError(_("В банке недостаточно вопросов для теста."), code="bank_too_small", status=409)
            chosen = _random.sample(pool, settings.EXAM_QUESTION_COUNT)
        _random.shuffle(chosen)
        return chosen


def draw_versions() -> list[Drawn]:
    """One individual test drawn from the bank as it is now."""
    return Bank.read().draw()


# An individual test: (version id, option order) in the order of the test.
Test = list[tuple[int, list[int]]]


def _test_drawn() -> Test:
    return _with_option_orders(draw_versions())


def _with_option_orders(drawn: list[Drawn]) -> Test:
    return [(d.version_id, _random.sample(range(d.option_count), d.option_count)) for d in drawn]


def _test_prepared(credential: ExamCredential) -> Test | None:
    """The test prepared for this credential (tests_prepare), taken for use: None when there is
    none, or when the bank changed since (a version no longer current, or its question retired or
    made practice-only), in which case the start draws afresh. Call under the credential's lock."""
    if connection.vendor == "postgresql":  # taken and read in one statement
        rows = fetch_prepared("DELETE FROM exam_preparedtest WHERE credential_id = %s RETURNING items", [credential.pk])
        items = rows[0][0] if rows else None
        items = json.loads(items) if isinstance(items, str) else items  # Django leaves jsonb as text
    else:
        items = PreparedTest.objects.filter(credential=credential).values_list("items", flat=True).first()
        PreparedTest.objects.filter(credential=credential).delete()
    if items is None:
        return None
    try:
        test = [(int(version_id), [int(i) for i in order]) for version_id, order in items]
    except (TypeError, ValueError):
        return None
    ids = [version_id for version_id, _order in test]
    counts = _drawable_option_counts(ids)
    if len(counts) != len(set(ids)) or any(sorted(order) != list(range(counts[v])) for v, order in test):
        return None
    return test


# Driven by the test's ids (each version found by its key, its question by its own): the cost is
# the test's, not the bank's. Written as "v.id = ANY(ids)" joined to the questions, it was planned
# as a scan of every question probing the 40 ids for each: 6,000 probes of the index per start with
# a bank of 152 questions, and planned anew at every start (bench/README.md).
_DRAWABLE_SQL = """
SELECT v.id, jsonb_array_length(v.options)
  FROM unnest(%s::bigint[]) AS wanted(id)
  JOIN exam_questionversion v ON v.id = wanted.id
  JOIN exam_question q ON q.id = v.question_id
 WHERE q.current_id = v.id AND q.retired_at IS NULL AND NOT q.practice_only
"""


def _drawable_option_counts(ids: list[int]) -> dict[int, int]:
    """The option counts of those of ``ids`` a test may still draw (a current version of an active
    question that is not practice-only); on PostgreSQL without decoding the options themselves."""
    if connection.vendor == "postgresql":
        return dict(fetch_prepared(_DRAWABLE_SQL, [ids]))  # planned once per connection
    drawable = QuestionVersion.objects.filter(
        pk__in=ids, question__retired_at__isnull=True, question__practice_only=False, question__current_id=F("pk")
    ).values_list("pk", "options")
    return {pk: len(options) for pk, options in drawable}


def _versions_shown(tests: list[Test]) -> None:
    """Mark the versions of built tests shown: from now on an edit of one makes a new version
    (exam.testing.services.bank._edit_in_place)."""
    ids = {version_id for test in tests for version_id, _order in test}
    QuestionVersion.objects.filter(pk__in=ids, shown=False).update(shown=True)


def _items_store(attempt: Attempt, test: Test) -> None:
    AttemptItem.objects.bulk_create(
        [
            AttemptItem(
                attempt=attempt, position=position, version_id=version_id, option_order=order, option_count=len(order)
            )
            for position, (version_id, order) in enumerate(test, start=1)
        ]
    )


@functools.cache
def _event_fields() -> tuple[Any, ...]:
    """The event's inserted fields but its attempt, which the statement takes from the attempt's row."""
    return tuple(f for f in inserted_fields(AttemptEvent) if f.name != "attempt")


# The start's writes on PostgreSQL as one statement: the attempt, its items (the columns without a
# value here have none in the model either: answer [], not flagged, seq 0) and its 'started' event.
_START_WRITE = """
WITH attempt AS (
    INSERT INTO exam_attempt ({attempt_columns}) VALUES ({attempt_values}) RETURNING id
), items AS (
    INSERT INTO exam_attemptitem (attempt_id, position, version_id, option_order, option_count, answer, flagged,
                                  seq, voided, rescored)
    SELECT attempt.id, t.position, (t.item->>0)::bigint, t.item->1, jsonb_array_length(t.item->1), '[]'::jsonb,
           false, 0, false, false
      FROM attempt, jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(item, position)
), event AS (
    INSERT INTO exam_attemptevent (attempt_id, {event_columns}) SELECT attempt.id, {event_values} FROM attempt
    RETURNING id
)
SELECT attempt.id, event.id FROM attempt, event
"""


@functools.cache
def _start_write_sql() -> str:
    """_START_WRITE with every column of the attempt and the event, each written from the model's
    instance as the ORM writes it (a field added to either model is written here too)."""
    attempt_fields = inserted_fields(Attempt)
    event_fields = _event_fields()
    return _START_WRITE.format(
        attempt_columns=", ".join(f.column for f in attempt_fields),
        attempt_values=", ".join(["%s"] * len(attempt_fields)),
        event_columns=", ".join(f.column for f in event_fields),
        event_values=", ".join(["%s"] * len(event_fields)),
    )


def _attempt_new(
    credential: ExamCredential, test: Test, *, now: datetime, session_key: str, ip: str | None, user_agent: str
) -> Attempt:
    """The attempt the start makes (not yet stored): the clock from ``now``."""
    return Attempt(
        credential=credential,
        application=credential.application,
        sitting=credential.sitting,
        rules_confirmed_at=now,
        started_at=now,
        deadline_at=now + settings.EXAM_DURATION,
        question_count=len(test),
        pass_score=settings.EXAM_PASS_SCORE,
        session_key=session_key,
        last_ip=ip,
        last_user_agent=user_agent[:300],
    )


def _start_write(attempt: Attempt, test: Test, event: AttemptEvent) -> None:
    """Insert the new ``attempt``, its items in the order of ``test`` and its 'started' ``event``;
    both instances get their ids. On PostgreSQL one prepared statement (the start is the peak of a
    sitting: the three inserts the ORM made took a third of its time, bench/README.md)."""
    if connection.vendor != "postgresql":
        attempt.save(force_insert=True)
        _items_store(attempt, test)
        event.attempt = attempt
        event.save(force_insert=True)
        return
    values = [f.get_db_prep_save(getattr(attempt, f.attname), connection) for f in inserted_fields(Attempt)]
    values.append(json.dumps(test))
    values += [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _event_fields()]
    ((attempt_id, event_id),) = fetch_prepared(_start_write_sql(), values)
    for instance, pk in ((attempt, attempt_id), (event, event_id)):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, connection.alias
    event.attempt = attempt


def tests_prepare(*, sitting: Sitting, limit: int = 1000) -> int:
    """Draw the individual test of every admitted candidate of the sitting who has neither an
    attempt nor a prepared test yet, so that their start only stores the clock. Run when the
    sitting's list is final and again before it (task tests_prepare_due); drawing early gives a
    candidate nothing, since nobody sees a test before its start. Returns how many were prepared."""
    credentials = list(
        ExamCredential.objects.filter(
            sitting=sitting, application__status=Application.Status.ADMITTED, attempts__isnull=True
        )
        .exclude(pk__in=PreparedTest.objects.values("credential_id"))
        .values_list("pk", flat=True)[:limit]
    )
    if not credentials:
        return 0
    bank = Bank.read()
    now = timezone.now()
    rows = [
        PreparedTest(credential_id=pk, items=_with_option_orders(bank.draw()), created_at=now) for pk in credentials
    ]
    # A start or another preparation in between wins: a test already prepared is kept as it is.
    PreparedTest.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    _versions_shown([row.items for row in rows])  # the tests are built
    return len(rows)


def tests_prepare_due(*, now: datetime | None = None) -> int:
    """Prepare the tests of the sittings that start within EXAM_PREPARE_AHEAD or whose entry window
    is open (the task every few minutes); a bank too small to draw from is left to the start, which
    says so to the candidate."""
    now = now or timezone.now()
    prepared = 0
    for sitting in Sitting.objects.filter(starts_at__lte=now + settings.EXAM_PREPARE_AHEAD):
        if _window(sitting)[1] < now:
            continue
        try:
            while count := tests_prepare(sitting=sitting):
                prepared += count
        except DomainError:
            return prepared
    return prepared


# What the start reads with the credential's lock: the window, the admission, and the names the
# attempt's audit line gives (the candidate's, the application's); nothing else of four rows.
_START_READS = (
    "application__status",
    "application__last_name",
    "application__first_name",
    "application__patronymic",
    "application__candidate__email",
    "application__candidate__last_name",
    "application__candidate__first_name",
    "application__candidate__patronymic",
    "sitting__starts_at",
    "sitting__entry_window_minutes",
)


def _start_query(credential_id: int) -> Any:
    return (
        ExamCredential.objects.select_for_update(of=("self",))
        .select_related("application__candidate", "sitting")
        .only(*_START_READS)
        .annotate(has_attempts=_HAS_ATTEMPTS)
        .filter(pk=credential_id)
    )


def _credential_for_start(credential_id: int) -> EntryCredential | None:
    """The credential, locked, with what the start reads (in a transaction)."""
    if connection.vendor != "postgresql":
        return _start_query(credential_id).first()
    rows = fetch_prepared(_START_SQL, [credential_id])
    return _credential_from(rows[0], _START_COLUMNS) if rows else None


def attempt_start(
    *,
    credential: ExamCredential | int,
    session_key: str,
    personally: bool,
    ip: str | None = None,
    user_agent: str = "",
) -> Attempt:
    """Start the test after the candidate confirmed taking it personally (p.55). The whole
    individual test (questions, versions, option order) is stored before the first question is
    shown: the one prepared for the candidate ahead of the sitting, or one drawn now. The clock
    starts now and the deadline is stored. Starting twice returns the same attempt. ``credential``
    may be given by its id alone (the exam room's session holds no more): it is read here, locked."""
    if not personally:
        raise DomainError(
            _("Подтвердите, что проходите испытание лично и ознакомились с правилами."),
            code="rules_not_confirmed",
            fields={"personally": [_("Обязательное подтверждение.")]},
        )
    credential_id = credential if isinstance(credential, int) else credential.pk
    with transaction.atomic(durable=True):
        locked = _credential_for_start(credential_id)
        if locked is None:  # the session outlived its credential
            raise DomainError(_("Войдите в систему тестирования."), code="exam_login_required", status=401)
        earlier = list(locked.attempts.all()) if locked.has_attempts else []
        active = next((a for a in earlier if a.status == Attempt.Status.IN_PROGRESS), None)
        if active is not None:
            return active
        if len(earlier) >= settings.EXAM_ATTEMPTS_PER_ADMISSION:
            raise DomainError(_("Попытка тестирования уже использована."), code="attempts_used", status=409)
        if locked.sitting is None or locked.application.status != Application.Status.ADMITTED:
            raise DomainError(_("Заявитель не допущен к аттестационному испытанию."), code="not_admitted", status=403)
        now = timezone.now()
        opens, closes = _window(locked.sitting)
        if not opens <= now <= closes:
            raise DomainError(
                _("Начать тестирование можно только в окно входа сеанса."), code="window_closed", status=403
            )
        test = _test_prepared(locked)
        if test is None:
            test = _test_drawn()
            _versions_shown([test])
        attempt = _attempt_new(locked, test, now=now, session_key=session_key, ip=ip, user_agent=user_agent)
        _start_write(attempt, test, AttemptEvent(kind=AttemptEvent.Kind.STARTED, ip=ip, data={"ua": user_agent[:300]}))
        audit_record(
            case=attempt,
            actor=locked.application.candidate,
            verb="attempt_start",
            to_state=attempt.status,
            data={"deadline": attempt.deadline_at.isoformat(), "questions": len(test)},
            ip=ip,
        )
        deadline = attempt.deadline_at
        transaction.on_commit(lambda: finalisation_schedule(deadline))
    attempt.stored_test = test
    return attempt


# --- During the test ------------------------------------------------------------------------------


def _session_checked(attempt: Attempt, session_key: str) -> None:
    if attempt.session_key != session_key:
        raise DomainError(
            _("Тестирование продолжено на другом устройстве или в другом браузере; этот сеанс закрыт."),
            code="taken_over",
            status=409,
        )


def attempt_claim(*, attempt: Attempt, session_key: str, ip: str | None, user_agent: str) -> bool:
    """Entering the room from another session takes the attempt over (a second login); the earlier
    session is told so, and the event is logged. Returns whether a take-over happened."""
    with transaction.atomic(durable=True):
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not locked.is_active or locked.session_key == session_key:
            return False
        previous = locked.session_key
        locked.session_key = session_key
        locked.save(update_fields=["session_key"])
        AttemptEvent.objects.create(
            attempt=locked,
            kind=AttemptEvent.Kind.TAKEOVER,
            ip=ip,
            data={"ua": user_agent[:300], "previous_ip": locked.last_ip},
        )
        transaction.on_commit(lambda: _push(locked, {"type": "attempt.taken_over", "session": previous}))
    attempt.session_key = session_key
    return True


def attempt_touch(*, attempt: Attempt, ip: str | None, user_agent: str) -> None:
    """Log a change of IP address or browser during the attempt (integrity monitoring)."""
    changes = []
    if ip and attempt.last_ip and ip != attempt.last_ip:
        changes.append(
            AttemptEvent(attempt=attempt, kind=AttemptEvent.Kind.IP_CHANGED, ip=ip, data={"from": attempt.last_ip})
        )
    ua = user_agent[:300]
    if ua and attempt.last_user_agent and ua != attempt.last_user_agent:
        changes.append(AttemptEvent(attempt=attempt, kind=AttemptEvent.Kind.BROWSER_CHANGED, ip=ip, data={"ua": ua}))
    if changes or (ip and not attempt.last_ip):
        AttemptEvent.objects.bulk_create(changes)
        Attempt.objects.filter(pk=attempt.pk).update(
            last_ip=ip or attempt.last_ip, last_user_agent=ua or attempt.last_user_agent
        )
        attempt.last_ip, attempt.last_user_agent = ip or attempt.last_ip, ua or attempt.last_user_agent


@dataclass(frozen=True)
class SaveResult:
    position: int
    seq: int
    applied: bool
    answer: list[int]
    flagged: bool


def _clean_answer(answer: Any, *, option_count: int | None) -> list[int]:
    """The chosen option numbers, sorted and without repeats. Without ``option_count`` only the
    form is checked; the one-statement save checks the range against the stored count."""
    if not isinstance(answer, list) or any(isinstance(a, bool) or not isinstance(a, int) for a in answer):
        raise DomainError(
            _("Ответ — это список номеров вариантов."),
            code="invalid_answer",
            fields={"answer": [_("Неверный формат.")]},
        )
    chosen = sorted(set(answer))
    if any(a < 0 or (option_count is not None and a >= option_count) for a in chosen):
        raise DomainError(
            _("Такого варианта ответа нет."), code="invalid_answer", fields={"answer": [_("Неверный вариант.")]}
        )
    return chosen


# The usual save in one statement: the item is updated only when the delivery is newer, the options
# exist, the attempt is running in this session before its deadline and from its known address. The
# attempt is found by its id or by the credential of the exam room's session (at most one attempt of
# a credential is in progress: constraint one_active_attempt).
#
# The interlock with the finalisation is on the item row itself, so that a save writes one row and
# takes no lock on the attempt: the finalisation locks every item of the attempt (FOR UPDATE) before
# it reads the answers, and marks each item scored (is_correct). A save that took its item first
# commits before the score is read, so it is counted; a save that comes second waits for the
# finalisation, then finds ``is_correct`` set on the row it re-reads, changes nothing, and the general
# path answers that the test is over.
_SAVE_SQL = """
UPDATE exam_attemptitem
   SET answer = %s::jsonb, flagged = COALESCE(%s, flagged), seq = %s, answered_at = %s
 WHERE attempt_id = (
       SELECT id FROM exam_attempt
        WHERE {attempt} = %s AND status = 'in_progress' AND session_key = %s AND deadline_at > %s
          AND (%s::inet IS NULL OR last_ip IS NULL OR last_ip = %s::inet))
   AND position = %s AND seq < %s AND option_count > %s AND is_correct IS NULL
RETURNING flagged
"""
_SAVE_BY_ID = _SAVE_SQL.format(attempt="id")
_SAVE_BY_CREDENTIAL = _SAVE_SQL.format(attempt="credential_id")


def _save_in_one_statement(
    *,
    attempt_id: int | None,
    credential_id: int | None,
    session_key: str,
    position: int,
    chosen: list[int],
    flagged: bool | None,
    seq: int,
    ip: str | None,
) -> bool | None:
    """The stored flag when the save was applied, None when the general path must decide."""
    highest, now = max(chosen, default=-1), timezone.now()  # the application's clock, as everywhere
    sql, key = (_SAVE_BY_ID, attempt_id) if attempt_id is not None else (_SAVE_BY_CREDENTIAL, credential_id)
    params = [json.dumps(chosen), flagged, seq, now, key, session_key, now, ip, ip, position, seq, highest]
    rows = fetch_prepared(sql, params)  # planned once per connection, not at every save
    return bool(rows[0][0]) if rows else None


def attempt_save_answer(
    *,
    session_key: str,
    position: int,
    answer: Any,
    flagged: bool | None,
    seq: Any,
    ip: str | None = None,
    attempt_id: int | None = None,
    credential_id: int | None = None,
) -> SaveResult:
    """Save the answer to one question of the attempt ``attempt_id``, or of the attempt in progress
    of the credential ``credential_id`` (the exam room's session). Idempotent and ordered by the
    client's sequence number: a delivery with a sequence number not above the stored one changes
    nothing and is acknowledged with the stored answer. Refused after the deadline. It cannot
    interleave with the finalisation that scores the attempt: both lock the item's row, and an item
    once scored takes no more answers (see _SAVE_SQL).

    On PostgreSQL the usual case is one statement (the answer save runs a hundred times a second in
    a sitting); anything unusual (a stale or repeated delivery, a wrong position or answer, the end
    of the test, a take-over) falls through to the general path below, which says exactly what."""
    if (attempt_id is None) == (credential_id is None):
        raise ValueError("attempt_save_answer: give attempt_id or credential_id")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < MAX_SEQ:
        raise DomainError(
            _("Неверный порядковый номер сохранения."), code="invalid_seq", fields={"seq": [_("Неверное значение.")]}
        )
    if flagged is not None and not isinstance(flagged, bool):
        raise DomainError(
            _("Отметка вопроса — да или нет."), code="invalid_flag", fields={"flagged": [_("Неверное значение.")]}
        )
    if connection.vendor == "postgresql" and type(position) is int and 0 < position < 1000:
        chosen = _clean_answer(answer, option_count=None)
        stored_flag = _save_in_one_statement(
            attempt_id=attempt_id,
            credential_id=credential_id,
            session_key=session_key,
            position=position,
            chosen=chosen,
            flagged=flagged,
            seq=seq,
            ip=ip,
        )
        if stored_flag is not None:
            return SaveResult(position=position, seq=seq, applied=True, answer=chosen, flagged=stored_flag)
    with transaction.atomic():
        attempts = Attempt.objects.select_for_update(no_key=True).only(
            "id", "status", "deadline_at", "session_key", "last_ip"
        )
        if attempt_id is not None:
            attempt = attempts.filter(pk=attempt_id).first()
            if attempt is None:
                raise NotFound(_("Попытка не найдена."))
        else:
            attempt = attempts.filter(credential_id=credential_id, status=Attempt.Status.IN_PROGRESS).first()
            if attempt is None:
                raise DomainError(_("Тестирование завершено."), code="attempt_finished", status=409)
        _session_checked(attempt, session_key)
        if not attempt.is_active:
            raise DomainError(_("Тестирование завершено."), code="attempt_finished", status=409)
        if timezone.now() >= attempt.deadline_at:
            raise DomainError(_("Время тестирования истекло: ответ не сохранён."), code="time_is_up", status=409)
        row = (
            AttemptItem.objects.filter(attempt_id=attempt.pk, position=position)
            .values("id", "seq", "option_order", "answer", "flagged")
            .first()
        )
        if row is None:
            raise NotFound(_("Вопрос не найден."))
        chosen = _clean_answer(answer, option_count=len(row["option_order"]))
        if seq <= row["seq"]:
            return SaveResult(
                position=position, seq=row["seq"], applied=False, answer=row["answer"], flagged=row["flagged"]
            )
        new_flag = row["flagged"] if flagged is None else flagged
        AttemptItem.objects.filter(pk=row["id"]).update(
            answer=chosen, flagged=new_flag, seq=seq, answered_at=timezone.now()
        )
        if ip and attempt.last_ip and ip != attempt.last_ip:
            AttemptEvent.objects.create(
                attempt_id=attempt.pk, kind=AttemptEvent.Kind.IP_CHANGED, ip=ip, data={"from": attempt.last_ip}
            )
            Attempt.objects.filter(pk=attempt.pk).update(last_ip=ip)
    return SaveResult(position=position, seq=seq, applied=True, answer=chosen, flagged=new_flag)


def attempt_record_event(
    *, attempt: Attempt, session_key: str, kind: str, data: Any, ip: str | None
) -> AttemptEvent | None:
    """Events the exam-room page reports: page hidden, window left, reconnects, copy attempts."""
    if kind not in AttemptEvent.CLIENT_KINDS:
        raise DomainError(_("Неизвестное событие."), code="invalid_event", fields={"kind": [_("Неверное значение.")]})
    _session_checked(attempt, session_key)
    if not attempt.is_active or attempt.events.count() >= MAX_CLIENT_EVENTS:
        return None
    # Stored as sent, less what no text column holds (the WebSocket has no parser to refuse it).
    clean = (
        {for_export(str(k))[:30]: for_export(str(v))[:200] for k, v in data.items()} if isinstance(data, dict) else {}
    )
    return AttemptEvent.objects.create(attempt=attempt, kind=kind, data=dict(list(clean.items())[:10]), ip=ip)


# --- Submission, the deadline and scoring ----------------------------------------------------------


# The score on PostgreSQL in one statement (planned once per connection): each item of the attempt
# is marked right or wrong, the answer compared with the version's correct options as sets. The
# UPDATE locks each item as it writes it, and that is the interlock with the answer save: a save in
# flight commits first and the UPDATE re-reads its row, so it is counted; a later save finds the item
# scored and is refused (_SAVE_SQL: is_correct IS NULL). Built by the ORM, the select and the two
# updates took a quarter of a submit's CPU (bench/README.md).
_SCORE_SQL = """
UPDATE exam_attemptitem i
   SET is_correct = i.voided OR i.rescored OR (i.answer @> v.correct AND v.correct @> i.answer)
  FROM exam_questionversion v
 WHERE i.attempt_id = %s AND v.id = i.version_id
RETURNING i.is_correct
"""


def _score(attempt: Attempt) -> int:
    """p.57: a question counts when the chosen options are exactly the correct ones (all or
    nothing). After an upheld appeal, a voided or re-scored question counts as correct."""
    if connection.vendor == "postgresql":
        return sum(1 for (right,) in fetch_prepared(_SCORE_SQL, [attempt.pk]) if right)
    # Locked before the answers are read: a save in flight commits first and is counted, a later one
    # finds its item scored and is refused (the interlock of attempt_save_answer).
    items = attempt.items.select_for_update(of=("self",)).values_list(
        "pk", "voided", "rescored", "answer", "version__correct"
    )
    correct = [pk for pk, voided, rescored, answer, right in items if voided or rescored or set(answer) == set(right)]
    AttemptItem.objects.filter(attempt=attempt, pk__in=correct).update(is_correct=True)
    AttemptItem.objects.filter(attempt=attempt).exclude(pk__in=correct).update(is_correct=False)
    return len(correct)


def attempt_rescore(*, attempt: Attempt, rescore: list[int], void: list[int], by: User | None, reason: str) -> Attempt:
    """Apply an upheld appeal (p.65): the named questions are re-scored or voided and the result is
    recomputed against the pass score. Audited on the attempt."""
    with transaction.atomic():
        locked = Attempt.objects.select_for_update(of=("self",)).select_related("application").get(pk=attempt.pk)
        if locked.is_active:
            raise DomainError(_("Тестирование ещё не завершено."), code="attempt_active", status=409)
        positions = set(range(1, locked.question_count + 1))
        if not set(rescore) | set(void) or not (set(rescore) | set(void)) <= positions:
            raise DomainError(_("Укажите номера вопросов этой попытки."), fields={"questions": [_("Неверные номера.")]})
        before = (locked.score, locked.passed)
        AttemptItem.objects.filter(attempt=locked, position__in=rescore).update(rescored=True)
        AttemptItem.objects.filter(attempt=locked, position__in=void).update(voided=True)
        locked.score = _score(locked)
        locked.passed = locked.score >= locked.pass_score
        locked.save(update_fields=["score", "passed"])
        audit_record(
            case=locked,
            actor=by,
            verb="attempt_rescore",
            action="event",
            reason=reason,
            data={
                "rescore": sorted(rescore),
                "void": sorted(void),
                "before": before,
                "after": [locked.score, locked.passed],
            },
        )
        attempt_result_changed.send(sender=Attempt, attempt=locked, by=by, reason=reason)
    return locked


def _finalize(attempt_id: int, *, reason: str, now: datetime | None = None) -> Attempt:
    """Score and close the attempt, exactly once. Submitted, it is the candidate's act (read with
    the attempt, not by two queries more); at the deadline, the system's."""
    now = now or timezone.now()
    submitted = reason == Attempt.FinishReason.SUBMITTED
    with transaction.atomic():
        attempts = Attempt.objects.select_for_update(of=("self",))
        attempt = attempts.select_related("application__candidate" if submitted else "application").get(pk=attempt_id)
        by = attempt.application.candidate if submitted else None
        if not attempt.is_active:
            return attempt  # already finalised: exactly one result
        expired = now >= attempt.deadline_at
        if reason == Attempt.FinishReason.DEADLINE and not expired:
            return attempt  # the deadline moved (extra time): a later task or the sweeper will come
        if expired:
            reason = Attempt.FinishReason.DEADLINE
        attempt.score = _score(attempt)
        attempt.passed = attempt.score >= attempt.pass_score
        attempt.finished_at = attempt.deadline_at if expired else now
        attempt.finish_reason = reason
        case_transition(
            case=attempt,
            name="finish",
            by=by,
            reason=str(Attempt.FinishReason(reason).label),
            fields=("score", "passed", "finished_at", "finish_reason"),
            data={"score": attempt.score, "passed": attempt.passed},
        )
        AttemptEvent.objects.create(
            attempt=attempt,
            kind=AttemptEvent.Kind.SUBMITTED if reason == Attempt.FinishReason.SUBMITTED else AttemptEvent.Kind.EXPIRED,
            data={"score": attempt.score},
        )
        result = {"type": "attempt.finished", "score": attempt.score, "passed": attempt.passed}
        transaction.on_commit(lambda: _push(attempt, result))
        if expired:
            deadline_at = attempt.deadline_at
            transaction.on_commit(lambda: metrics.finalised_late(deadline_at=deadline_at))
        # The decision on attestation follows (registry, p.58-59), in this transaction.
        attempt_finished.send(sender=Attempt, attempt=attempt)
    return attempt


def attempt_submit(*, attempt: Attempt, session_key: str) -> Attempt:
    """The candidate ends the test (after confirming; the page lists unanswered questions). Racing
    the automatic finalisation, exactly one result is recorded."""
    _session_checked(attempt, session_key)
    return _finalize(attempt.pk, reason=Attempt.FinishReason.SUBMITTED)


def attempt_finalize_if_due(*, attempt: Attempt) -> Attempt:
    """Finalisation on access: whoever touches an expired attempt finalises it."""
    if attempt.is_active and timezone.now() >= attempt.deadline_at:
        return _finalize(attempt.pk, reason=Attempt.FinishReason.DEADLINE)
    return attempt


def _finalize_expired(deadlines: Q, *, now: datetime, limit: int | None = None) -> int:
    """Finalise the attempts under way whose deadline matches ``deadlines``, earliest first, at
    most ``limit``; how many."""
    due = Attempt.objects.filter(deadlines, status=Attempt.Status.IN_PROGRESS).order_by("deadline_at")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for attempt_id in ids:
        _finalize(attempt_id, reason=Attempt.FinishReason.DEADLINE, now=now)
    return len(ids)


def attempt_finalize_due(*, limit: int = 5000) -> int:
    """The sweeper: finalise every attempt past its deadline. Returns how many it finalised."""
    now = timezone.now()
    return _finalize_expired(Q(deadline_at__lte=now), now=now, limit=limit)


def attempt_finalize(*, attempt_id: int) -> Attempt:
    return _finalize(attempt_id, reason=Attempt.FinishReason.DEADLINE)


def finalisation_second(deadline: datetime) -> int:
    """The second of deadlines ``deadline`` belongs to: its end, as a Unix time (the attempts due
    within (s - 1, s] are finalised together at s)."""
    return math.ceil(deadline.timestamp())


def finalisation_schedule(deadline: datetime) -> None:
    """Ask the worker to finalise, at its end, the second of deadlines ``deadline`` falls in: one
    task for every attempt due in that second, not one per attempt (at the start of a national
    sitting, dozens of candidates start each second, and a Celery message for each was a fifth of
    the start's cost, bench/README.md). The first start of a second sends the task, the others
    find it sent (a key in the cache, which the nodes share). Best effort, like every task: when the
    cache or the broker is down, the message is sent anyway or lost, and the sweeper finalises what
    no task did within EXAM_SWEEP_SECONDS."""
    from django.core.cache import cache

    from core.tasks import enqueue
    from exam.testing.tasks import attempt_finalize_second

    second = finalisation_second(deadline)
    key = f"exam:finalisation:{second}"
    try:  # kept until the second is past, and a minute more; None when Redis is unreachable
        first = cache.add(key, 1, timeout=max(60, second - int(timezone.now().timestamp()) + 60)) is not False
    except Exception:  # the cache unreachable: send it (a second task of a second finds nothing to do)
        first = True
    if first and not enqueue(attempt_finalize_second, second, eta=datetime.fromtimestamp(second, tz=UTC)):
        with contextlib.suppress(Exception):
            cache.delete(key)  # not sent: the next start of this second tries again


def attempt_finalize_second(*, second: int, now: datetime | None = None) -> int:
    """The task of a second of deadlines (finalisation_schedule): finalise every attempt under way
    whose deadline is within (second - 1, second]. Returns how many it finalised; those of another
    second are their own task's or the sweeper's, so that tasks run side by side by several
    workers do not queue behind each other's locks."""
    now = now or timezone.now()
    end = datetime.fromtimestamp(second, tz=UTC)
    return _finalize_expired(Q(deadline_at__gt=end - timedelta(seconds=1), deadline_at__lte=min(end, now)), now=now)


def attempt_interruption_record(
    *, attempt: Attempt, by: User, cause: str, started_at: datetime, ended_at: datetime, reason: str
) -> AttemptInterruption:
    """The exam administrator records time the candidate lost to the ministry's side (p.12(g)): a
    failure of the testing service, or their own decision (e.g. the test paused to check who sits
    it), with the circumstances. The time lost is the part of the interruption within the attempt
    up to now; interruptions of one attempt do not overlap (time is counted once). Audited."""
    require_role(by, Role.EXAM_ADMIN, message=_("Перерыв отмечает администратор испытания."))
    errors: dict[str, list[str]] = {}
    if cause not in AttemptInterruption.Cause.values:
        errors["cause"] = [_("Выберите причину перерыва.")]
    if ended_at <= started_at:
        errors["ended_at"] = [_("Окончание перерыва должно быть позже его начала.")]
    if not reason:
        errors["reason"] = [_("Опишите обстоятельства перерыва.")]
    if errors:
        raise DomainError(_("Проверьте данные перерыва."), fields=errors)
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        now = timezone.now()
        if not locked.is_active or now >= locked.deadline_at:
            raise DomainError(_("Тестирование уже завершено."), code="attempt_finished", status=409)
        lost = (min(ended_at, now) - max(started_at, locked.started_at)).total_seconds()
        if lost <= 0:
            raise DomainError(
                _("Перерыв не приходится на время тестирования: оно начато %(start)s.")
                % {"start": timezone.localtime(locked.started_at).strftime("%d.%m.%Y %H:%M:%S")},
                fields={"started_at": [_("Проверьте время перерыва.")]},
            )
        if locked.interruptions.filter(started_at__lt=ended_at, ended_at__gt=started_at).exists():
            raise DomainError(
                _("Этот перерыв пересекается с уже отмеченным: время учитывается один раз."),
                fields={"started_at": [_("Проверьте время перерыва.")]},
            )
        interruption = AttemptInterruption.objects.create(
            attempt=locked,
            cause=cause,
            started_at=started_at,
            ended_at=ended_at,
            lost_seconds=math.ceil(lost),
            reason=reason,
            recorded_by=by,
        )
        audit_record(
            case=locked,
            actor=by,
            verb="attempt_interruption",
            action="event",
            reason=reason,
            data={
                "interruption": interruption.pk,
                "cause": cause,
                "from": started_at.isoformat(),
                "to": ended_at.isoformat(),
                "lost_seconds": interruption.lost_seconds,
            },
        )
    return interruption


def attempt_grant_extra_time(*, attempt: Attempt, by: User, interruption: AttemptInterruption, minutes: int) -> Attempt:
    """p.12(g): 40 minutes is a maximum. The exam administrator restores to one candidate the time
    lost to a recorded interruption on the ministry's side, once per interruption, never more than
    the time lost (whole minutes, a part counting as one) plus EXAM_EXTRA_TIME_MARGIN_MINUTES.
    Audited with the interruption and the bound."""
    require_role(by, Role.EXAM_ADMIN, message=_("Добавить время может только администратор испытания."))
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise DomainError(_("Проверьте данные."), fields={"minutes": [_("Не менее 1 минуты.")]})
    with transaction.atomic(durable=True):
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not locked.is_active or timezone.now() >= locked.deadline_at:
            raise DomainError(_("Тестирование уже завершено."), code="attempt_finished", status=409)
        lost = AttemptInterruption.objects.select_for_update().filter(pk=interruption.pk, attempt=locked).first()
        if lost is None:
            raise DomainError(
                _("Дополнительное время восстанавливает только время отмеченного перерыва этого тестирования."),
                code="no_interruption",
                fields={"interruption": [_("Выберите перерыв.")]},
            )
        if lost.is_compensated:
            raise DomainError(
                _("Время за этот перерыв уже добавлено: %(n)s.")
                % {
                    "n": ngettext("%(n)d минута", "%(n)d минут", lost.granted_minutes or 0)
                    % {"n": lost.granted_minutes}
                },
                code="interruption_compensated",
                status=409,
            )
        bound = lost.max_minutes
        if minutes > bound:
            raise DomainError(
                _(
                    "Можно добавить не более %(bound)s: потеряно %(lost)s, запас %(margin)s (п. 12 «г»: "
                    "40 минут — наибольшее время испытания)."
                )
                % {
                    "bound": ngettext("%(n)d минуты", "%(n)d минут", bound) % {"n": bound},
                    "lost": ngettext("%(n)d минута", "%(n)d минут", lost.lost_minutes) % {"n": lost.lost_minutes},
                    "margin": ngettext("%(n)d минута", "%(n)d минут", settings.EXAM_EXTRA_TIME_MARGIN_MINUTES)
                    % {"n": settings.EXAM_EXTRA_TIME_MARGIN_MINUTES},
                },
                code="extra_time_bound",
                fields={"minutes": [_("Не более %(n)d.") % {"n": bound}]},
            )
        now = timezone.now()
        lost.granted_minutes, lost.granted_by, lost.granted_at = minutes, by, now
        lost.save(update_fields=["granted_minutes", "granted_by", "granted_at"])
        old = locked.deadline_at
        locked.deadline_at = old + timedelta(minutes=minutes)
        locked.extra_seconds += minutes * 60
        locked.save(update_fields=["deadline_at", "extra_seconds"])
        reason = f"{lost.get_cause_display()}: {lost.reason}"
        AttemptEvent.objects.create(
            attempt=locked,
            kind=AttemptEvent.Kind.EXTRA_TIME,
            data={"minutes": minutes, "interruption": lost.pk, "reason": reason},
        )
        audit_record(
            case=locked,
            actor=by,
            verb="attempt_extra_time",
            action="event",
            reason=reason,
            data={
                "minutes": minutes,
                "interruption": lost.pk,
                "lost_seconds": lost.lost_seconds,
                "bound_minutes": bound,
                "from": old.isoformat(),
                "to": locked.deadline_at.isoformat(),
            },
        )
        deadline = locked.deadline_at
        transaction.on_commit(lambda: finalisation_schedule(deadline))
        transaction.on_commit(lambda: _push(locked, {"type": "attempt.clock", "deadline": deadline.isoformat()}))
    return locked


def _push(attempt: Attempt, message: dict[str, Any]) -> None:
    """Tell the candidate's page and the sitting monitor. The page also polls the clock, so an
    outage of Redis cannot stop the test from ending on time."""
    from core.realtime import group_send

    group_send(f"attempt.{attempt.pk}", message)
    group_send(f"sitting.{attempt.sitting_id}", {"type": "sitting.changed"})
