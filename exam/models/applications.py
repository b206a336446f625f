"""Applications, their entries and documents, admission decisions, notices and sittings.

The status of an application changes only through the transitions declared on ``Application`` and
only from ``exam.admission.services`` (the field is protected: assigning it directly raises)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import Dispatched, PersonName
from core.qes.verifier import Protocol


class Channel(models.TextChoices):
    """How the application reached the ministry (p.16)."""

    PORTAL = "portal", _("Электронно, через личный кабинет")
    IN_PERSON = "in_person", _("На бумаге, лично")
    REPRESENTATIVE = "representative", _("На бумаге, через представителя")
    MAIL = "mail", _("На бумаге, заказным почтовым отправлением")

    @classmethod
    def paper(cls) -> list[Channel]:
        return [cls.IN_PERSON, cls.REPRESENTATIVE, cls.MAIL]


class Application(FSMModelMixin, PersonName, models.Model):
    """The candidate's application for attestation with the information of p.15(a), in its order."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Черновик")
        NOT_ACCEPTED = "not_accepted", _("Отказано в приёме документов")
        REGISTERED = "registered", _("Зарегистрировано")
        UNDER_REVIEW = "under_review", _("На рассмотрении")
        DECISION_DRAFTED = "decision_drafted", _("Проект решения на подписи")
        ADMITTED = "admitted", _("Допущен к аттестационному испытанию")
        REFUSED = "refused", _("Отказано в аттестационном испытании")

    EDITABLE = (Status.DRAFT, Status.NOT_ACCEPTED)

    status = FSMField(_("Состояние"), default=Status.DRAFT, choices=Status.choices, protected=True)
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Заявитель (учётная запись)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    channel = models.CharField(_("Способ подачи"), max_length=20, choices=Channel.choices, default=Channel.PORTAL)
    # Who the person is (p.58: their last test decides; one case at a time): "user:<id>" for an
    # account holder; an applicant on paper without an account shares the key of the earlier
    # applications with the same identity document and name (exam.admission.services.persons).
    person_key = models.CharField(max_length=80, db_index=True, editable=False)
    # SHA-256 of the normalised identity document number and name (not a second copy of them).
    identity_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    # p.15(a), in order: name; identity document; contacts.
    last_name = models.CharField(_("Фамилия"), max_length=100, blank=True)
    first_name = models.CharField(_("Имя"), max_length=100, blank=True)
    patronymic = models.CharField(_("Отчество (при наличии)"), max_length=100, blank=True)
    id_document_name = models.CharField(_("Документ, удостоверяющий личность"), max_length=200, blank=True)
    id_document_number = models.CharField(_("Серия и номер документа"), max_length=50, blank=True)
    id_document_issuer = models.CharField(_("Кем выдан"), max_length=300, blank=True)
    id_document_issued_on = models.DateField(_("Дата выдачи"), null=True, blank=True)
    postal_address = models.CharField(_("Почтовый адрес"), max_length=500, blank=True)
    email = models.EmailField(_("Адрес электронной почты (при наличии)"), blank=True)
    phone = models.CharField(_("Номер контактного телефона (при наличии)"), max_length=30, blank=True)
    # Higher education, additional education and experience are the related entries below.
    personal_data_consent = models.BooleanField(_("Согласие на обработку персональных данных"), default=False)
    personal_data_consent_at = models.DateTimeField(null=True, blank=True)

    # Receipt and registration (p.25-27, 41).
    received_at = models.DateTimeField(_("Поступило"), null=True, blank=True)
    registration_number = models.CharField(
        _("Регистрационный номер"), max_length=40, null=True, blank=True, unique=True
    )
    registered_at = models.DateTimeField(_("Зарегистрировано"), null=True, blank=True)
    registration_date = models.DateField(
        _("Дата регистрации (для исчисления сроков)"), null=True, blank=True, db_index=True
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    not_accepted_reasons = models.JSONField(_("Причины отказа в приёме"), default=list, blank=True)

    # Review (p.47-48).
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Рассматривает"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_applications",
    )
    review_started_at = models.DateTimeField(_("Рассмотрение начато"), null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("заявление")
        verbose_name_plural = _("заявления")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "registration_date"])]

    def __str__(self) -> str:
        number = self.registration_number or f"черновик {self.pk}"
        return f"{_('Заявление')} {number} ({self.short_name or '—'})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.person_key:
            self.person_key = f"user:{self.candidate_id}" if self.candidate_id else f"app:{uuid.uuid4().hex}"
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_not_accepted(self) -> bool:
        """Refused acceptance (p.19): the candidate corrects the set and submits it again."""
        return self.status == self.Status.NOT_ACCEPTED

    def staff_url(self) -> str:
        return reverse("frontend:staff_application", args=[self.pk])

    def cabinet_url(self) -> str:
        return reverse("frontend:cabinet_application", args=[self.pk])

    # --- the one table of allowed transitions --------------------------------------------------
    @transition(field=status, source=[Status.DRAFT, Status.NOT_ACCEPTED], target=Status.NOT_ACCEPTED)
    def refuse_acceptance(self) -> None:
        """p.19: incomplete set of documents or invalid signature; not registered for review."""

    @transition(field=status, source=[Status.DRAFT, Status.NOT_ACCEPTED], target=Status.REGISTERED)
    def register(self) -> None:
        """p.25-27: a registration number and time are assigned."""

    @transition(field=status, source=Status.NOT_ACCEPTED, target=Status.REGISTERED)
    def accept_on_complaint(self) -> None:
        """p.88-89: the refusal to accept (p.19) is cancelled on an upheld complaint; the application
        is registered as of the submission that was refused."""

    @transition(field=status, source=Status.REFUSED, target=Status.REGISTERED)
    def reopen_review(self) -> None:
        """p.88-89: the refusal of admission is cancelled on an upheld complaint; the file goes back
        to the reviewers' pool with a new term (p.12(b)) for a new decision, signed as usual."""

    @transition(field=status, source=Status.REGISTERED, target=Status.UNDER_REVIEW)
    def start_review(self) -> None:
        """p.47: a reviewing official takes the file."""

    @transition(field=status, source=Status.UNDER_REVIEW, target=Status.DECISION_DRAFTED)
    def draft_decision(self) -> None:
        """p.48: the draft admission notice or refusal letter goes to a signatory."""

    @transition(field=status, source=Status.DECISION_DRAFTED, target=Status.UNDER_REVIEW)
    def return_draft(self) -> None:
        """The signatory sends the draft back to the reviewer with a reason."""

    @transition(field=status, source=Status.DECISION_DRAFTED, target=Status.ADMITTED)
    def admit(self) -> None:
        """p.49: the admission notice is signed."""

    @transition(field=status, source=Status.DECISION_DRAFTED, target=Status.REFUSED)
    def refuse(self) -> None:
        """p.50: the refusal letter is signed."""


class HigherEducation(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="higher_education")
    institution = models.CharField(_("Образовательная организация"), max_length=300)
    specialty = models.CharField(_("Направление подготовки (специальность)"), max_length=300)
    document_name = models.CharField(_("Наименование документа об образовании"), max_length=200)
    document_number = models.CharField(_("Номер документа"), max_length=50)
    document_date = models.DateField(_("Дата выдачи"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("высшее образование")

    def __str__(self) -> str:
        return f"{self.institution}, {self.specialty}"


class AdditionalEducation(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="additional_education")
    organisation = models.CharField(_("Организация, проводившая обучение"), max_length=300)
    programme = models.CharField(_("Дополнительная профессиональная программа"), max_length=300)
    assessment_hours = models.PositiveIntegerField(_("Часов на изучение вопросов оценки условий труда"))
    document_number = models.CharField(_("Номер документа о квалификации"), max_length=50)
    document_date = models.DateField(_("Дата выдачи"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("дополнительное профессиональное образование")

    def __str__(self) -> str:
        hours = _("%(n)s ч") % {"n": self.assessment_hours}
        return f"{self.programme} ({hours})"


class Experience(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="experience")
    employer = models.CharField(_("Работодатель"), max_length=300)
    works = models.TextField(_("Работы в области оценки условий труда"))
    date_from = models.DateField(_("С"))
    date_to = models.DateField(_("По (пусто — по настоящее время)"), null=True, blank=True)

    class Meta:
        ordering = ["date_from", "id"]
        verbose_name = _("опыт работы")

    def __str__(self) -> str:
        return f"{self.employer}: {self.date_from} — {self.date_to or '…'}"


class EntryCorrection(models.Model):
    """The reviewer's correction of one field of a candidate's entry from the attached document
    (e.g. the certificate of the programme shows 72 hours where the entry says 70), with a reason.

    The entry itself is never changed: the candidate signed it (p.39) and the signature must stay
    verifiable. Corrections are a history, never updated: the latest one of an entry's field is the
    value the criteria of p.21(a) use (exam.admission.selectors.application_criteria). Only the
    fields the criteria read may be corrected (``FIELDS``); values are stored as JSON (an integer,
    an ISO date or null, a boolean)."""

    class Kind(models.TextChoices):
        HIGHER_EDUCATION = "higher_education", _("Высшее образование")
        ADDITIONAL_EDUCATION = "additional_education", _("Дополнительное профессиональное образование")
        EXPERIENCE = "experience", _("Опыт работы")

    class Field(models.TextChoices):
        COUNTED = "counted", _("Учитывается при расчёте требований")
        ASSESSMENT_HOURS = "assessment_hours", _("Часов на изучение вопросов оценки условий труда")
        DATE_FROM = "date_from", _("Начало периода работы")
        DATE_TO = "date_to", _("Окончание периода работы")

    # What the criteria read of each kind of entry: presence (counted), the hours of one programme,
    # the periods of experience.
    FIELDS: dict[str, tuple[str, ...]] = {
        Kind.HIGHER_EDUCATION: (Field.COUNTED,),
        Kind.ADDITIONAL_EDUCATION: (Field.ASSESSMENT_HOURS, Field.COUNTED),
        Kind.EXPERIENCE: (Field.DATE_FROM, Field.DATE_TO, Field.COUNTED),
    }

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="corrections")
    entry_kind = models.CharField(_("Сведения"), max_length=30, choices=Kind.choices)
    entry_id = models.PositiveBigIntegerField()
    field = models.CharField(_("Поле"), max_length=30, choices=Field.choices)
    original = models.JSONField(_("В заявлении"), null=True)
    value = models.JSONField(_("Исправлено на"), null=True)
    reason = models.TextField(_("Причина исправления"))
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["corrected_at", "id"]
        verbose_name = _("исправление сведений заявления")
        verbose_name_plural = _("исправления сведений заявлений")
        indexes = [models.Index(fields=["application", "entry_kind", "entry_id", "field"])]

    def __str__(self) -> str:
        return f"{self.get_entry_kind_display()} #{self.entry_id}: {self.get_field_display()}"

    @staticmethod
    def label(field: str, raw: Any) -> str:
        """A stored value as people read it."""
        if field == EntryCorrection.Field.COUNTED:
            return str(_("учитывается") if raw else _("не учитывается"))
        if field == EntryCorrection.Field.ASSESSMENT_HOURS:
            return str(_("%(n)s ч") % {"n": raw})
        if raw is None:
            return str(_("по настоящее время"))
        return date.fromisoformat(raw).strftime("%d.%m.%Y")

    @property
    def original_label(self) -> str:
        return self.label(self.field, self.original)

    @property
    def value_label(self) -> str:
        return self.label(self.field, self.value)


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: the original name is kept in the row, never trusted on disk.
    return f"applications/{instance.application_id}/{uuid.uuid4().hex}"


class AttachmentManager(models.Manager["Attachment"]):
    """The documents of the draft: without the ones the candidate removed after an earlier
    submission had signed them (kept, with their files, so that submission can still be verified)."""

    def get_queryset(self) -> models.QuerySet[Attachment]:
        return super().get_queryset().filter(detached_at__isnull=True)

    def in_paragraph_order(self) -> models.QuerySet[Attachment]:
        """In the order p.15 lists them: (b) higher education, (c) qualification, (d) experience.
        (The signed document keeps its own order by code, so that old signatures still verify.)"""
        order = models.Case(
            *(models.When(kind=kind, then=models.Value(i)) for i, kind in enumerate(Attachment.Kind.values)),
            default=models.Value(len(Attachment.Kind.values)),
        )
        return self.get_queryset().order_by(order, "id")


class Attachment(models.Model):
    """A document of p.15(b)-(d): PDF, JPEG or PNG, checked by content."""

    class Kind(models.TextChoices):
        HIGHER_EDUCATION = "higher_education", _("Копия документа о высшем образовании (п. 15 «б»)")
        QUALIFICATION = (
            "qualification",
            _("Копия документа о квалификации по программе не менее 72 часов по оценке условий труда (п. 15 «в»)"),
        )
        EXPERIENCE = "experience", _("Копия трудовой книжки и (или) документов, подтверждающих опыт работы (п. 15 «г»)")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("Документ"), max_length=30, choices=Kind.choices)
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(_("Имя файла"), max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Removed from the draft, but named in a signed submission: hidden from the draft, never deleted.
    detached_at = models.DateTimeField(null=True, blank=True)

    all_objects = models.Manager()
    # The default manager, also behind ``application.attachments``: the draft's documents.
    objects = AttachmentManager()

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("приложенный документ")
        default_manager_name = "objects"

    def __str__(self) -> str:
        return self.original_name


class SignatureChallenge(models.Model):
    """A one-time code e-mailed to the candidate to sign a submission with a simple electronic
    signature (p.39). The code is stored hashed; the digest fixes what the code will sign."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="challenges")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=128)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.application} — {self.created_at:%Y-%m-%d %H:%M}"


class Submission(models.Model):
    """One submission of the application: electronic with a simple electronic signature, or on paper
    registered by staff. Keeps exactly what was submitted and whether it was accepted."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Принято и зарегистрировано")
        NOT_ACCEPTED = "not_accepted", _("Отказано в приёме документов")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="submissions")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField(_("Поступило"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    missing = models.JSONField(_("Недостающие документы и сведения"), default=list, blank=True)
    # The simple electronic signature (electronic channel only): who, when, and the SHA-256 digest of
    # the canonical document below (which lists each attachment's own SHA-256).
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_method = models.CharField(max_length=40, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    # The e-mail the code was sent to and the challenge it confirmed; with the fields above they are
    # bound by ``signature_mac`` (HMAC-SHA256 keyed by SIGNATURE_MAC_KEY), so none can be changed.
    signer_email = models.EmailField(blank=True)
    challenge = models.ForeignKey(SignatureChallenge, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signature_mac = models.CharField(max_length=64, blank=True)
    document = models.JSONField(_("Подписанный документ"), default=dict)
    paper_documents = models.JSONField(_("Представленные бумажные документы"), default=list, blank=True)
    # A qualified electronic signature instead of the code (signature_method QES): the detached
    # signature file as it came, over the canonical bytes of ``document``, and the verification
    # protocol of the moment of receipt (core.qes.verifier.Protocol.as_json), kept whatever its outcome.
    signature = models.BinaryField(_("Файл электронной подписи"), blank=True, default=b"", editable=False)
    protocol = models.JSONField(_("Протокол проверки электронной подписи"), default=dict, blank=True)

    QES = "qes"

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application} — {self.get_outcome_display()}"

    @property
    def is_signed(self) -> bool:
        return bool(self.digest)

    @property
    def is_qualified(self) -> bool:
        """Signed with a qualified electronic signature (p.19, seed 003 p.27.1), not the e-mailed code."""
        return self.signature_method == self.QES

    @property
    def verification(self) -> Protocol | None:
        """The verification protocol of the qualified signature, as recorded on receipt."""
        return Protocol.from_json(self.protocol) if self.protocol else None


class Sitting(models.Model):
    """A sitting of the attestation test: date and time, start window, place or remote, capacity."""

    starts_at = models.DateTimeField(_("Дата и время начала"))
    entry_window_minutes = models.PositiveIntegerField(_("Окно входа, минут"), default=60)
    is_remote = models.BooleanField(_("Дистанционно"), default=True)
    place = models.CharField(_("Место проведения"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("Мест"), default=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("заседание (сеанс тестирования)")
        verbose_name_plural = _("сеансы тестирования")

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{local:%d.%m.%Y %H:%M} — {self.place_label}"

    @property
    def place_label(self) -> str:
        return str(_("дистанционно")) if self.is_remote else self.place


class Decision(models.Model):
    """A draft or signed decision on admission (p.48-50): admission with a sitting, or refusal with
    the grounds of p.21. A signatory other than the drafter signs it."""

    class Kind(models.TextChoices):
        ADMISSION = "admission", _("Допуск к аттестационному испытанию")
        REFUSAL = "refusal", _("Отказ в аттестационном испытании")

    class State(models.TextChoices):
        DRAFT = "draft", _("Проект")
        SIGNED = "signed", _("Подписано")
        RETURNED = "returned", _("Возвращено на доработку")
        # A signed refusal cancelled on an upheld complaint (p.88): kept with its letter, never current.
        CANCELLED = "cancelled", _("Отменено по жалобе")

    class Ground(models.TextChoices):
        """p.21."""

        NO_HIGHER_EDUCATION = "a_education", _("п. 21 «а»: отсутствие высшего образования")
        NO_TRAINING = (
            "a_training",
            _(
                "п. 21 «а»: отсутствие дополнительного профессионального образования по оценке условий труда "
                "в объёме не менее 72 часов"
            ),
        )
        NO_EXPERIENCE = (
            "a_experience",
            _("п. 21 «а»: опыт практической работы в области оценки условий труда менее 3 лет"),
        )
        DOCUMENTS = (
            "b",
            _("п. 21 «б»: документы не соответствуют пункту 15 Регламента или представлены не в полном объёме"),
        )
        FORGERY = "c", _("п. 21 «в»: подложные документы или заведомо ложные сведения")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(_("Решение"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("Состояние"), max_length=20, choices=State.choices, default=State.DRAFT)
    grounds = models.JSONField(_("Основания отказа"), default=list, blank=True)
    explanation = models.TextField(_("Пояснение"), blank=True)
    sitting = models.ForeignKey(
        Sitting, verbose_name=_("Сеанс тестирования"), null=True, blank=True, on_delete=models.PROTECT
    )
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("Отменено"), null=True, blank=True)
    cancel_reason = models.TextField(_("Основание отмены"), blank=True)
    # The outgoing number of the admission notice or refusal letter, given at signing (core.services).
    outgoing_number = models.CharField(_("Исходящий номер"), max_length=40, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-drafted_at", "-id"]
        verbose_name = _("решение о допуске")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.application}"

    @property
    def is_admission(self) -> bool:
        return self.kind == self.Kind.ADMISSION

    def ground_labels(self) -> list[str]:
        labels = dict(self.Ground.choices)
        return [str(labels.get(g, g)) for g in self.grounds]


class Notice(Dispatched, models.Model):
    """The admission notice or refusal letter issued to the candidate (p.52-53) and its dispatch:
    the cabinet, or for an applicant without one the e-mail or the post (p.52; core.dispatch)."""

    class Kind(models.TextChoices):
        ADMISSION_NOTICE = "admission_notice", _("Уведомление о допуске к аттестационному испытанию")
        REFUSAL_LETTER = "refusal_letter", _("Письмо об отказе в аттестационном испытании")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notices")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="notice")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    issued_at = models.DateTimeField(_("Направлено"))
    pdf = models.FileField(upload_to="notices/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.application}"

    @property
    def outgoing_number(self) -> str | None:
        """The letter's outgoing number, given when its decision was signed."""
        return self.decision.outgoing_number


class OriginalsReturn(Dispatched, models.Model):
    """p.54: after a refusal of admission the documents a paper applicant handed in are returned to
    them; opened when the refusal is signed, recorded by the registrar (in person, or by registered
    mail with its tracking number, core.dispatch), which ends its own term."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="originals_return")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="originals_return")
    # The kinds of document received on paper (Attachment.Kind), as the registration recorded them.
    documents = models.JSONField(_("Возвращаемые документы"), default=list, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("возврат бумажных документов")
        verbose_name_plural = _("возвраты бумажных документов")

    def __str__(self) -> str:
        return f"{_('Возврат документов')} — {self.application}"

    def document_labels(self) -> list[str]:
        labels = dict(Attachment.Kind.choices)
        return [str(labels.get(kind, kind)) for kind in self.documents]


class ExamCredential(models.Model):
    """Login and password of the testing system (p.53). The password is stored only hashed; it is
    generated when shown, and each showing replaces the previous one."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="exam_credential")
    sitting = models.ForeignKey("Sitting", null=True, blank=True, on_delete=models.PROTECT, related_name="credentials")
    login = models.CharField(_("Логин"), max_length=40, unique=True)
    password_hash = models.CharField(max_length=128, blank=True)
    password_issued_at = models.DateTimeField(null=True, blank=True)
    password_issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # The reminder e-mailed the day before the sitting (exam.admission.services.exam_reminder_send): once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.login

    # The password is a random 12-character secret (about 69 bits) generated by the system, so a
    # salted SHA-256 protects it as well as a slow hash would, and lets 500 candidates sign in at the
    # start of a sitting without spending half a second of CPU each.
    def set_password(self, raw: str) -> None:
        salt = secrets.token_hex(8)
        self.password_hash = f"sha256${salt}${hashlib.sha256(f'{salt}:{raw}'.encode()).hexdigest()}"

    def check_password(self, raw: str) -> bool:
        algorithm, _sep, rest = self.password_hash.partition("$")
        salt, _sep, digest = rest.partition("$")
        if algorithm != "sha256" or not digest:
            return False
        return hmac.compare_digest(digest, hashlib.sha256(f"{salt}:{raw}".encode()).hexdigest())
