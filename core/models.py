"""Platform models shared by every procedure: users, the audit trail, notifications, deadlines,
the working-day calendar's overrides, gap-free counters and the dispatch of letters."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.vocabulary import audit_verb_label, state_label


class PersonName:
    """Full and short forms of a Russian name kept as last name, first name and patronymic."""

    last_name: str
    first_name: str
    patronymic: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_confirmed_at", timezone.now())
        return self.create_user(email, password, **extra)


class User(PersonName, AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a candidate (registers and confirms the e-mail) or a staff member
    (created by an administrator, given one or more role groups, see core.roles)."""

    class Position(models.TextChoices):
        """Who may sign or decide what: the director of the Department or a deputy signs an admission
        notice (p.49); only a deputy director signs a refusal letter (p.50); a deputy minister decides
        complaints (p.80)."""

        DIRECTOR = "director", _("Директор Департамента условий и охраны труда")
        DEPUTY_DIRECTOR = "deputy_director", _("Заместитель директора Департамента условий и охраны труда")
        OFFICIAL = "official", _("Должностное лицо Департамента условий и охраны труда")
        DEPUTY_MINISTER = "deputy_minister", _("Заместитель Министра труда и социальной защиты Российской Федерации")

    email = models.EmailField(_("Электронная почта"), unique=True)
    last_name = models.CharField(_("Фамилия"), max_length=100)
    first_name = models.CharField(_("Имя"), max_length=100)
    patronymic = models.CharField(_("Отчество"), max_length=100, blank=True)
    phone = models.CharField(_("Телефон"), max_length=30, blank=True)
    position = models.CharField(_("Должность"), max_length=20, choices=Position.choices, blank=True)
    is_staff = models.BooleanField(_("Сотрудник министерства"), default=False)
    is_active = models.BooleanField(_("Активна"), default=True)
    email_confirmed_at = models.DateTimeField(_("Почта подтверждена"), null=True, blank=True)
    date_joined = models.DateTimeField(_("Зарегистрирован"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["last_name", "first_name"]

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"


class AuditEvent(models.Model):
    """One line of the audit trail: a state change of a case, or a staff member opening a file.

    Append-only: the product never updates or deletes a row (the admin is read-only and database
    triggers, installed by migration 0002, refuse UPDATE and DELETE)."""

    class Action(models.TextChoices):
        TRANSITION = "transition", _("Смена состояния")
        VIEW = "view", _("Просмотр дела")
        EVENT = "event", _("Событие")

    at = models.DateTimeField(_("Когда"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("Кто"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("Кто (текстом)"), max_length=255)
    action = models.CharField(_("Действие"), max_length=20, choices=Action.choices)
    verb = models.CharField(_("Операция"), max_length=64)
    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_type", "case_id")
    case_label = models.CharField(_("Дело"), max_length=255)
    from_state = models.CharField(_("Из состояния"), max_length=40, blank=True)
    to_state = models.CharField(_("В состояние"), max_length=40, blank=True)
    reason = models.TextField(_("Основание"), blank=True)
    data = models.JSONField(_("Подробности"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    class Meta:
        verbose_name = _("запись журнала аудита")
        verbose_name_plural = _("журнал аудита")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case_type", "case_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.verb_label} {self.case_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("the audit trail is append-only")

    @property
    def verb_label(self) -> str:
        """What was done, as people read it (core.vocabulary)."""
        return audit_verb_label(self.verb)

    @property
    def from_label(self) -> str:
        return state_label(self.case_type.model_class(), self.from_state)

    @property
    def to_label(self) -> str:
        return state_label(self.case_type.model_class(), self.to_state)


class Notification(models.Model):
    """A message to a user: shown in the cabinet and sent by e-mail through a Celery task."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(_("Тема сообщения"), max_length=255)
    body = models.TextField(_("Текст"))
    link = models.CharField(_("Ссылка"), max_length=500, blank=True)
    # The subject and body in the other languages of the site, rendered when the message was sent
    # ({"en": {"subject": ..., "body": ...}}); the fields above hold the Russian text (and are what an
    # older message has only).
    texts = models.JSONField(_("Тексты на других языках"), default=dict, blank=True)
    created_at = models.DateTimeField(_("Создано"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("Прочитано"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("Отправлено по почте"), null=True, blank=True)
    # Messages of one kind to one person gathered into one while it is unread (core.services.
    # notification_gather): the end of a national sitting drafts thousands of decisions, and each
    # signatory gets one message that counts them, and one e-mail, not one of each per decision.
    key = models.CharField(max_length=100, blank=True)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("уведомление")
        verbose_name_plural = _("уведомления")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=models.Q(read_at__isnull=True) & ~models.Q(key=""),
                name="one_unread_notification_of_a_kind",
            )
        ]

    def __str__(self) -> str:
        return self.subject

    def _shown(self, part: str) -> str:
        from django.utils.translation import get_language

        text = (self.texts.get(get_language() or "") or {}).get(part) if isinstance(self.texts, dict) else None
        return str(text) if text else str(getattr(self, part))

    @property
    def shown_subject(self) -> str:
        """The subject in the language of the page (Russian for a message stored before the other
        languages were)."""
        return self._shown("subject")

    @property
    def shown_body(self) -> str:
        return self._shown("body")


class Deadline(models.Model):
    """A statutory term running on a case: what must be done, by which role, by which date.

    The due date is the last working day of the term (core.calendar); the term is met when the
    step is done on or before it. Due-soon and overdue marks are computed from the dates."""

    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_type", "case_id")
    kind = models.CharField(_("Срок"), max_length=64)
    role = models.CharField(_("Ответственная роль"), max_length=40)
    assignee = models.ForeignKey(
        User, verbose_name=_("Ответственный"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_on = models.DateField(_("Исчисляется от"))
    due_on = models.DateField(_("Срок истекает"), db_index=True)
    completed_at = models.DateTimeField(_("Исполнено"), null=True, blank=True)
    # A term can end without its step being done (the decision it ran on was superseded): it is
    # closed like a met one, so nothing waits on it, and left out of the share done on time.
    cancelled_at = models.DateTimeField(_("Отменён"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("Напоминание отправлено"), null=True, blank=True)
    flag = models.CharField(_("Отметка"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("срок")
        verbose_name_plural = _("сроки")
        indexes = [models.Index(fields=["case_type", "case_id", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case_type", "case_id", "kind"],
                condition=models.Q(completed_at__isnull=True),
                name="one_open_deadline_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} до {self.due_on:%d.%m.%Y}"


class ReminderDigest(models.Model):
    """The daily list of due-soon and overdue cases sent to one staff member: one row per person and
    day, so that a second run of the daily task the same day sends nothing."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("День"))
    notification = models.ForeignKey(Notification, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ежедневное напоминание о сроках")
        verbose_name_plural = _("ежедневные напоминания о сроках")
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="one_reminder_digest_per_day")]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.day:%d.%m.%Y}"


class CalendarDay(models.Model):
    """A staff-entered change to the production calendar (a government decree moving days off),
    for years the checked-in data does not cover yet. Overrides the library and the table."""

    class Kind(models.TextChoices):
        WORKING = "working", _("Рабочий день")
        DAY_OFF = "day_off", _("Нерабочий день")

    date = models.DateField(_("Дата"), unique=True)
    kind = models.CharField(_("Вид"), max_length=10, choices=Kind.choices)
    basis = models.CharField(_("Основание (постановление)"), max_length=255)

    class Meta:
        verbose_name = _("день производственного календаря")
        verbose_name_plural = _("производственный календарь: изменения")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} — {self.get_kind_display()}"


class Counter(models.Model):
    """Gap-free sequences (registration numbers, certificate numbers) per scope and year.

    Incremented under a row lock inside the caller's transaction, so a rolled-back caller
    leaves no gap and concurrent callers get consecutive values."""

    scope = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "year"], name="counter_scope_year")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.year}: {self.value}"


class OutgoingLetter(models.Model):
    """The journal of outgoing letters (журнал исходящей корреспонденции): each letter the ministry
    sends — an admission notice, a refusal letter, a decision on attestation, a complaint answer —
    has its own outgoing number from one gap-free counter (OUTGOING_NUMBER_FORMAT), unique across
    the kinds (the letter rows, in their own tables, keep the number too)."""

    class Kind(models.TextChoices):
        ADMISSION_NOTICE = "admission_notice", _("Уведомление о допуске к аттестационному испытанию")
        REFUSAL_LETTER = "refusal_letter", _("Письмо об отказе в аттестационном испытании")
        ATTESTATION_DECISION = "attestation_decision", _("Решение по результатам аттестационного испытания")
        COMPLAINT_ANSWER = "complaint_answer", _("Ответ по жалобе")

    number = models.CharField(_("Исходящий номер"), max_length=40, unique=True)
    kind = models.CharField(_("Вид письма"), max_length=40, choices=Kind.choices)
    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_type", "case_id")
    signed_at = models.DateTimeField(_("Подписано"))

    class Meta:
        verbose_name = _("исходящее письмо")
        verbose_name_plural = _("журнал исходящих писем")
        ordering = ["signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case_type", "case_id"], name="one_outgoing_number_per_letter")]

    def __str__(self) -> str:
        return self.number


class DispatchChannel(models.TextChoices):
    """p.52, p.64: how a letter to the applicant went out (core.dispatch)."""

    CABINET = "cabinet", _("В личный кабинет (с уведомлением по электронной почте)")
    EMAIL = "email", _("По электронной почте")
    POST = "post", _("Заказным почтовым отправлением с уведомлением о вручении")
    IN_PERSON = "in_person", _("Вручено лично")


class Dispatched(models.Model):
    """The dispatch of a letter: when, how, the postal item or the note of hand-over, and who
    recorded it (nobody for the cabinet and the e-mail, which the system sends)."""

    dispatched_at = models.DateTimeField(_("Отправлено"), null=True, blank=True)
    dispatch_channel = models.CharField(
        _("Способ отправки"), max_length=20, choices=DispatchChannel.choices, blank=True
    )
    dispatch_reference = models.CharField(_("Отметка об отправке"), max_length=254, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True


class LetterEdition(Dispatched, models.Model):
    """A corrected edition of a letter the ministry sent (p.78(g), p.88(a)): an admission notice, a
    refusal letter, a decision on attestation (core.letters). Only the addressee's particulars
    printed on the letter may be corrected (``PARTICULARS``), never the decision it states. The
    edition is a new outgoing letter (its own outgoing number in the journal), signed by the one who
    corrected it, with its own dispatch; its PDF is marked as corrected, and the PDF of the edition
    it replaces is kept and a copy marked as replaced is stored beside it (``previous_pdf``).
    Editions are a history: a row is never changed but for its dispatch and ``replaced_at``."""

    class Basis(models.TextChoices):
        REQUEST = "request", _("Заявление получателя документа")
        COMPLAINT = "complaint", _("Жалоба (п. 78 «ж» Регламента)")
        OWN_FINDING = "own_finding", _("Ошибка выявлена министерством")

    # The particulars the letters print of their addressee: the name (heading, salutation, facts)
    # and the postal and e-mail address (the heading).
    PARTICULARS = ("last_name", "first_name", "patronymic", "postal_address", "email")
    PARTICULAR_LABELS: ClassVar[dict[str, Any]] = {
        "last_name": _("Фамилия"),
        "first_name": _("Имя"),
        "patronymic": _("Отчество"),
        "postal_address": _("Почтовый адрес"),
        "email": _("Адрес электронной почты"),
    }

    letter_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    letter_id = models.PositiveBigIntegerField()
    letter = GenericForeignKey("letter_type", "letter_id")
    # The case whose audit trail records the edition (the application, the decision on attestation).
    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_type", "case_id")
    number = models.PositiveSmallIntegerField(_("Номер экземпляра"))  # the letter as first sent is 1
    kind = models.CharField(_("Вид письма"), max_length=40, choices=OutgoingLetter.Kind.choices)
    particulars = models.JSONField(_("Сведения об адресате в экземпляре"))
    changes = models.JSONField(_("Исправления"))  # {field: [old, new]}
    reason = models.TextField(_("Причина исправления"))
    basis = models.CharField(_("Основание"), max_length=20, choices=Basis.choices)
    basis_reference = models.CharField(_("Номер и дата жалобы или заявления"), max_length=200, blank=True)
    outgoing_number = models.CharField(_("Исходящий номер"), max_length=40, null=True, blank=True, unique=True)
    issued_at = models.DateTimeField(_("Подписано"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Подписал"), on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.FileField(upload_to="letters/", max_length=200)
    pdf_sha256 = models.CharField(max_length=64)
    previous_pdf = models.FileField(upload_to="letters/", max_length=200)
    replaced_at = models.DateTimeField(_("Заменён"), null=True, blank=True)

    class Meta:
        verbose_name = _("исправленный экземпляр письма")
        verbose_name_plural = _("исправленные экземпляры писем")
        ordering = ["letter_type", "letter_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["letter_type", "letter_id", "number"], name="one_letter_edition_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {_('экземпляр')} {self.number}"

    @property
    def is_replaced(self) -> bool:
        return self.replaced_at is not None

    def change_list(self) -> list[tuple[str, str, str]]:
        """The corrections as people read them: (what, was, now), in the order of the letter."""
        return [
            (str(self.PARTICULAR_LABELS[name]), *self.changes[name])
            for name in self.PARTICULARS
            if name in self.changes
        ]


class IdempotencyKey(models.Model):
    """One submission of a form that creates a case (core.idempotency): a double click or a retried
    request presents the same key and gets the case the first one created. The unique key makes a
    concurrent second submission wait for the first and then find its case."""

    key = models.CharField(max_length=120, unique=True)  # scope:actor:token
    case_type = models.ForeignKey(ContentType, null=True, on_delete=models.PROTECT, related_name="+")
    case_id = models.PositiveBigIntegerField(null=True)
    case = GenericForeignKey("case_type", "case_id")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("ключ однократной отправки формы")
        verbose_name_plural = _("ключи однократной отправки форм")

    def __str__(self) -> str:
        return self.key


# The qualified-signature models live beside their code (core/qes) and belong to this app.
from core.qes.models import (  # noqa: E402, F401
    RevocationList,
    RevokedCertificate,
    SignedDocument,
    SigningCertificate,
    TrustedAuthority,
    TrustedCertificate,
    TrustedList,
)
