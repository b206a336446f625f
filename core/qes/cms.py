"""Reading signatures, certificates and revocation lists (asn1crypto): what they say, never whether
they are true (that is core.qes.openssl). A file that is not what it claims raises FormatError with
a message for people."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import cms, core, crl, pem, x509
from django.utils.translation import gettext as _

from core.errors import DomainError

OID_SNILS = "1.2.643.100.3"
OID_INN = "1.2.643.3.131.1.1"
OID_SURNAME = "2.5.4.4"
OID_GIVEN_NAME = "2.5.4.42"
OID_COMMON_NAME = "2.5.4.3"
OID_TITLE = "2.5.4.12"
OID_ORGANIZATION = "2.5.4.10"

# The algorithms a qualified signature may use (GOST R 34.10-2012 and 34.11-2012; RSA and ECDSA for
# foreign signers); GOST R 34.10-2001 is no longer allowed for signing (since 2019).
SIGNATURE_ALGORITHMS = {
    "1.2.643.7.1.1.1.1": "ГОСТ Р 34.10-2012 (256 бит)",
    "1.2.643.7.1.1.3.2": "ГОСТ Р 34.10-2012 (256 бит)",
    "1.2.643.7.1.1.1.2": "ГОСТ Р 34.10-2012 (512 бит)",
    "1.2.643.7.1.1.3.3": "ГОСТ Р 34.10-2012 (512 бит)",
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.11": "RSA",
    "1.2.840.113549.1.1.12": "RSA",
    "1.2.840.113549.1.1.13": "RSA",
    "1.2.840.113549.1.1.10": "RSA-PSS",
    "1.2.840.10045.2.1": "ECDSA",
    "1.2.840.10045.4.3.2": "ECDSA",
    "1.2.840.10045.4.3.3": "ECDSA",
    "1.2.840.10045.4.3.4": "ECDSA",
}
DIGEST_ALGORITHMS = {
    "1.2.643.7.1.1.2.2": "ГОСТ Р 34.11-2012 (256 бит)",
    "1.2.643.7.1.1.2.3": "ГОСТ Р 34.11-2012 (512 бит)",
    "2.16.840.1.101.3.4.2.1": "SHA-256",
    "2.16.840.1.101.3.4.2.2": "SHA-384",
    "2.16.840.1.101.3.4.2.3": "SHA-512",
}


class FormatError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="signature_format", status=400)


@dataclass(frozen=True)
class CertificateInfo:
    """What a certificate says about its owner, its issuer, its term and its limits."""

    der: bytes
    subject: str
    issuer: str
    owner: str  # surname and given names (order 795 of the FSB), else the common name
    snils: str
    title: str
    organization: str
    serial: str  # hexadecimal, as certificate viewers show it
    not_before: datetime
    not_after: datetime
    subject_hash: str  # sha256 of the subject name's DER: what an issued certificate's issuer matches
    issuer_hash: str
    key_id: str  # subject key identifier (hex), "" if none
    authority_key_id: str
    key_usage: frozenset[str]
    extended_key_usage: frozenset[str] | None  # None: no limit stated
    policies: frozenset[str]
    is_ca: bool
    sha1: str  # the thumbprint the trusted list gives
    key_algorithm: str  # OID of the public key's algorithm

    @property
    def validity(self) -> tuple[datetime, datetime]:
        return self.not_before, self.not_after


@dataclass(frozen=True)
class SignatureInfo:
    der: bytes
    signer: CertificateInfo
    signature_algorithm: str  # OID
    digest_algorithm: str  # OID
    signing_time: datetime | None  # claimed by the signer (signed attribute), for information
    certificates: list[CertificateInfo] = field(default_factory=list)

    @property
    def algorithm_label(self) -> str:
        return ", ".join(
            label
            for label in (
                SIGNATURE_ALGORITHMS.get(self.signature_algorithm, self.signature_algorithm),
                DIGEST_ALGORITHMS.get(self.digest_algorithm, self.digest_algorithm),
            )
        )


@dataclass(frozen=True)
class CrlInfo:
    der: bytes
    issuer: str
    issuer_hash: str
    authority_key_id: str
    this_update: datetime
    next_update: datetime | None
    number: int | None
    revoked: list[tuple[str, datetime]]


def _der(data: bytes, *, kinds: tuple[str, ...]) -> bytes:
    """DER from DER, PEM (any of ``kinds``) or bare Base64, as signing tools save them."""
    if data[:1] == b"\x30":  # DER: never stripped, its last bytes may look like white space
        return data
    data = data.strip()
    if pem.detect(data):
        try:
            kind, _headers, der = pem.unarmor(data)
        except ValueError as exc:
            raise FormatError(_("Файл повреждён: не удалось прочитать PEM.")) from exc
        if kind not in kinds:
            raise FormatError(_("Файл содержит не тот вид данных."))
        return bytes(der)
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FormatError(_("Файл не является подписью или сертификатом в формате DER, PEM или Base64.")) from exc


def _serial(number: int) -> str:
    """A serial number in hexadecimal, as certificate viewers and revocation lists show it."""
    return f"{number:X}".rjust(2, "0")


def _name_hash(name: x509.Name) -> str:
    return hashlib.sha256(name.dump()).hexdigest()


def _attribute(name: x509.Name, oid: str) -> str:
    for rdn in name.chosen:
        for pair in rdn:
            if pair["type"].dotted == oid:
                value = pair["value"].native
                return str(value).strip() if value is not None else ""
    return ""


def certificate_info(data: bytes) -> CertificateInfo:
    der = _der(data, kinds=("CERTIFICATE",))
    try:
        cert = x509.Certificate.load(der)
        tbs = cert["tbs_certificate"]
        subject, issuer = tbs["subject"], tbs["issuer"]
        owner = " ".join(
            part for part in (_attribute(subject, OID_SURNAME), _attribute(subject, OID_GIVEN_NAME)) if part
        ) or _attribute(subject, OID_COMMON_NAME)
        key_usage = cert.key_usage_value
        eku = cert.extended_key_usage_value
        policies = cert.certificate_policies_value
        basic = cert.basic_constraints_value
        return CertificateInfo(
            der=der,
            subject=subject.human_friendly,
            issuer=issuer.human_friendly,
            owner=owner,
            snils="".join(ch for ch in _attribute(subject, OID_SNILS) if ch.isdigit()),
            title=_attribute(subject, OID_TITLE),
            organization=_attribute(subject, OID_ORGANIZATION),
            serial=_serial(cert.serial_number),
            not_before=cert.not_valid_before,
            not_after=cert.not_valid_after,
            subject_hash=_name_hash(subject),
            issuer_hash=_name_hash(issuer),
            key_id=cert.key_identifier.hex() if cert.key_identifier else "",
            authority_key_id=cert.authority_key_identifier.hex() if cert.authority_key_identifier else "",
            key_usage=frozenset(key_usage.native) if key_usage is not None else frozenset(),
            extended_key_usage=frozenset(item.dotted for item in eku) if eku is not None else None,
            policies=frozenset(p["policy_identifier"].dotted for p in policies)
            if policies is not None
            else frozenset(),
            is_ca=bool(basic is not None and basic["ca"].native),
            sha1=hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),  # the list's thumbprint
            key_algorithm=_key_algorithm(tbs),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise FormatError(_("Файл повреждён: не удалось прочитать сертификат.")) from exc


def _key_algorithm(tbs: x509.TbsCertificate) -> str:
    # Read generically: asn1crypto has no GOST public key types and fails on their parameters.
    info = core.Sequence.load(tbs["subject_public_key_info"].dump())
    algorithm = core.Sequence.load(info[0].dump())
    return str(core.ObjectIdentifier.load(algorithm[0].dump()).dotted)


def covers(*, this_update: datetime, next_update: datetime | None, moment: datetime) -> bool:
    """A revocation list tells whether a certificate was revoked at ``moment``: it was issued after
    that moment, or was in force at it."""
    return this_update >= moment or (next_update is not None and moment <= next_update)


def signature_load(data: bytes) -> SignatureInfo:
    """A detached CMS signature (CAdES-BES) with one signer and the signer's certificate inside."""
    der = _der(data, kinds=("CMS", "PKCS7", "SIGNED DATA"))
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise FormatError(_("Файл не является электронной подписью (CMS SignedData)."))
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise FormatError(_("Подпись должна быть открепленной: файл подписи не должен содержать сам документ."))
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise FormatError(_("Файл должен содержать ровно одну подпись."))
        signer_info = signers[0]
        certificates = [certificate_info(c.chosen.dump()) for c in signed["certificates"] if c.name == "certificate"]
        sid = signer_info["sid"]
        signer = next((c for c in certificates if _identifies(sid, c)), None)
        if signer is None:
            raise FormatError(_("В файле подписи нет сертификата подписавшего лица."))
        signing_time = None
        for attribute in signer_info["signed_attrs"]:
            if attribute["type"].native == "signing_time":
                signing_time = attribute["values"][0].native
        return SignatureInfo(
            der=der,
            signer=signer,
            signature_algorithm=signer_info["signature_algorithm"]["algorithm"].dotted,
            digest_algorithm=signer_info["digest_algorithm"]["algorithm"].dotted,
            signing_time=signing_time,
            certificates=certificates,
        )
    except FormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise FormatError(_("Файл повреждён: не удалось прочитать электронную подпись.")) from exc


def _identifies(sid: cms.SignerIdentifier, certificate: CertificateInfo) -> bool:
    if sid.name == "subject_key_identifier":
        return bool(sid.chosen.native.hex() == certificate.key_id)
    issuer_serial = sid.chosen
    return bool(
        _name_hash(issuer_serial["issuer"]) == certificate.issuer_hash
        and _serial(issuer_serial["serial_number"].native) == certificate.serial
    )


def crl_load(data: bytes) -> CrlInfo:
    der = _der(data, kinds=("X509 CRL",))
    try:
        loaded = crl.CertificateList.load(der)
        tbs = loaded["tbs_cert_list"]
        next_update = tbs["next_update"].native
        revoked = [
            (_serial(entry["user_certificate"].native), entry["revocation_date"].native)
            for entry in (tbs["revoked_certificates"] or [])
        ]
        aki = loaded.authority_key_identifier
        return CrlInfo(
            der=der,
            issuer=tbs["issuer"].human_friendly,
            issuer_hash=_name_hash(tbs["issuer"]),
            authority_key_id=aki.hex() if aki else "",
            this_update=tbs["this_update"].native,
            next_update=next_update,
            number=loaded.crl_number_value.native if loaded.crl_number_value is not None else None,
            revoked=revoked,
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise FormatError(_("Файл повреждён: не удалось прочитать список отзыва сертификатов.")) from exc
