"""Attestation decisions, expert certificates and the public registry of experts (p.59-64, 68).

A certificate's status is never stored: it is computed from the dates (valid until the expiry date,
expired after it) and the confirmed annulment, so it cannot go stale."""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import Dispatched, PersonName
from exam.models import Channel


class AreaOfActivity(models.Model):
    """Areas of activity of an expert (a reference list the certificate officer maintains)."""

    code = models.CharField(_("Код"), max_length=20, unique=True)
    title = models.CharField(_("Область деятельности"), max_length=300)
    # The title on the English pages; the certificate and the registry record keep the Russian one.
    title_en = models.CharField(_("Область деятельности (по-английски)"), max_length=300, blank=True)
    active = models.BooleanField(_("Используется"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("область деятельности")
        verbose_name_plural = _("области деятельности")

    def __str__(self) -> str:
        return self.shown_title

    @property
    def shown_title(self) -> str:
        """The title in the language of the page."""
        return self.title_en if self.title_en and get_language() == "en" else self.title

    @staticmethod
    def shown_titles(titles: list[str]) -> list[str]:
        """Stored titles (a certificate's areas, its record) in the language of the page; a title
        no longer in the list stays as stored."""
        if get_language() != "en":
            return list(titles)
        english = dict(AreaOfActivity.objects.exclude(title_en="").values_list("title", "title_en"))
        return [english.get(title, title) for title in titles]


class AnnulmentReason(models.Model):
    """Reasons to annul a certificate (a reference list; seeds 002, 003)."""

    # The reason whose basis is a conclusion of a state expertise of working conditions (seeds 002,
    # 003): an annulment on it carries the conclusion's particulars (ExpertiseFinding).
    STATE_EXPERTISE = "state_expertise"

    code = models.CharField(_("Код"), max_length=20, unique=True)
    title = models.CharField(_("Основание аннулирования"), max_length=300)
    active = models.BooleanField(_("Используется"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("основание аннулирования")
        verbose_name_plural = _("основания аннулирования")

    def __str__(self) -> str:
        return self.title

    @property
    def is_state_expertise(self) -> bool:
        return self.code == self.STATE_EXPERTISE


class AttestationDecision(FSMModelMixin, Dispatched, models.Model):
    """The decision on attestation after the final attempt (p.59): drafted by the system, signed by a
    signatory, within 15 working days of the test (p.12(v)), and sent to the applicant: the cabinet,
    or for an applicant without one the e-mail or the post (p.64; core.dispatch)."""

    class Kind(models.TextChoices):
        ATTESTED = "attested", _("Решение об аттестации")
        REFUSED = "refused", _("Решение об отказе в аттестации")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Проект")
        SIGNED = "signed", _("Подписано")

    application = models.ForeignKey("exam.Application", on_delete=models.PROTECT, related_name="attestation_decisions")
    # One per final attempt; after an upheld appeal a new one supersedes it.
    attempt = models.ForeignKey("exam.Attempt", on_delete=models.PROTECT, related_name="attestation_decisions")
    kind = models.CharField(_("Решение"), max_length=20, choices=Kind.choices)
    status = FSMField(_("Состояние"), default=Status.DRAFT, choices=Status.choices, protected=True)
    score = models.PositiveSmallIntegerField(_("Правильных ответов"))
    question_count = models.PositiveSmallIntegerField()
    test_date = models.DateField(_("Дата испытания"))
    drafted_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="decisions/", max_length=200, blank=True)
    # p.58: only the decision on the person's current result can be signed, issued or sent. A later
    # attempt, or an appeal that changed the result, supersedes every decision not yet carried out
    # (registry.services.attestation_decisions_supersede_stale): kept, never acted upon again.
    superseded = models.BooleanField(_("Заменено"), default=False)
    superseded_at = models.DateTimeField(_("Заменено (когда)"), null=True, blank=True)
    superseded_reason = models.CharField(_("Основание замены"), max_length=300, blank=True)
    # Given at signing (core.services.outgoing_number_assign).
    outgoing_number = models.CharField(_("Исходящий номер"), max_length=40, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-drafted_at"]
        verbose_name = _("решение по результатам испытания")
        verbose_name_plural = _("решения по результатам испытания")
        constraints = [
            # One current decision per attempt: a second draft of the same attempt (a retried task,
            # the sweeper) cannot be created, whatever the timing.
            models.UniqueConstraint(
                fields=["attempt"], condition=models.Q(superseded=False), name="one_current_decision_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.application.short_name}"

    def staff_url(self) -> str:
        return reverse("frontend:attestation_decision", args=[self.pk])

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def is_attested(self) -> bool:
        return self.kind == self.Kind.ATTESTED

    @property
    def awaits_dispatch(self) -> bool:
        return self.is_signed and not self.superseded and self.dispatched_at is None

    @transition(field=status, source=Status.DRAFT, target=Status.SIGNED)
    def sign(self) -> None:
        """p.59: the signatory signs the decision."""


def _public_token() -> str:
    return secrets.token_urlsafe(18)


class Certificate(PersonName, models.Model):
    """An expert certificate in the form of Order 32n (p.61) and its entry in the registry (p.63):
    (a) full name; (b) number, issue date, expiry date; (c) areas of activity."""

    class Handover(models.TextChoices):
        IN_PERSON = "in_person", _("Вручён лично")
        MAIL = "mail", _("Направлен заказным почтовым отправлением")

    class Status(models.TextChoices):
        VALID = "valid", _("Действует")
        EXPIRED = "expired", _("Срок действия истёк")
        ANNULLED = "annulled", _("Аннулирован")

    number = models.CharField(_("Номер сертификата"), max_length=40, unique=True)
    decision = models.OneToOneField(
        AttestationDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    last_name = models.CharField(_("Фамилия"), max_length=100)
    first_name = models.CharField(_("Имя"), max_length=100)
    patronymic = models.CharField(_("Отчество"), max_length=100, blank=True)
    # For search: lower case, ё as е (registry.selectors.search_key).
    search_last = models.CharField(max_length=100, default="")
    search_name = models.CharField(max_length=310)
    issued_on = models.DateField(_("Дата выдачи"), db_index=True)
    expires_on = models.DateField(_("Действителен до"), db_index=True)
    areas = models.ManyToManyField(AreaOfActivity, verbose_name=_("Области деятельности"), related_name="certificates")
    areas_text = models.CharField(max_length=1000, blank=True)  # the titles, for the open data
    public_token = models.CharField(max_length=40, unique=True, default=_public_token)
    pdf = models.FileField(upload_to="certificates/", max_length=200, blank=True)
    handover = models.CharField(_("Передача"), max_length=20, choices=Handover.choices, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    tracking_number = models.CharField(_("Почтовый идентификатор"), max_length=40, blank=True)
    published_at = models.DateTimeField(_("Внесён в реестр"), null=True, blank=True, db_index=True)
    annulled_on = models.DateField(_("Аннулирован"), null=True, blank=True)
    annulment_reason = models.ForeignKey(
        AnnulmentReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The reason's title as it stood at the annulment: the signed record carries it, so staff
    # editing the reference list later neither rewrite what the registry says nor break the signature.
    annulment_reason_title = models.CharField(_("Основание аннулирования"), max_length=300, blank=True)
    annulment_basis = models.CharField(_("Документ-основание"), max_length=500, blank=True)
    signature = models.CharField(max_length=200, blank=True)  # Ed25519 of the signed record
    key_id = models.CharField(max_length=40, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    # registry.signing.seal: the server's MAC of the record as signed, with its signature. It stands for
    # the Ed25519 check (60 µs) where a million rows are read at once (the open data); a row without
    # one, or whose seal does not match, is checked with the signature.
    record_seal = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)  # the open-data changes feed

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("сертификат эксперта")
        verbose_name_plural = _("сертификаты экспертов")
        # The search reads the ids of the published experts of one surname in name order, and
        # filters the first name, from this index alone (an index-only scan).
        indexes = [
            models.Index(
                fields=["search_last", "search_name", "id"],
                name="registry_cert_surname_order",
                condition=models.Q(published_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{_('Сертификат')} {self.number} ({self.short_name})"

    def status_on(self, day: date) -> str:
        if self.annulled_on is not None and self.annulled_on <= day:
            return self.Status.ANNULLED
        if day > self.expires_on:
            return self.Status.EXPIRED
        return self.Status.VALID

    @property
    def status(self) -> str:
        from core.calendar import today

        return self.status_on(today())

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)

    def public_url(self) -> str:
        return reverse("frontend:registry_verify", args=[self.public_token])

    def staff_url(self) -> str:
        return reverse("frontend:certificate_staff", args=[self.pk])


class Surname(models.Model):
    """The distinct surnames of the registry (search form): a small dictionary that a misspelt
    surname is matched against before the registry itself is read."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


class CertificateHistory(models.Model):
    """The public history of a certificate: issued, handed over, published, corrected, duplicated,
    annulled."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Выдан")
        HANDED_OVER = "handed_over", _("Передан эксперту")
        PUBLISHED = "published", _("Внесён в реестр")
        CORRECTED = "corrected", _("Выдан исправленный экземпляр")
        DUPLICATE = "duplicate", _("Выдан дубликат")
        ANNULLED = "annulled", _("Аннулирован")

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="history")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    on = models.DateField(_("Дата"))
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(_("Подробности"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.kind} {self.on}"


class CertificateEdition(models.Model):
    """An edition of the paper certificate: the original (edition 1), a corrected edition after an
    error in the issued document (p.78(g), p.88(a)), or a duplicate of a lost or damaged one. Every
    edition has the certificate's number and dates; the certificate row holds the current values
    (the registry, the search and the open data read them), each edition its own PDF, the fields it
    changed (old and new) and its hand-over. An edition issued after it replaces it: its file stays,
    for the audit, and the pages say it was replaced."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("Оригинал")
        CORRECTED = "corrected", _("Исправленный экземпляр")
        DUPLICATE = "duplicate", _("Дубликат")

    class Basis(models.TextChoices):
        """What asked for the edition."""

        ISSUE = "issue", _("Выдача сертификата")
        EXPERT_REQUEST = "expert_request", _("Заявление эксперта")
        COMPLAINT = "complaint", _("Жалоба (п. 78 «ж», п. 88)")
        OFFICER_FINDING = "officer_finding", _("Ошибка выявлена специалистом по сертификатам")

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="editions")
    number = models.PositiveSmallIntegerField(_("Экземпляр №"))
    kind = models.CharField(_("Вид экземпляра"), max_length=20, choices=Kind.choices)
    basis = models.CharField(_("Основание"), max_length=20, choices=Basis.choices, default=Basis.ISSUE)
    # The complaint's particulars, or the registration of the expert's request.
    basis_reference = models.CharField(_("Реквизиты основания"), max_length=300, blank=True)
    request_date = models.DateField(_("Дата заявления"), null=True, blank=True)
    request_channel = models.CharField(_("Способ подачи заявления"), max_length=20, choices=Channel.choices, blank=True)
    reason = models.CharField(_("Причина"), max_length=1000, blank=True)
    # {"field": {"old": ..., "new": ...}} of a corrected edition.
    changes = models.JSONField(_("Исправленные сведения"), default=dict, blank=True)
    # The fixed fields of the signed record (registry.selectors.QR_FIXED_FIELDS) as this edition's QR
    # code carries them: the code of a replaced edition is recognised as genuine but not current.
    record = models.JSONField(default=dict, blank=True)
    pdf = models.FileField(upload_to="certificates/", max_length=200, blank=True)
    issued_at = models.DateTimeField(_("Выдан"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handover = models.CharField(_("Передача"), max_length=20, choices=Certificate.Handover.choices, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    tracking_number = models.CharField(_("Почтовый идентификатор"), max_length=40, blank=True)
    replaced_at = models.DateTimeField(_("Заменён"), null=True, blank=True)
    # The copy of a replaced edition stamped «заменён», rendered from its record; ``pdf`` stays as issued.
    replaced_pdf = models.FileField(upload_to="certificates/", max_length=200, blank=True)

    class Meta:
        ordering = ["certificate", "number"]
        verbose_name = _("экземпляр сертификата")
        verbose_name_plural = _("экземпляры сертификата")
        constraints = [
            models.UniqueConstraint(fields=["certificate", "number"], name="one_edition_number_per_certificate"),
            models.UniqueConstraint(
                fields=["certificate"], condition=models.Q(replaced_at__isnull=True), name="one_current_edition"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.get_kind_display()} ({self.number})"

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None

    @property
    def is_duplicate(self) -> bool:
        return self.kind == self.Kind.DUPLICATE


class Annulment(FSMModelMixin, models.Model):
    """Annulment of a certificate: requested by a certificate officer with a reason from the list
    and the basis document; confirmed (or rejected) by a signatory."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("На подтверждении")
        CONFIRMED = "confirmed", _("Подтверждено")
        REJECTED = "rejected", _("Отклонено")

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="annulments")
    status = FSMField(_("Состояние"), default=Status.REQUESTED, choices=Status.choices, protected=True)
    reason = models.ForeignKey(AnnulmentReason, on_delete=models.PROTECT, verbose_name=_("Основание"))
    basis = models.CharField(_("Документ-основание (реквизиты)"), max_length=500)
    basis_file = models.FileField(upload_to="annulments/", max_length=200, blank=True)
    comment = models.TextField(_("Пояснение"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate"], condition=models.Q(status="requested"), name="one_pending_annulment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.get_status_display()}"

    def staff_url(self) -> str:
        return self.certificate.staff_url()

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED

    @property
    def finding(self) -> ExpertiseFinding | None:
        """The conclusion of a state expertise the annulment rests on, if it does."""
        return getattr(self, "expertise_finding", None)

    @transition(field=status, source=Status.REQUESTED, target=Status.CONFIRMED)
    def confirm(self) -> None:
        """The signatory confirms: the certificate is annulled."""

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED)
    def reject(self) -> None:
        """The signatory does not confirm."""


class ExpertiseFinding(models.Model):
    """The conclusion of a state expertise of working conditions (seeds 002, 003; seed 002 p.3.6.2.4:
    the expertise checks the experts who took part in the special assessment against the registry)
    on which an annulment on the reason STATE_EXPERTISE rests. The public sees only the issuing
    authority, the number and the date of the conclusion (public_particulars): the experts named,
    the employer, the report and the findings concern other persons and stay with the staff."""

    annulment = models.OneToOneField(Annulment, on_delete=models.PROTECT, related_name="expertise_finding")
    authority = models.CharField(_("Орган, проводивший экспертизу"), max_length=300)
    region = models.CharField(_("Субъект Российской Федерации"), max_length=100)
    number = models.CharField(_("Номер заключения"), max_length=60)
    issued_on = models.DateField(_("Дата заключения"))
    employer = models.CharField(_("Работодатель"), max_length=300)
    report = models.CharField(_("Отчёт о проведении СОУТ (реквизиты)"), max_length=300)
    experts = models.TextField(_("Эксперты, названные в заключении"))
    findings = models.TextField(_("Выводы заключения"))
    document = models.FileField(_("Копия заключения"), upload_to="annulments/", max_length=200)

    class Meta:
        verbose_name = _("заключение государственной экспертизы условий труда")
        verbose_name_plural = _("заключения государственной экспертизы условий труда")

    def __str__(self) -> str:
        return self.public_particulars

    @property
    def public_particulars(self) -> str:
        """What the registry publishes of the conclusion: enough to ask the authority for it."""
        return _("Заключение № %(n)s от %(d)s, %(a)s") % {
            "n": self.number,
            "d": self.issued_on.strftime("%d.%m.%Y"),
            "a": self.authority,
        }


class SigningKey(models.Model):
    """The ministry's public keys (Ed25519) with their validity periods: published, so that a printed
    certificate's QR code can be checked offline. The private key is never stored here."""

    key_id = models.CharField(max_length=40, unique=True)
    algorithm = models.CharField(max_length=20, default="Ed25519")
    public_key = models.CharField(max_length=100)  # base64url of the raw 32 bytes
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["valid_from"]

    def __str__(self) -> str:
        return self.key_id
