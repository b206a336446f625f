"""The one verifier of qualified electronic signatures: every signature that comes in (an
application, a complaint, a document brought to the public verification page, a check by hand with
``manage.py signature_verify``) is checked here, against the conditions of art. 11 of Federal Law
No. 63-FZ that seed 003 p.27.1 asks the registrar to check, plus p.16(1): the signature belongs to the
applicant. The outcome is a protocol, one line per check, kept with what was signed.

The moment of signing: a CAdES-BES signature carries no trusted time stamp, so the moment is not
reliably established and the certificate must be valid at the moment of the check (art. 11 p.2):
``at`` is the receipt of the submission, or a moment the caller knows reliably (the ministry's own
record of when its official signed). The signing time the signer's software wrote is shown only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.qes import openssl
from core.qes.cms import SIGNATURE_ALGORITHMS, CertificateInfo, FormatError, SignatureInfo, signature_load
from core.qes.trust import Anchor, Trust

ISSUER, VALIDITY, INTEGRITY, USAGE, SIGNER = "issuer", "validity", "integrity", "usage", "signer"
OFFICIAL = "official"  # the signer of a ministry's document is its official (the public verification)

# What each check is called and the rule it applies, in the order of the protocol.
CHECKS = {
    ISSUER: (
        gettext_lazy("Сертификат выдан аккредитованным удостоверяющим центром"),
        gettext_lazy("п. 1 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ"),
    ),
    VALIDITY: (
        gettext_lazy("Сертификат действителен и не отозван на момент подписания"),
        gettext_lazy("п. 2 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ"),
    ),
    INTEGRITY: (
        gettext_lazy("Подпись принадлежит владельцу сертификата, документ не изменён после подписания"),
        gettext_lazy("п. 3 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ"),
    ),
    USAGE: (
        gettext_lazy("Подпись использована в пределах ограничений сертификата"),
        gettext_lazy("п. 4 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ"),
    ),
    SIGNER: (
        gettext_lazy("Подпись принадлежит заявителю"),
        gettext_lazy("пп. 1 п. 16 Административного регламента"),
    ),
    OFFICIAL: (
        gettext_lazy("Подпись принадлежит должностному лицу Минтруда России"),
        gettext_lazy("сведения Минтруда России о сертификатах ключей подписи его должностных лиц"),
    ),
}

SignerCheck = Callable[[CertificateInfo], tuple[bool, str]]


@dataclass(frozen=True)
class Check:
    code: str
    ok: bool
    detail: str

    @property
    def title(self) -> str:
        return str(CHECKS[self.code][0])

    @property
    def basis(self) -> str:
        return str(CHECKS[self.code][1])


@dataclass(frozen=True)
class Protocol:
    """The verification protocol: what was checked, at which moment, whose certificate, and each
    check's outcome. Stored as JSON (as_json / from_json) with what was signed."""

    at: datetime
    checks: list[Check]
    certificate: dict[str, str] = field(default_factory=dict)  # serial, owner, issuer, valid from/to
    algorithm: str = ""
    signing_time: datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def grounds(self) -> str:
        """The failed checks with their rules, as a refusal under p.19 names them."""
        return "; ".join(f"{check.title.lower()} ({check.basis}): {check.detail}" for check in self.failed)

    def lines(self) -> list[str]:
        mark = {True: "OK  ", False: "FAIL"}
        return [f"{mark[check.ok]} {check.title} ({check.basis}): {check.detail}" for check in self.checks]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "checks": [asdict(check) for check in self.checks],
            "certificate": self.certificate,
            "algorithm": self.algorithm,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Protocol:
        signing_time = parse_datetime(data["signing_time"]) if data.get("signing_time") else None
        return cls(
            at=parse_datetime(data["at"]) or timezone.now(),
            checks=[Check(**check) for check in data["checks"]],
            certificate=data.get("certificate", {}),
            algorithm=data.get("algorithm", ""),
            signing_time=signing_time,
        )


def _moment(value: datetime) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _day(value: datetime) -> str:
    return date_format(timezone.localtime(value).date(), "DATE_FORMAT")


def certificate_summary(certificate: CertificateInfo) -> dict[str, str]:
    """What the protocol and the visible stamp of a signed document say about a certificate."""
    return {
        "serial": certificate.serial,
        "owner": certificate.owner,
        "issuer": certificate.issuer,
        "valid_from": _day(certificate.not_before),
        "valid_to": _day(certificate.not_after),
    }


def verify(
    *,
    content: bytes,
    signature: bytes,
    trust: Trust,
    at: datetime | None = None,
    signer: SignerCheck | None = None,
    signer_code: str = SIGNER,
) -> Protocol:
    """Check the detached ``signature`` over ``content``; ``signer`` says whether the certificate
    is the expected person's (without it the protocol has no such line), a check named
    ``signer_code``: SIGNER (the applicant) or OFFICIAL (an official of the ministry)."""
    at = at or timezone.now()
    try:
        parsed = signature_load(signature)
    except FormatError as exc:
        not_done = _("Проверка не проводилась: подпись не прочитана.")
        codes = [ISSUER, VALIDITY, INTEGRITY, USAGE] + ([signer_code] if signer else [])
        return Protocol(
            at=at, checks=[Check(code, False, exc.message if code == INTEGRITY else not_done) for code in codes]
        )
    cert = parsed.signer
    issuer_check, anchor = _issuer(cert, trust)
    checks = [
        issuer_check,
        _validity(cert, trust=trust, anchor=anchor, at=at),
        _integrity(parsed, content=content),
        _usage(cert),
    ]
    if signer is not None:
        ok, detail = signer(cert)
        checks.append(Check(signer_code, ok, detail))
    return Protocol(
        at=at,
        checks=checks,
        certificate=certificate_summary(cert),
        algorithm=parsed.algorithm_label,
        signing_time=parsed.signing_time,
    )


def _issuer(cert: CertificateInfo, trust: Trust) -> tuple[Check, Anchor | None]:
    issued = timezone.localtime(cert.not_before).date()
    anchors = [
        a for a in trust.anchors(cert) if openssl.certificate_issued_by(certificate=cert.der, issuer=a.certificate.der)
    ]
    if not anchors:
        detail = _("Издатель сертификата (%(issuer)s) не найден в перечне аккредитованных удостоверяющих центров.")
        return Check(ISSUER, False, detail % {"issuer": cert.issuer}), None
    for anchor in anchors:
        in_term = anchor.certificate.not_before <= cert.not_before <= anchor.certificate.not_after
        if in_term and anchor.accredited_on(issued):
            detail = _("Выдан удостоверяющим центром «%(ca)s», аккредитованным на день выдачи %(day)s.")
            return Check(ISSUER, True, detail % {"ca": anchor.authority, "day": _day(cert.not_before)}), anchor
    detail = _("Удостоверяющий центр «%(ca)s» не был аккредитован на день выдачи сертификата %(day)s.")
    return Check(ISSUER, False, detail % {"ca": anchors[0].authority, "day": _day(cert.not_before)}), anchors[0]


def _validity(cert: CertificateInfo, *, trust: Trust, anchor: Anchor | None, at: datetime) -> Check:
    if not cert.not_before <= at <= cert.not_after:
        detail = _("На %(at)s сертификат не действовал: срок его действия с %(from)s по %(to)s.")
        return Check(
            VALIDITY, False, detail % {"at": _moment(at), "from": _day(cert.not_before), "to": _day(cert.not_after)}
        )
    if anchor is None:
        return Check(VALIDITY, False, _("Отзыв сертификата не проверен: издатель не найден в перечне."))
    revocation = trust.revocation(cert, issuer=anchor, at=at)
    if revocation.revoked_at is not None and revocation.revoked_at <= at:
        detail = _("Сертификат отозван удостоверяющим центром %(when)s.")
        return Check(VALIDITY, False, detail % {"when": _moment(revocation.revoked_at)})
    if not revocation.covered:
        detail = _("Нет списка отзыва удостоверяющего центра, действующего на %(at)s: отзыв не проверен.")
        return Check(VALIDITY, False, detail % {"at": _moment(at)})
    detail = _("Сертификат действует с %(from)s по %(to)s и не отозван на %(at)s.")
    return Check(
        VALIDITY, True, detail % {"from": _day(cert.not_before), "to": _day(cert.not_after), "at": _moment(at)}
    )


def _integrity(parsed: SignatureInfo, *, content: bytes) -> Check:
    if parsed.signature_algorithm not in SIGNATURE_ALGORITHMS:
        detail = _("Алгоритм подписи %(oid)s не допускается для квалифицированной подписи.")
        return Check(INTEGRITY, False, detail % {"oid": parsed.signature_algorithm})
    if not openssl.cms_content_verifies(signature=parsed.der, content=content, signer=parsed.signer.der):
        return Check(
            INTEGRITY,
            False,
            _("Подпись не соответствует документу: документ или его вложения изменены после подписания."),
        )
    detail = _("Подпись верна (%(algorithm)s), документ не изменён.")
    return Check(INTEGRITY, True, detail % {"algorithm": parsed.algorithm_label})


def _usage(cert: CertificateInfo) -> Check:
    if not cert.key_usage & {"digital_signature", "non_repudiation"}:
        return Check(USAGE, False, _("Сертификат не разрешает использовать ключ для электронной подписи."))
    allowed = set(settings.QES_EXTENDED_KEY_USAGES)
    if cert.extended_key_usage is not None and not cert.extended_key_usage & allowed:
        return Check(USAGE, False, _("Назначение сертификата не допускает подписание документов."))
    if cert.is_ca:
        return Check(USAGE, False, _("Сертификат удостоверяющего центра не используется для подписи документов."))
    required = set(settings.QES_CERTIFICATE_POLICIES)
    if required and not cert.policies & required:
        return Check(
            USAGE, False, _("Сертификат не является квалифицированным: не указан класс средства электронной подписи.")
        )
    return Check(USAGE, True, _("Ключ разрешён для электронной подписи, ограничения сертификата соблюдены."))


def person_check(*, snils: str, last_name: str, first_name: str, patronymic: str) -> SignerCheck:
    """The signer is this person: the SNILS in the certificate if both have one, else the full name."""

    def check(cert: CertificateInfo) -> tuple[bool, str]:
        wanted_snils = "".join(ch for ch in snils if ch.isdigit())
        if cert.snils and wanted_snils:
            if cert.snils == wanted_snils:
                return True, _("СНИЛС в сертификате совпадает со СНИЛС заявителя.")
            return False, _("СНИЛС в сертификате не совпадает со СНИЛС заявителя: подпись принадлежит другому лицу.")
        wanted = " ".join(part for part in (last_name, first_name, patronymic) if part)
        if _normal(cert.owner) == _normal(wanted):
            return True, _("Фамилия, имя и отчество в сертификате совпадают с данными заявителя.")
        detail = _("Сертификат выдан «%(owner)s», а не заявителю: подпись принадлежит другому лицу.")
        return False, detail % {"owner": cert.owner}

    return check


def _normal(name: str) -> str:
    return " ".join(name.replace("ё", "е").replace("Ё", "Е").casefold().split())
