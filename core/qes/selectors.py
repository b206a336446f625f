"""Reads of the qualified signatures: the public check of a document brought with its signature,
and what the staff page of the trusted lists shows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.qes import verifier
from core.qes.cms import CertificateInfo
from core.qes.models import SignedDocument, SigningCertificate, TrustedAuthority, TrustedList
from core.qes.services import expiring_soon
from core.qes.trust import TrustedListTrust
from core.uploads import read_upload


@dataclass(frozen=True)
class DocumentCheck:
    """The protocol of a document's signature and, for a document the ministry issued, its record."""

    protocol: verifier.Protocol
    document: SignedDocument | None


def official_check(certificate: CertificateInfo) -> tuple[bool, str]:
    """The signer is an official of the ministry: the certificate is one configured for signing."""
    rows = SigningCertificate.objects.filter(serial=certificate.serial)
    if any(bytes(row.der) == certificate.der for row in rows):
        return True, _("Сертификат «%(owner)s» зарегистрирован в Минтруде России для подписания документов.") % {
            "owner": certificate.owner
        }
    return False, _("Сертификат не зарегистрирован в Минтруде России как сертификат должностного лица.")


def document_signature_check(*, content: bytes, signature: bytes) -> DocumentCheck:
    """Check a document and its detached signature with the one verifier. For a document the ministry
    issued (its record has this content's digest) the moment checked is the recorded moment of
    signing and the protocol says whether the signer is an official; otherwise the moment is now.
    Nothing of what was brought is kept."""
    document = SignedDocument.objects.filter(sha256=hashlib.sha256(content).hexdigest()).first()
    protocol = verifier.verify(
        content=content,
        signature=signature,
        trust=TrustedListTrust(),
        at=document.signed_at if document is not None else None,
        signer=official_check if document is not None else None,
        signer_code=verifier.OFFICIAL,
    )
    return DocumentCheck(protocol=protocol, document=document)


def uploaded_signature_check(*, document: UploadedFile | None, signature: UploadedFile | None) -> DocumentCheck:
    """The public check of a document and its signature as uploaded (the page and the API): both
    files are required, each within its size limit; they are read in memory and never stored."""
    if document is None or signature is None:
        uploads = {"document": document, "signature": signature}
        missing = {name: [_("Выберите файл.")] for name, upload in uploads.items() if upload is None}
        raise DomainError(_("Выберите документ и файл его подписи."), code="required", fields=missing)
    content = read_upload(
        document, name=document.name or "", limit=settings.QES_VERIFY_DOCUMENT_MAX_BYTES, field="document"
    )
    signed = read_upload(
        signature, name=signature.name or "", limit=settings.QES_VERIFY_SIGNATURE_MAX_BYTES, field="signature"
    )
    return document_signature_check(content=content, signature=signed)


@dataclass(frozen=True)
class ExpiryWarning:
    kind: str
    name: str
    expires: datetime
    days: int  # whole days from today to the day of expiry; negative once it has expired


def expiry_warnings(*, now: datetime | None = None) -> list[ExpiryWarning]:
    """What the staff dashboard warns of (services.expiring_soon), with the days left."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    return [
        ExpiryWarning(kind=kind, name=name, expires=at, days=(timezone.localtime(at).date() - today).days)
        for kind, name, at in expiring_soon(now=now)
    ]


def trusted_list_versions() -> QuerySet[TrustedList]:
    return TrustedList.objects.select_related("loaded_by").annotate(authority_count=Count("authorities"))


def trusted_authorities_newest() -> list[TrustedAuthority]:
    """The authorities of the newest loaded list with their certificates."""
    newest = TrustedList.objects.order_by("-version", "-loaded_at").first()
    if newest is None:
        return []
    return list(newest.authorities.prefetch_related("certificates").order_by("name"))


def signing_certificate_list() -> QuerySet[SigningCertificate]:
    return SigningCertificate.objects.select_related("user").order_by("-active", "owner", "-not_after")
