"""PDF documents of the registry app: the decision on attestation and the expert certificate in the
form of Order 32n, with a QR code that opens the certificate's verification page and carries the
signed record for offline checking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import segno
from django.utils import timezone

from core.canonical import canonical_json
from core.letters import LetterPrint, addressee_of
from core.pdf import render_pdf
from core.qes.documents import Stamp
from core.site import absolute_url, site_url
from registry import signing
from registry.models import AttestationDecision, Certificate, CertificateEdition
from registry.selectors import certificate_record


def decision_print(*, decision: AttestationDecision) -> LetterPrint:
    """The decision as first signed: the application's particulars, its outgoing number and signature."""
    return LetterPrint(
        addressee=addressee_of(decision.application),
        outgoing_number=decision.outgoing_number,
        issued_at=decision.signed_at or timezone.now(),
        signer=decision.signed_by,
        signed_at=decision.signed_at,
    )


def render_decision_pdf(
    *, decision: AttestationDecision, letter: LetterPrint | None = None, stamp: Stamp | None = None
) -> bytes:
    """The decision on attestation (p.59, p.64); ``letter``: a corrected edition, or one marked as
    replaced (core.letters); ``stamp``: its qualified signature's."""
    return render_pdf(
        "registry/pdf/decision.html",
        {
            "decision": decision,
            "application": decision.application,
            "letter": letter or decision_print(decision=decision),
            "qes_stamp": stamp,
        },
    )


def qr_url(certificate: Certificate) -> str:
    """The QR target: the public verification page, with the signed record in the query so that a
    verifier app can check it offline against the published key."""
    record = certificate_record(certificate)
    payload = signing.b64encode(canonical_json(record))
    query = urlencode({"d": payload, "s": certificate.signature, "k": certificate.key_id})
    return f"{site_url()}{certificate.public_url()}?{query}"


def render_certificate_pdf(
    *, certificate: Certificate, edition: CertificateEdition | None = None, stamp: Stamp | None = None
) -> bytes:
    """The certificate as it stands; a corrected edition or a duplicate is marked as such; ``stamp``:
    the qualified signature's of the officer who issued the edition."""
    url = qr_url(certificate)
    return render_pdf(
        "registry/pdf/certificate.html",
        {
            "certificate": certificate,
            "edition": edition if edition is not None and edition.kind != CertificateEdition.Kind.ORIGINAL else None,
            "areas": [a for a in certificate.areas_text.split("; ") if a],
            "qr": segno.make(url, error="m").svg_data_uri(scale=2, border=2),
            "verify_url": absolute_url(certificate.public_url()),
            "qes_stamp": stamp,
        },
    )


@dataclass(frozen=True)
class PrintedCertificate:
    """A certificate as an edition printed it (the fixed fields of its record)."""

    number: str
    full_name: str
    issued_on: date
    expires_on: date
    key_id: str = ""


def render_replaced_edition_pdf(*, edition: CertificateEdition, successor: CertificateEdition) -> bytes:
    """A replaced edition as it was printed, stamped «заменён» with the edition that replaced it;
    without the QR code, whose data the registry no longer holds as current."""
    record = edition.record
    printed = PrintedCertificate(
        number=str(record["number"]),
        full_name=str(record["name"]),
        issued_on=date.fromisoformat(str(record["issued_on"])),
        expires_on=date.fromisoformat(str(record["expires_on"])),
    )
    return render_pdf(
        "registry/pdf/certificate.html",
        {
            "certificate": printed,
            "areas": list(record.get("areas") or []),
            "edition": edition if edition.kind != CertificateEdition.Kind.ORIGINAL else None,
            "replaced_by": successor,
            "qr": None,
            "verify_url": absolute_url(edition.certificate.public_url()),
        },
    )
