"""What qualified signatures are checked against and signed with: the trusted lists of accredited
certification authorities as staff loaded them (every version kept: the question is whether an
authority was accredited on the day it issued a certificate), their revocation lists, and the
officials' signing certificates. Imported by core.models, so they belong to the core app."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACCREDITED = "Действует"  # the status word of the trusted list's format


class TrustedList(models.Model):
    """One loaded version of the list of accredited certification authorities (the XML the Ministry
    of Digital Development publishes)."""

    version = models.PositiveBigIntegerField(_("Версия"))
    issued_at = models.DateTimeField(_("Дата списка"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="trusted-lists/", max_length=200)
    loaded_at = models.DateTimeField(_("Загружен"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Загрузил"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("перечень аккредитованных удостоверяющих центров")
        verbose_name_plural = _("перечни аккредитованных удостоверяющих центров")
        ordering = ["-version", "-loaded_at"]

    def __str__(self) -> str:
        return f"{_('Версия')} {self.version}"


class TrustedAuthority(models.Model):
    """A certification authority as one version of the list describes it, with the history of its
    accreditation's status: [{"status": "Действует", "from": "2021-07-01"}, ...], oldest first."""

    trusted_list = models.ForeignKey(TrustedList, on_delete=models.CASCADE, related_name="authorities")
    name = models.CharField(_("Наименование"), max_length=1000)
    short_name = models.CharField(_("Краткое наименование"), max_length=500, blank=True)
    ogrn = models.CharField(_("ОГРН"), max_length=20, blank=True)
    statuses = models.JSONField(_("Статусы аккредитации"), default=list)

    class Meta:
        verbose_name = _("аккредитованный удостоверяющий центр")
        verbose_name_plural = _("аккредитованные удостоверяющие центры")

    def __str__(self) -> str:
        return self.short_name or self.name

    def accredited_on(self, day: date) -> bool:
        current = None
        for entry in self.statuses:
            if date.fromisoformat(entry["from"][:10]) <= day:
                current = entry["status"]
        return current == ACCREDITED

    @property
    def accredited_now(self) -> bool:
        return self.accredited_on(timezone.localdate())


class TrustedCertificate(models.Model):
    """A certificate of an authorised person's key of an accredited authority: the certificates it
    issues to signers verify under this one."""

    authority = models.ForeignKey(TrustedAuthority, on_delete=models.CASCADE, related_name="certificates")
    der = models.BinaryField()
    sha1 = models.CharField(_("Отпечаток"), max_length=40, db_index=True)
    subject = models.CharField(_("Владелец"), max_length=1000)
    subject_hash = models.CharField(max_length=64, db_index=True)
    key_id = models.CharField(max_length=128, blank=True)
    serial = models.CharField(_("Серийный номер"), max_length=80)
    not_before = models.DateTimeField(_("Действует с"))
    not_after = models.DateTimeField(_("Действует по"))

    class Meta:
        verbose_name = _("сертификат удостоверяющего центра")
        verbose_name_plural = _("сертификаты удостоверяющих центров")

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"


class RevocationList(models.Model):
    """A certificate revocation list of an accredited authority, loaded with the trusted list (no
    list is fetched from the network when a signature is checked), verified under ``issuer``."""

    issuer = models.ForeignKey(TrustedCertificate, on_delete=models.PROTECT, related_name="+")
    issuer_hash = models.CharField(max_length=64, db_index=True)
    authority_key_id = models.CharField(max_length=128, blank=True)
    sha256 = models.CharField(max_length=64, unique=True)
    number = models.DecimalField(max_digits=50, decimal_places=0, null=True, blank=True)
    this_update = models.DateTimeField(_("Выпущен"))
    next_update = models.DateTimeField(_("Следующий выпуск"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("Загружен"), default=timezone.now)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("список отзыва сертификатов")
        verbose_name_plural = _("списки отзыва сертификатов")

    def __str__(self) -> str:
        return f"{self.issuer.subject}, {self.this_update:%d.%m.%Y}"

    def covers(self, moment: datetime) -> bool:
        from core.qes.cms import covers

        return covers(this_update=self.this_update, next_update=self.next_update, moment=moment)


class RevokedCertificate(models.Model):
    revocation_list = models.ForeignKey(RevocationList, on_delete=models.CASCADE, related_name="entries")
    serial = models.CharField(max_length=80)
    revoked_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["serial"], name="revoked_certificate_serial")]

    def __str__(self) -> str:
        return self.serial


class SigningCertificate(models.Model):
    """An official's qualified certificate and where its private key is. In the embedded mode the key
    is a file (PEM, or PKCS#12 whose password is in the environment variable named here); a hardware
    token or a certified crypto provider replaces core.qes.signer.KeyFileSigner through the
    QES_SIGNER setting and keeps these rows as the list of who signs with which certificate."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Должностное лицо"),
        on_delete=models.PROTECT,
        related_name="signing_certificates",
    )
    der = models.BinaryField()
    serial = models.CharField(_("Серийный номер"), max_length=80)
    owner = models.CharField(_("Владелец"), max_length=500)
    issuer = models.CharField(_("Издатель"), max_length=1000)
    not_before = models.DateTimeField(_("Действует с"))
    not_after = models.DateTimeField(_("Действует по"))
    key_file = models.CharField(_("Файл ключа"), max_length=500)
    key_password_variable = models.CharField(_("Переменная окружения с паролем"), max_length=100, blank=True)
    active = models.BooleanField(_("Используется"), default=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("сертификат ключа подписи должностного лица")
        verbose_name_plural = _("сертификаты ключей подписи должностных лиц")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(active=True), name="one_active_signing_key"),
            models.UniqueConstraint(fields=["serial", "issuer"], name="signing_certificate_once"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} ({self.serial})"


class SignedDocument(models.Model):
    """A document the ministry issued through the product, as its official signed it: the PDF's
    digest and storage name, the detached signature (DER) and whose certificate made it, and when.
    The moment is the ministry's own record, so a later check of the document asks whether the
    certificate was valid then, not today. Anyone holding the PDF may fetch its signature by digest."""

    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=200, db_index=True)
    title = models.CharField(_("Документ"), max_length=500)
    signature = models.BinaryField()
    certificate = models.ForeignKey(SigningCertificate, on_delete=models.PROTECT, related_name="documents")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("Подписан"))

    class Meta:
        verbose_name = _("подписанный документ")
        verbose_name_plural = _("подписанные документы")

    def __str__(self) -> str:
        return self.title
