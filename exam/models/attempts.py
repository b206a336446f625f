"""Attempts of the attestation test (p.12(g), 55-58): the individual set of questions, the answers as
the server acknowledged them, the clock and the result."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from exam.models.applications import Application, ExamCredential, Sitting
from exam.models.bank import QuestionVersion


class Attempt(FSMModelMixin, models.Model):
    """One sitting of the test by one candidate. The clock is the server's: ``deadline_at`` is fixed
    when the test is built (start + duration, plus any extra time granted), and the attempt is
    finalised at the deadline whether or not the candidate is still there."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Идёт тестирование")
        FINISHED = "finished", _("Завершено")

    class FinishReason(models.TextChoices):
        SUBMITTED = "submitted", _("Завершено заявителем")
        DEADLINE = "deadline", _("Истекло время")

    credential = models.ForeignKey(ExamCredential, on_delete=models.PROTECT, related_name="attempts")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="attempts")
    sitting = models.ForeignKey(Sitting, on_delete=models.PROTECT, related_name="attempts")
    status = FSMField(_("Состояние"), default=Status.IN_PROGRESS, choices=Status.choices, protected=True)
    rules_confirmed_at = models.DateTimeField(_("Правила приняты"))
    started_at = models.DateTimeField(_("Начало"), db_index=True)
    deadline_at = models.DateTimeField(_("Окончание по времени"), db_index=True)
    extra_seconds = models.PositiveIntegerField(_("Дополнительное время, с"), default=0)
    finished_at = models.DateTimeField(_("Завершено"), null=True, blank=True)
    finish_reason = models.CharField(max_length=20, choices=FinishReason.choices, blank=True)
    question_count = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(_("Правильных ответов"), null=True, blank=True)
    passed = models.BooleanField(_("Испытание пройдено"), null=True, blank=True)
    pass_score = models.PositiveSmallIntegerField(_("Проходной балл"), default=36)
    session_key = models.CharField(max_length=64, blank=True)  # the exam-room session that holds it
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    last_user_agent = models.CharField(max_length=300, blank=True)

    # Not a field: the items just stored by the start, as (version id, option order) in the order
    # of the test, so that its response is built without reading them back (attempt_state).
    stored_test: list[tuple[int, list[int]]] | None = None

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("попытка тестирования")
        verbose_name_plural = _("попытки тестирования")
        constraints = [
            models.UniqueConstraint(
                fields=["credential"], condition=models.Q(status="in_progress"), name="one_active_attempt"
            )
        ]
        indexes = [models.Index(fields=["status", "deadline_at"])]

    def __str__(self) -> str:
        return f"{_('Попытка')} {self.pk}: {self.application.short_name}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    def remaining_seconds(self, now: object = None) -> float:
        now = now or timezone.now()
        return max(0.0, (self.deadline_at - now).total_seconds())  # type: ignore[operator]

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.FINISHED)
    def finish(self) -> None:
        """Submitted by the candidate or at the deadline; scored at once (p.57)."""


class AttemptItem(models.Model):
    """One question as shown in the attempt: the exact version and option order, and the answer the
    server acknowledged last (``seq``: the client's sequence number, so that a late or repeated
    delivery never overwrites a newer answer)."""

    # No index of its own: the unique (attempt, position) serves every lookup by attempt. Each index
    # less is one write less when the row cannot be updated in place (migration 0005: fillfactor).
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items", db_index=False)
    position = models.PositiveSmallIntegerField()
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    option_order = models.JSONField()  # the version's option indices in the order shown
    option_count = models.PositiveSmallIntegerField(default=0)  # len(option_order), for the save's check
    answer = models.JSONField(default=list)  # chosen option indices (the version's numbering)
    flagged = models.BooleanField(default=False)
    seq = models.BigIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    is_correct = models.BooleanField(null=True, blank=True)
    # After an upheld appeal: a voided question (found defective) or a re-scored answer (accepted by
    # the commission) counts as correct for this candidate.
    voided = models.BooleanField(default=False)
    rescored = models.BooleanField(default=False)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "position"], name="attempt_item_position")]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"


class PreparedTest(models.Model):
    """A candidate's individual test drawn ahead of the sitting (exam.testing.services.attempts
    tests_prepare), so that the start of a sitting, its peak, only stores the clock: the questions,
    their versions and option orders, as ``[[version_id, [option order]], ...]`` in the order of
    the test. Used once, by the start, which draws afresh when the bank has changed since; nobody
    sees it before the start (it is the same secret as the test itself)."""

    credential = models.OneToOneField(ExamCredential, on_delete=models.CASCADE, primary_key=True, related_name="+")
    items = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("подготовленный тест")
        verbose_name_plural = _("подготовленные тесты")

    def __str__(self) -> str:
        return f"{self.credential_id}"


class AttemptEvent(models.Model):
    """What happened during the attempt: start, page hidden or window left, reconnects, a change of
    address or browser, copy attempts, a second login, extra time, the end."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Начало тестирования")
        RESUMED = "resumed", _("Возврат к тестированию")
        PAGE_HIDDEN = "page_hidden", _("Страница скрыта")
        WINDOW_BLUR = "window_blur", _("Переход в другое окно")
        RECONNECT = "reconnect", _("Повторное подключение")
        OFFLINE = "offline", _("Потеря связи")
        IP_CHANGED = "ip_changed", _("Сменился IP-адрес")
        BROWSER_CHANGED = "browser_changed", _("Сменился браузер")
        COPY = "copy", _("Попытка копирования")
        PASTE = "paste", _("Попытка вставки")
        CONTEXT_MENU = "context_menu", _("Контекстное меню")
        TAKEOVER = "takeover", _("Вход с другого устройства (сеанс перехвачен)")
        EXTRA_TIME = "extra_time", _("Добавлено время")
        SUBMITTED = "submitted", _("Завершено заявителем")
        EXPIRED = "expired", _("Истекло время")

    CLIENT_KINDS = ("page_hidden", "window_blur", "reconnect", "offline", "copy", "paste", "context_menu")

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.attempt_id}: {self.kind}"


class AttemptInterruption(models.Model):
    """Time a candidate lost to the ministry's side during the attempt (p.12(g)): a failure of the
    testing service, or a monitor's decision (e.g. the test paused to check who sits it), with the
    reason. Recorded by the exam administrator; extra time restores at most the time lost
    (``lost_seconds``: the part of the interruption within the attempt, up to its recording) plus
    EXAM_EXTRA_TIME_MARGIN_MINUTES, granted once per interruption (exam.testing.services.attempts)."""

    class Cause(models.TextChoices):
        SERVICE_FAILURE = "service_failure", _("Сбой в работе системы тестирования")
        MONITOR_DECISION = "monitor_decision", _("Решение администратора испытания")

    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="interruptions")
    cause = models.CharField(_("Причина перерыва"), max_length=30, choices=Cause.choices)
    started_at = models.DateTimeField(_("Начало перерыва"))
    ended_at = models.DateTimeField(_("Окончание перерыва"))
    lost_seconds = models.PositiveIntegerField(_("Потеряно времени, с"))
    reason = models.TextField(_("Обстоятельства"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # The extra time granted for it (once).
    granted_minutes = models.PositiveSmallIntegerField(_("Добавлено минут"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("перерыв в тестировании")
        verbose_name_plural = _("перерывы в тестировании")

    def __str__(self) -> str:
        start, end = timezone.localtime(self.started_at), timezone.localtime(self.ended_at)
        return f"{self.get_cause_display()}: {start:%H:%M}—{end:%H:%M}"

    @property
    def is_compensated(self) -> bool:
        return self.granted_minutes is not None

    @property
    def lost_minutes(self) -> int:
        """The time lost in whole minutes, a part of a minute counting as one."""
        return -(-self.lost_seconds // 60)

    @property
    def max_minutes(self) -> int:
        """The most extra time this interruption allows: the time lost plus the margin."""
        return self.lost_minutes + settings.EXAM_EXTRA_TIME_MARGIN_MINUTES
