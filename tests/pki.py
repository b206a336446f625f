"""A test public-key infrastructure made by OpenSSL with Debian's GOST engine, so that every
signature the tests verify was made by software we did not write: a head certification authority,
an accredited authority under it (in the trusted list), an authority whose accreditation ended
before it issued, an authority missing from the list, and signers: valid GOST R 34.10-2012 (256 and
512 bits), RSA and ECDSA, a revoked one, an expired one and one whose key usage forbids signing;
with a revocation list and a trusted list in the XML format of the Ministry of Digital Development.

Built once per test session into a temporary folder (``Pki.build``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from core.qes.pki import Party, Pki, person

__all__ = ["Party", "Pki", "TestPki", "build", "person"]

SNILS = "11223344595"
LAST_NAME, FIRST_NAME, PATRONYMIC = "Алексеева", "Алиса", "Петровна"  # alice of tests/conftest.py


@dataclass
class TestPki:
    """The parties the tests use, and the trusted list and revocation list to load."""

    folder: Path
    head: Party
    accredited: Party
    terminated: Party
    unlisted: Party
    signer: Party  # the candidate Алексеева Алиса Петровна (alice), GOST 256
    signer512: Party
    signer_rsa: Party
    signer_ecdsa: Party
    stranger: Party  # a valid certificate of somebody else
    revoked: Party
    expired: Party
    encipher_only: Party
    from_terminated: Party
    from_unlisted: Party
    official: Party  # a ministry official's certificate for outbound signing
    trusted_list_xml: bytes
    crl: bytes


def build(folder: Path) -> TestPki:
    pki = Pki(folder)
    head = pki.root("head-ca")
    term = {"extensions": "authority", "start": pki.now - timedelta(days=1000), "end": pki.now + timedelta(days=3650)}
    accredited = pki.issue(head, "accredited-ca", subject="/CN=Аккредитованный УЦ/O=УЦ", **term)  # type: ignore[arg-type]
    terminated = pki.issue(head, "terminated-ca", subject="/CN=УЦ с прекращённой аккредитацией/O=УЦ", **term)  # type: ignore[arg-type]
    unlisted = pki.root("unlisted-ca")
    candidate = person(LAST_NAME, FIRST_NAME, PATRONYMIC, SNILS)
    parties = {
        "signer": pki.issue(accredited, "signer", subject=candidate),
        "signer512": pki.issue(accredited, "signer512", subject=candidate, algorithm="gost512"),
        "signer_rsa": pki.issue(accredited, "signer-rsa", subject=candidate, algorithm="rsa"),
        "signer_ecdsa": pki.issue(accredited, "signer-ecdsa", subject=candidate, algorithm="ecdsa"),
        "stranger": pki.issue(accredited, "stranger", subject=person("Петров", "Пётр", "Петрович", "12345678964")),
        "revoked": pki.issue(accredited, "revoked", subject=candidate),
        "expired": pki.issue(
            accredited,
            "expired",
            subject=candidate,
            start=pki.now - timedelta(days=400),
            end=pki.now - timedelta(days=30),
        ),
        "encipher_only": pki.issue(accredited, "encipher-only", subject=candidate, extensions="encipher_only"),
        "from_terminated": pki.issue(terminated, "from-terminated", subject=candidate),
        "from_unlisted": pki.issue(unlisted, "from-unlisted", subject=candidate),
        "official": pki.issue(accredited, "official", subject=person("Сергеев", "Сергей", "Сергеевич", "11111111145")),
    }
    pki.revoke(accredited, parties["revoked"])
    since_ended = (pki.now - timedelta(days=10)).date().isoformat()
    xml = pki.trusted_list(
        [
            ("Аккредитованный УЦ", accredited, [("Действует", "2020-01-01")]),
            ("УЦ с прекращённой аккредитацией", terminated, [("Действует", "2020-01-01"), ("Прекращена", since_ended)]),
        ]
    )
    return TestPki(
        folder=folder,
        head=head,
        accredited=accredited,
        terminated=terminated,
        unlisted=unlisted,
        trusted_list_xml=xml,
        crl=pki.crl(accredited),
        **parties,
    )
