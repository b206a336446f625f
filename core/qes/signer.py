"""Signing the ministry's documents with an official's qualified signature: one interface,
DocumentSigner, obtained for an official by the factory the QES_SIGNER setting names. The embedded
implementation, KeyFileSigner, keeps the private key in a file (PEM, or PKCS#12 with its password in
an environment variable) and signs with OpenSSL's GOST engine; in production a hardware token or a
certified crypto provider implements the same interface (a factory returning an object with
``certificate`` and ``sign``), and nothing else in the product changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.models import User
from core.qes import openssl
from core.qes.cms import CertificateInfo, certificate_info
from core.qes.models import SigningCertificate

DIGESTS = {  # the certificate's key algorithm -> the digest OpenSSL signs with
    "1.2.643.7.1.1.1.1": "md_gost12_256",
    "1.2.643.7.1.1.1.2": "md_gost12_512",
}


class DocumentSigner(Protocol):
    certificate: CertificateInfo

    def sign(self, content: bytes) -> bytes:
        """A detached CAdES-BES signature (DER) of ``content``."""
        ...


class KeyFileSigner:
    def __init__(self, row: SigningCertificate) -> None:
        self.row = row
        self.certificate = certificate_info(bytes(row.der))

    def _key(self) -> bytes:
        path = Path(self.row.key_file)
        data = path.read_bytes()
        if path.suffix.lower() not in {".p12", ".pfx"}:
            return data
        password = os.environ.get(self.row.key_password_variable, "") if self.row.key_password_variable else ""
        code, pem_key = openssl.run(
            ["pkcs12", "-in", "@p12", "-nocerts", "-nodes", "-passin", "stdin", "-out", "@out"],
            {"p12": data},
            stdin=password.encode(),
        )
        if code != 0 or not pem_key:
            raise openssl.OpenSSLUnavailable(f"cannot open the PKCS#12 key of {self.row}")
        return pem_key

    def sign(self, content: bytes) -> bytes:
        digest = DIGESTS.get(self.certificate.key_algorithm, "sha256")
        return openssl.cms_sign(content=content, certificate=self.certificate.der, key=self._key(), digest=digest)


def key_file_signer(user: User) -> DocumentSigner | None:
    row = SigningCertificate.objects.filter(user=user, active=True).first()
    return KeyFileSigner(row) if row is not None else None


def signer_for(user: User) -> DocumentSigner | None:
    """The official's signer, or None when no certificate of theirs is configured."""
    factory = import_string(settings.QES_SIGNER)
    signer: DocumentSigner | None = factory(user)
    return signer
