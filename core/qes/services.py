"""Loading what signatures are checked against: a version of the trusted list of accredited
certification authorities (the XML of the Ministry of Digital Development, «АккредитованныеУдостоверяющиеЦентры»)
with the revocation lists of its authorities, and the officials' signing certificates. Staff load
them (the staff page, ``manage.py trusted_list_load``); every version is kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.files import file_store
from core.models import User
from core.qes import openssl
from core.qes.cms import FormatError, certificate_info, crl_load
from core.qes.models import (
    RevocationList,
    RevokedCertificate,
    SigningCertificate,
    TrustedAuthority,
    TrustedCertificate,
    TrustedList,
)
from core.roles import Role, require_role
from core.services import audit_record

ROOT = "АккредитованныеУдостоверяющиеЦентры"


@dataclass(frozen=True)
class LoadReport:
    trusted_list: TrustedList | None
    authorities: int
    certificates: int
    revocation_lists: int
    revoked: int


def _text(element: Element | None, path: str) -> str:
    found = element.find(path) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _moment(value: str) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value) or parse_datetime(f"{value[:10]}T00:00:00")
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _statuses(centre: Element) -> list[dict[str, str]]:
    """The accreditation's status history, oldest first: the current status and, where the list
    gives them, the earlier ones (ИсторияСтатусовАккредитации)."""
    entries = [centre.find("СтатусАккредитации"), *centre.findall("ИсторияСтатусовАккредитации/СтатусАккредитации")]
    statuses = {
        (_text(entry, "ДействуетС")[:10], _text(entry, "Статус"))
        for entry in entries
        if entry is not None and _text(entry, "Статус") and _text(entry, "ДействуетС")
    }
    return [{"from": since, "status": status} for since, status in sorted(statuses)]


def _parse(xml: bytes) -> Element:
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml refuses entities and bombs with its own errors
        raise DomainError(_("Файл перечня не является корректным XML."), code="trusted_list_xml") from exc
    if root.tag != ROOT:
        raise DomainError(
            _("Файл не является перечнем аккредитованных удостоверяющих центров (корневой элемент %(tag)s).")
            % {"tag": root.tag[:100]},
            code="trusted_list_xml",
        )
    return root


def _require_loader(by: User | None) -> None:
    if by is not None:
        require_role(
            by,
            Role.CERTIFICATE_OFFICER,
            message=_("Перечни удостоверяющих центров и списки отзыва загружает специалист по сертификатам и реестру."),
        )


def trusted_list_load(*, xml: bytes, crls: list[bytes], by: User | None) -> LoadReport:
    """Load a version of the trusted list with the revocation lists of its authorities. The same
    file loaded twice is one version; a revocation list must verify under a certificate of the list.
    Staff load it as the certificate officer (``by`` None: the command line)."""
    _require_loader(by)
    root = _parse(xml)
    sha256 = hashlib.sha256(xml).hexdigest()
    version_text = _text(root, "Версия")
    if not version_text.isdigit():
        raise DomainError(_("В перечне не указана версия."), code="trusted_list_xml")
    with transaction.atomic(durable=True):
        existing = TrustedList.objects.filter(sha256=sha256).first()
        trusted_list = existing
        authorities = certificates = 0
        if existing is None:
            trusted_list = TrustedList(version=int(version_text), issued_at=_moment(_text(root, "Дата")), sha256=sha256)
            trusted_list.loaded_by = by
            file_store(file=trusted_list.file, name=f"tsl-{version_text}.xml", content=xml)
            try:
                with transaction.atomic():
                    trusted_list.save()
            except IntegrityError:  # the same file loaded at the same moment by someone else
                trusted_list = TrustedList.objects.get(sha256=sha256)
            else:
                authorities, certificates = _authorities(root, trusted_list)
                audit_record(
                    case=trusted_list,
                    actor=by,
                    verb="trusted_list_load",
                    action="event",
                    data={"version": trusted_list.version, "sha256": sha256, "authorities": authorities},
                )
        loaded = [revocation_list_load(data=crl, by=by) for crl in crls]
    return LoadReport(
        trusted_list=trusted_list,
        authorities=authorities,
        certificates=certificates,
        revocation_lists=len(loaded),
        revoked=sum(item.entries.count() for item in loaded),
    )


def _authorities(root: Element, trusted_list: TrustedList) -> tuple[int, int]:
    authorities = certificates = 0
    for centre in root.findall("УдостоверяющийЦентр"):
        authority = TrustedAuthority.objects.create(
            trusted_list=trusted_list,
            name=_text(centre, "Название")[:1000],
            short_name=_text(centre, "КраткоеНазвание")[:500],
            ogrn=_text(centre, "ОГРН")[:20],
            statuses=_statuses(centre),
        )
        authorities += 1
        path = "ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс/КлючиУполномоченныхЛиц/Ключ/Сертификаты/ДанныеСертификата"
        rows = []
        for item in centre.findall(path):
            try:
                info = certificate_info(_text(item, "Данные").encode())
            except FormatError as exc:
                raise DomainError(
                    _("Сертификат удостоверяющего центра «%(ca)s» в перечне повреждён.") % {"ca": authority},
                    code="trusted_list_certificate",
                ) from exc
            rows.append(
                TrustedCertificate(
                    authority=authority,
                    der=info.der,
                    sha1=info.sha1,
                    subject=info.subject[:1000],
                    subject_hash=info.subject_hash,
                    key_id=info.key_id,
                    serial=info.serial,
                    not_before=info.not_before,
                    not_after=info.not_after,
                )
            )
        TrustedCertificate.objects.bulk_create(rows)
        certificates += len(rows)
    return authorities, certificates


def revocation_list_load(*, data: bytes, by: User | None) -> RevocationList:
    """Load a revocation list of an accredited authority: it must verify under one of the
    authority's certificates in a loaded trusted list. Loading the same list again changes nothing."""
    _require_loader(by)
    info = crl_load(data)
    sha256 = hashlib.sha256(info.der).hexdigest()
    issuers = TrustedCertificate.objects.filter(subject_hash=info.issuer_hash).order_by("-pk")
    if info.authority_key_id:
        issuers = issuers.filter(key_id__in=[info.authority_key_id, ""])
    issuer = next((row for row in issuers if openssl.crl_issued_by(crl=info.der, issuer=bytes(row.der))), None)
    if issuer is None:
        raise DomainError(
            _("Список отзыва «%(issuer)s» не подписан ни одним удостоверяющим центром из загруженных перечней.")
            % {"issuer": info.issuer[:200]},
            code="revocation_list_issuer",
        )
    with transaction.atomic():
        crl, created = RevocationList.objects.get_or_create(
            sha256=sha256,
            defaults={
                "issuer": issuer,
                "issuer_hash": info.issuer_hash,
                "authority_key_id": info.authority_key_id,
                "number": info.number,
                "this_update": info.this_update,
                "next_update": info.next_update,
                "loaded_by": by,
            },
        )
        if created:
            RevokedCertificate.objects.bulk_create(
                [RevokedCertificate(revocation_list=crl, serial=serial, revoked_at=at) for serial, at in info.revoked],
                batch_size=5000,
            )
            audit_record(
                case=crl,
                actor=by,
                verb="revocation_list_load",
                action="event",
                data={"sha256": sha256, "issuer": info.issuer[:200], "revoked": len(info.revoked)},
            )
    return crl


def signing_certificate_add(
    *, user: User, certificate: bytes, key_file: str, key_password_variable: str = ""
) -> SigningCertificate:
    """Configure an official's certificate and key file (the embedded signer, core.qes.signer): the
    key must sign what the certificate verifies; the previous certificate of the official is retired."""
    from core.qes.signer import KeyFileSigner

    info = certificate_info(certificate)
    row = SigningCertificate(
        user=user,
        der=info.der,
        serial=info.serial,
        owner=info.owner[:500],
        issuer=info.issuer[:1000],
        not_before=info.not_before,
        not_after=info.not_after,
        key_file=key_file,
        key_password_variable=key_password_variable,
    )
    probe = b"signing key check"
    try:
        signature = KeyFileSigner(row).sign(probe)
    except OSError as exc:
        raise DomainError(_("Файл ключа не найден: %(file)s.") % {"file": key_file}, code="signing_key") from exc
    except openssl.OpenSSLUnavailable:
        signature = b""
    if not signature or not openssl.cms_content_verifies(signature=signature, content=probe, signer=info.der):
        raise DomainError(_("Ключ не соответствует сертификату или не открывается."), code="signing_key")
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        SigningCertificate.objects.filter(user=user, active=True).update(active=False)
        row.save()
        audit_record(
            case=user,
            actor=None,
            verb="signing_certificate_add",
            action="event",
            data={"serial": info.serial, "valid_to": info.not_after.isoformat()},
        )
    return row


def expiring_soon(*, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """What expires within QES_EXPIRY_WARNING_DAYS (seed 000: an expired authority stopped FGIS
    SOUT): (kind, name, expiry) for the officials' certificates in use, the certificates of the
    accredited authorities in the newest trusted list, and the registry's signing key (the day it
    must be replaced by, REGISTRY_SIGNING_KEY_EXPIRES: an Ed25519 key has no expiry of its own)."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.QES_EXPIRY_WARNING_DAYS)
    found: list[tuple[str, str, datetime]] = []
    for row in SigningCertificate.objects.filter(active=True, not_after__lte=horizon).select_related("user"):
        found.append((_("Сертификат должностного лица"), f"{row.owner} ({row.serial})", row.not_after))
    newest = TrustedList.objects.order_by("-version", "-loaded_at").first()
    if newest is not None:
        for cert in TrustedCertificate.objects.filter(
            authority__trusted_list=newest, not_after__lte=horizon, not_after__gte=now
        ):
            found.append((_("Сертификат удостоверяющего центра"), cert.subject, cert.not_after))
    if settings.REGISTRY_SIGNING_KEY_EXPIRES is not None:
        expires = timezone.make_aware(datetime.combine(settings.REGISTRY_SIGNING_KEY_EXPIRES, time.min))
        if expires <= horizon:
            found.append((_("Ключ подписи записей реестра"), _("срок смены ключа"), expires))
    return sorted(found, key=lambda item: item[2])
