"""Appeals against test results (p.12(v), p.65) and complaints against officials (section V)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import PersonName
from core.qes.verifier import Protocol


class Appeal(FSMModelMixin, models.Model):
    """A candidate's appeal against the result of the attestation test, decided by the appeals
    commission within 3 months of receipt (p.12(v))."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Зарегистрирована")
        UNDER_CONSIDERATION = "under_consideration", _("На рассмотрении комиссии")
        UPHELD = "upheld", _("Удовлетворена")
        REJECTED = "rejected", _("Отклонена")

    number = models.CharField(_("Регистрационный номер"), max_length=40, unique=True)
    attempt = models.ForeignKey("exam.Attempt", on_delete=models.PROTECT, related_name="appeals")
    application = models.ForeignKey("exam.Application", on_delete=models.PROTECT, related_name="appeals")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals")
    status = FSMField(_("Состояние"), default=Status.REGISTERED, choices=Status.choices, protected=True)
    reasons = models.TextField(_("Доводы апелляции"))
    received_at = models.DateTimeField(_("Поступила"))
    registered_on = models.DateField(_("Дата регистрации"))
    due_on = models.DateField(_("Срок рассмотрения"))
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reasons = models.TextField(_("Мотивы решения"), blank=True)
    # The decision as the candidate keeps it, made once and signed by the chair (appeal_decision_pdf).
    decision_pdf = models.FileField(upload_to="appeals/", max_length=200, blank=True)
    score_before = models.PositiveSmallIntegerField(null=True, blank=True)
    score_after = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("апелляция")
        verbose_name_plural = _("апелляции")
        constraints = [models.UniqueConstraint(fields=["attempt"], name="one_appeal_per_attempt")]

    def __str__(self) -> str:
        return f"{_('Апелляция')} {self.number}"

    def staff_url(self) -> str:
        return reverse("frontend:appeal_staff", args=[self.pk])

    def cabinet_url(self) -> str:
        return reverse("frontend:cabinet_appeal", args=[self.pk])

    @transition(field=status, source=Status.REGISTERED, target=Status.UNDER_CONSIDERATION)
    def open_voting(self) -> None:
        """The commission begins: members see the attempt in full and vote."""

    @transition(field=status, source=Status.UNDER_CONSIDERATION, target=Status.UPHELD)
    def uphold(self) -> None:
        """The majority upheld the appeal: named questions re-scored or voided, the result recomputed."""

    @transition(field=status, source=Status.UNDER_CONSIDERATION, target=Status.REJECTED)
    def reject(self) -> None:
        """The majority rejected the appeal, with reasons."""


class AppealAttachment(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="appeals/", max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.original_name


class AppealVote(models.Model):
    """One member's vote. A member votes once (unique), with the questions to re-score or void and an
    opinion (kept as a dissent when it differs from the majority)."""

    class Outcome(models.TextChoices):
        UPHOLD = "uphold", _("Удовлетворить")
        REJECT = "reject", _("Отклонить")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("Голос"), max_length=10, choices=Outcome.choices)
    rescore = models.JSONField(_("Засчитать вопросы (номера)"), default=list, blank=True)
    void = models.JSONField(_("Аннулировать вопросы (номера)"), default=list, blank=True)
    opinion = models.TextField(_("Мнение"), blank=True)
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cast_at"]
        constraints = [models.UniqueConstraint(fields=["appeal", "member"], name="one_vote_per_member")]

    def __str__(self) -> str:
        return f"{self.appeal.number}: {self.outcome}"


class Complaint(FSMModelMixin, PersonName, models.Model):
    """A pre-trial complaint against decisions and actions of the ministry's officials (p.77-97)."""

    class Subject(models.TextChoices):
        """p.78."""

        A = "a", _("п. 78 «а»: нарушение срока регистрации документов")
        B = "b", _("п. 78 «б»: нарушение срока предоставления государственной услуги")
        C = "c", _("п. 78 «в»: требование документов, не предусмотренных Регламентом")
        D = "d", _("п. 78 «г»: отказ в приёме документов, предусмотренных Регламентом")
        E = "e", _("п. 78 «д»: отказ в предоставлении услуги по основаниям, не предусмотренным Регламентом")
        F = "f", _("п. 78 «е»: требование платы, не предусмотренной Регламентом")
        G = "g", _("п. 78 «ж»: отказ в исправлении опечаток и ошибок или нарушение срока исправления")

    SHORT_TERM_SUBJECTS = ("d", "g")  # p.87: 5 working days; the others 15

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Зарегистрирована")
        UPHELD = "upheld", _("Удовлетворена")
        REFUSED = "refused", _("Отказано в удовлетворении")
        UNANSWERED = "unanswered", _("Оставлена без ответа")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Электронно, через личный кабинет")
        IN_PERSON = "in_person", _("На бумаге, на личном приёме")
        MAIL = "mail", _("По почте")

    class Remedy(models.TextChoices):
        """p.88(a), p.89: each remedy is done by the service of its own step (appeals.services:
        REMEDIES_CARRIED_OUT, the certificate's issue) or, for those without one, by a note."""

        CANCEL_NOT_ACCEPTED = "cancel_not_accepted", _("Отмена отказа в приёме документов (п. 19)")
        CANCEL_ADMISSION_REFUSAL = "cancel_admission_refusal", _("Отмена отказа в аттестационном испытании")
        CANCEL_ATTESTATION_REFUSAL = "cancel_attestation_refusal", _("Отмена решения об отказе в аттестации")
        CORRECT_ERRORS = "correct_errors", _("Исправление опечаток и ошибок в выданных документах")
        ISSUE_CERTIFICATE = "issue_certificate", _("Выдача сертификата эксперта (не позднее 5 рабочих дней, п. 89)")
        OTHER = "other", _("Иные меры по устранению нарушений")
        # Chosen before each cancellation had its service: no longer offered, closed by a note.
        CANCEL_DECISION = "cancel_decision", _("Отмена принятого решения")

    # What the handler may choose now (the legacy CANCEL_DECISION aside).
    REMEDIES_OFFERED = (
        Remedy.CANCEL_NOT_ACCEPTED,
        Remedy.CANCEL_ADMISSION_REFUSAL,
        Remedy.CANCEL_ATTESTATION_REFUSAL,
        Remedy.CORRECT_ERRORS,
        Remedy.ISSUE_CERTIFICATE,
        Remedy.OTHER,
    )

    class RefusalGround(models.TextChoices):
        """p.91."""

        COURT = "a", _("п. 91 «а»: вступившее в силу решение суда по жалобе о том же предмете и по тем же основаниям")
        AUTHORITY = "b", _("п. 91 «б»: полномочия лица, подавшего жалобу, не подтверждены")
        REPEAT = "c", _("п. 91 «в»: ранее принято решение по жалобе того же заявителя по тому же предмету")
        UNFOUNDED = "unfounded", _("Доводы жалобы не подтвердились")

    class SilenceGround(models.TextChoices):
        """p.92."""

        OBSCENE = "a", _("п. 92 «а»: нецензурные или оскорбительные выражения, угрозы")
        UNREADABLE = "b", _("п. 92 «б»: невозможно прочитать текст, фамилию или почтовый адрес")

    class AnswerChannel(models.TextChoices):
        """p.93, p.95: how the answer went out."""

        CABINET = "cabinet", _("В личный кабинет (с уведомлением по электронной почте)")
        EMAIL = "email", _("По электронной почте")
        POST = "post", _("Почтой")
        IN_PERSON = "in_person", _("Вручён лично")

    STAFF_ANSWER_CHANNELS = (AnswerChannel.POST, AnswerChannel.IN_PERSON)

    number = models.CharField(_("Регистрационный номер"), max_length=40, unique=True)
    status = FSMField(_("Состояние"), default=Status.REGISTERED, choices=Status.choices, protected=True)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField(_("Способ подачи"), max_length=20, choices=Channel.choices)
    subject = models.CharField(_("Предмет жалобы"), max_length=2, choices=Subject.choices)
    # p.79(a): the authority and the official concerned.
    official = models.CharField(_("Должностное лицо, решения или действия которого обжалуются"), max_length=300)
    # p.79(b): the complainant.
    last_name = models.CharField(_("Фамилия"), max_length=100)
    first_name = models.CharField(_("Имя"), max_length=100)
    patronymic = models.CharField(_("Отчество"), max_length=100, blank=True)
    residence = models.CharField(_("Место жительства"), max_length=500)
    postal_address = models.CharField(_("Почтовый адрес для ответа"), max_length=500, blank=True)
    email = models.EmailField(_("Электронная почта"), blank=True)
    phone = models.CharField(_("Телефон"), max_length=30, blank=True)
    # p.79(c), (d).
    decision_complained = models.TextField(_("Обжалуемые решения и действия (бездействие)"))
    arguments = models.TextField(_("Доводы"))
    related_application = models.ForeignKey(
        "exam.Application", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    # p.83: a representative attaches a notarised power of attorney.
    by_representative = models.BooleanField(_("Подаётся представителем"), default=False)
    representative_name = models.CharField(_("Представитель"), max_length=300, blank=True)
    # p.82: a complaint filed with a qualified electronic signature: the detached signature file as
    # it came, the canonical content it signs (appeals.selectors.complaint_document) and the
    # verification protocol (core.qes.verifier.Protocol.as_json). Empty for the others.
    signature = models.BinaryField(_("Файл электронной подписи"), blank=True, default=b"", editable=False)
    signed_document = models.JSONField(_("Подписанное содержание жалобы"), default=dict, blank=True)
    signature_protocol = models.JSONField(_("Протокол проверки электронной подписи"), default=dict, blank=True)
    # p.91(c): the normalised full name, to find a repeat by the same person from any channel.
    person_key = models.CharField(max_length=300, blank=True, db_index=True, editable=False)
    received_at = models.DateTimeField(_("Поступила"))
    # p.86: registered no later than the next working day after receipt; the actual moment is kept.
    registered_at = models.DateTimeField(_("Зарегистрирована"), null=True, blank=True)
    registered_on = models.DateField(_("Дата регистрации"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("Срок рассмотрения"))
    # The decision (p.88, p.91, p.92) and the answer (p.93-95).
    decided_at = models.DateTimeField(null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    remedy = models.CharField(_("Меры"), max_length=30, choices=Remedy.choices, blank=True)
    refusal_ground = models.CharField(_("Основание отказа"), max_length=10, choices=RefusalGround.choices, blank=True)
    silence_ground = models.CharField(
        _("Основание оставить без ответа"), max_length=2, choices=SilenceGround.choices, blank=True
    )
    decision_text = models.TextField(_("Основания принятого решения"), blank=True)
    remedy_due_on = models.DateField(_("Срок устранения нарушений"), null=True, blank=True)
    # p.94(a), p.95: the position of the official who decided and signs the answer.
    handler_position = models.CharField(_("Должность подписавшего ответ"), max_length=300, blank=True)
    answer_pdf = models.FileField(upload_to="complaints/", max_length=200, blank=True)
    # The answer's outgoing number, given when it is signed (core.services.outgoing_number_assign).
    outgoing_number = models.CharField(_("Исходящий номер ответа"), max_length=40, null=True, blank=True, unique=True)
    # The answer's signature record: who (the handler), when, and the SHA-256 digest of the canonical
    # content below (appeals.selectors.complaint_answer_document), printed on the answer.
    answer_signed_at = models.DateTimeField(_("Ответ подписан"), null=True, blank=True)
    answer_digest = models.CharField(_("SHA-256 ответа"), max_length=64, blank=True)
    answer_document = models.JSONField(_("Подписанное содержание ответа"), default=dict, blank=True)
    # p.93: the dispatch, which meets the answer's term.
    answered_at = models.DateTimeField(_("Ответ направлен"), null=True, blank=True)
    answer_channel = models.CharField(
        _("Способ направления ответа"), max_length=20, choices=AnswerChannel.choices, blank=True
    )
    answer_reference = models.CharField(_("Отметка об отправке"), max_length=254, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("жалоба")
        verbose_name_plural = _("жалобы")

    def __str__(self) -> str:
        return f"{_('Жалоба')} {self.number}"

    @property
    def verification(self) -> Protocol | None:
        """The verification protocol of the complaint's qualified signature (p.82), if it had one."""
        return Protocol.from_json(self.signature_protocol) if self.signature_protocol else None

    @property
    def is_upheld(self) -> bool:
        return self.status == self.Status.UPHELD

    def staff_url(self) -> str:
        return reverse("frontend:complaint_staff", args=[self.pk])

    def cabinet_url(self) -> str:
        return reverse("frontend:cabinet_complaint", args=[self.pk])

    @transition(field=status, source=Status.REGISTERED, target=Status.UPHELD)
    def uphold(self) -> None:
        """p.88(a)."""

    @transition(field=status, source=Status.REGISTERED, target=Status.REFUSED)
    def refuse(self) -> None:
        """p.88(b), on a ground of p.91 or because the arguments were not confirmed."""

    @transition(field=status, source=Status.REGISTERED, target=Status.UNANSWERED)
    def leave_unanswered(self) -> None:
        """p.92."""


class ComplaintAttachment(models.Model):
    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("Документ, подтверждающий доводы")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Нотариальная доверенность представителя (п. 83)")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="complaints/", max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.original_name


class ComplaintConfirmation(models.Model):
    """A complaint sent from the public form without a cabinet account (p.79 asks for contacts, not
    an account), held until its sender follows the link e-mailed to the address it gives: a check
    against complaints filed in another person's name and against floods. Confirmed, it is filed
    like any other (appeals.services.complaint_file) and names the complaint; unconfirmed, it
    expires. Only the SHA-256 of the link's secret is kept. Its documents wait in
    ComplaintConfirmationFile."""

    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    data = models.JSONField()  # the form's cleaned fields, as complaint_file takes them
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    complaint = models.OneToOneField(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="confirmation"
    )

    class Meta:
        verbose_name = _("подтверждение жалобы")
        verbose_name_plural = _("подтверждения жалоб")

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class ComplaintConfirmationFile(models.Model):
    """A document sent with a held complaint (its evidence, a representative's power of attorney,
    p.83), stored when the complaint is held: the link is followed in another request. Confirmed,
    it is filed as the complaint's ComplaintAttachment and this row and its file are deleted;
    unconfirmed, an hourly task deletes both once the confirmation expired
    (appeals.services.complaint_confirmation_files_release)."""

    confirmation = models.ForeignKey(ComplaintConfirmation, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=20, choices=ComplaintAttachment.Kind.choices)
    file = models.FileField(upload_to="complaints/held/", max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("файл жалобы до подтверждения")
        verbose_name_plural = _("файлы жалоб до подтверждения")

    def __str__(self) -> str:
        return self.original_name
