"""Whom a qualified certificate may come from, and whether it was revoked: the trusted list and the
revocation lists staff loaded (TrustedListTrust), or, for checks by hand, the certificates and lists
named on the command line (GivenTrust, ``manage.py signature_verify --trust``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from core.qes.cms import CertificateInfo, CrlInfo, covers
from core.qes.models import RevocationList, RevokedCertificate, TrustedCertificate


@dataclass(frozen=True)
class Anchor:
    """A certificate of an accredited authority that may have issued the signer's certificate."""

    certificate: CertificateInfo
    authority: str
    accredited_on: Callable[[date], bool]


@dataclass(frozen=True)
class Revocation:
    covered: bool  # a revocation list of the issuer speaks for the moment asked about
    revoked_at: datetime | None


class Trust(Protocol):
    def anchors(self, certificate: CertificateInfo) -> list[Anchor]:
        """The listed certificates whose subject is ``certificate``'s issuer (newest list first)."""
        ...

    def revocation(self, certificate: CertificateInfo, *, issuer: Anchor, at: datetime) -> Revocation: ...


def _key_matches(certificate: CertificateInfo, issuer: CertificateInfo) -> bool:
    return not (certificate.authority_key_id and issuer.key_id) or certificate.authority_key_id == issuer.key_id


class TrustedListTrust:
    """The loaded trusted lists. An authority's accreditation on a day is read from the newest list
    that names the issuing certificate (it carries the history of the status)."""

    def anchors(self, certificate: CertificateInfo) -> list[Anchor]:
        from core.qes.cms import certificate_info

        rows = (
            TrustedCertificate.objects.filter(subject_hash=certificate.issuer_hash)
            .select_related("authority")
            .order_by("-authority__trusted_list__version", "-authority__trusted_list__loaded_at")
        )
        seen: set[str] = set()
        anchors = []
        for row in rows:
            if row.sha1 in seen:
                continue
            seen.add(row.sha1)
            info = certificate_info(bytes(row.der))
            if _key_matches(certificate, info):
                anchors.append(Anchor(info, str(row.authority), row.authority.accredited_on))
        return anchors

    def revocation(self, certificate: CertificateInfo, *, issuer: Anchor, at: datetime) -> Revocation:
        lists = RevocationList.objects.filter(issuer__sha1=issuer.certificate.sha1)
        covered = any(crl.covers(at) for crl in lists)
        entry = (
            RevokedCertificate.objects.filter(revocation_list__in=lists, serial=certificate.serial)
            .order_by("revoked_at")
            .first()
        )
        return Revocation(covered=covered, revoked_at=entry.revoked_at if entry else None)


class GivenTrust:
    """Certificates given by hand stand in for the trusted list (accredited on every day); the
    revocation lists given with them are the only ones known."""

    def __init__(self, certificates: Iterable[CertificateInfo], crls: Iterable[CrlInfo] = ()) -> None:
        self.certificates = list(certificates)
        self.crls = list(crls)

    def anchors(self, certificate: CertificateInfo) -> list[Anchor]:
        return [
            Anchor(info, info.owner or info.subject, lambda _day: True)
            for info in self.certificates
            if info.subject_hash == certificate.issuer_hash and _key_matches(certificate, info)
        ]

    def revocation(self, certificate: CertificateInfo, *, issuer: Anchor, at: datetime) -> Revocation:
        from core.qes import openssl

        lists = [
            crl
            for crl in self.crls
            if crl.issuer_hash == issuer.certificate.subject_hash
            and openssl.crl_issued_by(crl=crl.der, issuer=issuer.certificate.der)
        ]
        covered = any(covers(this_update=crl.this_update, next_update=crl.next_update, moment=at) for crl in lists)
        dates = [revoked_at for crl in lists for serial, revoked_at in crl.revoked if serial == certificate.serial]
        return Revocation(covered=covered, revoked_at=min(dates) if dates else None)
