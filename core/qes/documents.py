"""The one path by which a document the ministry issues is signed with its official's qualified
signature (issue 12; p.49-50, 59, 61, 95): the PDF is rendered with the visible stamp «Документ
подписан электронной подписью» (the certificate's serial number, owner and validity: the shared
include core/pdf/qes_stamp.html), its bytes are signed by the official's signer (core.qes.signer:
a detached CAdES-BES signature, GOST by default), and the procedure stores the PDF and records the
signature (``document_record``, a SignedDocument) in the same transaction.

An official without a configured certificate: with QES_SIGNING_REQUIRED the signing action is refused
(``signing_refusal``, which the procedures' checks and their ``*_can_*`` predicates both call);
otherwise the document is issued unsigned, with no stamp, as before signatures existed.

Whoever holds a PDF may fetch its signature by the PDF's digest (``signed_document_for``: the public
``/documents/<sha256>.sig``); an e-mail carrying a signed PDF attaches its .sig (core.dispatch)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.models import User
from core.qes.cms import CertificateInfo
from core.qes.models import SignedDocument, SigningCertificate
from core.qes.signer import signer_for


@dataclass(frozen=True)
class Stamp:
    """What the visible stamp of a signed document says about the signing certificate."""

    serial: str
    owner: str
    valid_from: date
    valid_to: date


def stamp_of(certificate: CertificateInfo) -> Stamp:
    return Stamp(
        serial=certificate.serial,
        owner=certificate.owner,
        valid_from=timezone.localtime(certificate.not_before).date(),
        valid_to=timezone.localtime(certificate.not_after).date(),
    )


@dataclass(frozen=True)
class IssuedPdf:
    """A rendered document: its bytes and, when its official signed it, the detached signature."""

    content: bytes
    official: User | None
    signature: bytes | None = None
    certificate: CertificateInfo | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def signing_refusal(official: User | None) -> None:
    """With QES_SIGNING_REQUIRED, an official without a configured qualified certificate cannot
    sign: the procedures' checks call this before the signing action, and so do their predicates."""
    if not settings.QES_SIGNING_REQUIRED:
        return
    if official is None or signer_for(official) is None:
        raise DomainError(
            _(
                "Документ подписывается квалифицированной электронной подписью, а сертификат ключа подписи "
                "не настроен (должностное лицо: %(name)s). Обратитесь к администратору."
            )
            % {"name": official.full_name if official is not None else "—"},
            code="no_signing_certificate",
            status=409,
        )


def signing_allowed(official: User | None) -> bool:
    """Whether signing_refusal lets the official sign."""
    try:
        signing_refusal(official)
    except DomainError:
        return False
    return True


def document_sign(*, official: User | None, render: Callable[[Stamp | None], bytes]) -> IssuedPdf:
    """Render the document with the stamp of ``official``'s certificate and sign its bytes; without
    a certificate, render it without a stamp (or refuse: signing_refusal). Runs before the caller's
    transaction or inside it; nothing is stored here."""
    signer = signer_for(official) if official is not None else None
    if signer is None:
        signing_refusal(official)
        return IssuedPdf(content=render(None), official=official)
    content = render(stamp_of(signer.certificate))
    return IssuedPdf(content=content, official=official, signature=signer.sign(content), certificate=signer.certificate)


def document_record(*, issued: IssuedPdf, file_name: str, title: str) -> SignedDocument | None:
    """Record the signature of a document just stored under ``file_name`` ("" for a copy that is
    sent, not stored: the notice e-mailed with its password), inside the caller's transaction.
    Nothing for an unsigned document."""
    if issued.signature is None or issued.certificate is None or issued.official is None:
        return None
    rows = SigningCertificate.objects.filter(user=issued.official)
    row = rows.filter(serial=issued.certificate.serial).first() or rows.filter(active=True).first()
    if row is None:  # a signer configured outside the product's list of certificates
        raise DomainError(_("Сертификат ключа подписи должностного лица не найден."), code="no_signing_certificate")
    try:
        with transaction.atomic():
            return SignedDocument.objects.create(
                sha256=issued.sha256,
                file_name=file_name[:200],
                title=title[:500],
                signature=issued.signature,
                certificate=row,
                signed_by=issued.official,
                signed_at=timezone.now(),
            )
    except IntegrityError:  # the very same bytes signed before (a retry)
        return SignedDocument.objects.get(sha256=issued.sha256)


def signed_document_for(sha256: str) -> SignedDocument | None:
    """The signed document whose PDF has this digest (lowercase hex), or None."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    return SignedDocument.objects.filter(sha256=sha256).first()


def signed_document_of_file(file: FieldFile | None) -> SignedDocument | None:
    """The signature of a stored PDF, by its storage name."""
    if not file:
        return None
    return SignedDocument.objects.filter(file_name=file.name).order_by("-signed_at").first()


def signature_of_content(content: bytes) -> SignedDocument | None:
    """The signature of exactly these bytes (what an e-mail attaches beside them)."""
    return SignedDocument.objects.filter(sha256=hashlib.sha256(content).hexdigest()).first()
