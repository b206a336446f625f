"""A test public-key infrastructure made by OpenSSL with Debian's GOST engine, so that every
signature the tests verify was made by software we did not write: a head certification authority,
an accredited authority under it (in the trusted list), an authority whose accreditation ended
before it issued, an authority missing from the list, and signers: valid GOST R 34.10-2012 (256 and
512 bits), RSA and ECDSA, a revoked one, an expired one and one whose key usage forbids signing;
with a revocation list and a trusted list in the XML format of the Ministry of Digital Development.

Built once per test session into a temporary folder (``Pki.build``)."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from core.qes.openssl import CONFIG

SNILS = "11223344595"
LAST_NAME, FIRST_NAME, PATRONYMIC = "Алексеева", "Алиса", "Петровна"  # alice of tests/conftest.py

EXTENSIONS = """
[ca]
default_ca = ca_default
[ca_default]
database = {folder}/{name}.index
serial = {folder}/{name}.serial
crlnumber = {folder}/{name}.crlnumber
new_certs_dir = {folder}
default_md = {md}
default_crl_days = 30
policy = anything
preserve = yes
unique_subject = no
email_in_dn = no
crl_extensions = crl
[anything]
commonName = optional
surname = optional
givenName = optional
SNILS = optional
organizationName = optional
title = optional
[crl]
authorityKeyIdentifier = keyid:always
[authority]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection,clientAuth
certificatePolicies = 1.2.643.100.113.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[encipher_only]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
certificatePolicies = 1.2.643.100.113.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

KEYS = {
    "gost256": ["-algorithm", "gost2012_256", "-pkeyopt", "paramset:A"],
    "gost512": ["-algorithm", "gost2012_512", "-pkeyopt", "paramset:A"],
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "ecdsa": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
}
DIGESTS = {"gost256": "md_gost12_256", "gost512": "md_gost12_512", "rsa": "sha256", "ecdsa": "sha256"}


def openssl(*args: str | Path, stdin: bytes = b"") -> bytes:
    done = subprocess.run(
        ["openssl", *map(str, args)],
        input=stdin,
        capture_output=True,
        env={"OPENSSL_CONF": str(CONFIG), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%SZ")


@dataclass
class Party:
    name: str
    folder: Path
    algorithm: str = "gost256"

    @property
    def key(self) -> Path:
        return self.folder / f"{self.name}.key"

    @property
    def cert(self) -> Path:
        return self.folder / f"{self.name}.pem"

    @property
    def der(self) -> bytes:
        return openssl("x509", "-in", self.cert, "-outform", "DER")

    @property
    def pem(self) -> bytes:
        return self.cert.read_bytes()

    def sign(self, content: bytes, *, pem: bool = False) -> bytes:
        """A detached CAdES-BES signature of ``content``, DER (or PEM), as a signing tool makes it."""
        source = self.folder / f"content-{self.name}"
        source.write_bytes(content)
        return openssl(
            "cms", "-sign", "-binary", "-cades", "-md", DIGESTS[self.algorithm], "-in", source,
            "-signer", self.cert, "-inkey", self.key, "-outform", "PEM" if pem else "DER",
        )  # fmt: skip


class Pki:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.now = datetime.utcnow().replace(microsecond=0)

    def _config(self, name: str, md: str) -> Path:
        path = self.folder / f"{name}.cnf"
        if not path.exists():
            path.write_text(EXTENSIONS.format(folder=self.folder, name=name, md=md))
            (self.folder / f"{name}.index").write_text("")
            (self.folder / f"{name}.serial").write_text(f"{abs(hash((name, self.now))) % 10**12:012X}\n")
            (self.folder / f"{name}.crlnumber").write_text("01\n")
        return path

    def _key(self, party: Party) -> None:
        openssl("genpkey", *KEYS[party.algorithm], "-out", party.key)

    def root(self, name: str) -> Party:
        party = Party(name, self.folder)
        self._key(party)
        config = self._config(name, "md_gost12_256")
        openssl(
            "req", "-new", "-x509", "-utf8", "-key", party.key, "-out", party.cert, "-days", "7300",
            "-subj", f"/CN={name}/O=Тестовый удостоверяющий центр", "-config", config, "-extensions", "authority",
            "-md_gost12_256",
        )  # fmt: skip
        return party

    def issue(
        self,
        issuer: Party,
        name: str,
        *,
        subject: str,
        extensions: str = "signer",
        algorithm: str = "gost256",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Party:
        party = Party(name, self.folder, algorithm)
        self._key(party)
        request = self.folder / f"{name}.csr"
        openssl("req", "-new", "-utf8", "-key", party.key, "-out", request, "-subj", subject)
        start = start or self.now - timedelta(days=1)
        end = end or self.now + timedelta(days=365)
        openssl(
            "ca", "-batch", "-utf8", "-config", self._config(issuer.name, "md_gost12_256"), "-extensions", extensions,
            "-cert", issuer.cert, "-keyfile", issuer.key, "-in", request, "-out", party.cert, "-notext",
            "-startdate", _stamp(start), "-enddate", _stamp(end),
        )  # fmt: skip
        return party

    def revoke(self, issuer: Party, party: Party) -> None:
        openssl("ca", "-config", self._config(issuer.name, "md_gost12_256"), "-revoke", party.cert,
                "-cert", issuer.cert, "-keyfile", issuer.key)  # fmt: skip

    def crl(self, issuer: Party) -> bytes:
        out = self.folder / f"{issuer.name}.crl"
        openssl("ca", "-gencrl", "-config", self._config(issuer.name, "md_gost12_256"), "-cert", issuer.cert,
                "-keyfile", issuer.key, "-out", out)  # fmt: skip
        return openssl("crl", "-in", out, "-outform", "DER")

    @staticmethod
    def trusted_list(authorities: list[tuple[str, Party, list[tuple[str, str]]]], *, version: int = 1) -> bytes:
        """The XML of the trusted list: (name, issuing certificate, [(status, since)]) per authority."""
        centres = []
        for name, party, statuses in authorities:
            data = base64.b64encode(party.der).decode()
            current_status, current_since = statuses[-1]
            history = "".join(
                f"<СтатусАккредитации><Статус>{s}</Статус><ДействуетС>{d}T00:00:00</ДействуетС></СтатусАккредитации>"
                for s, d in statuses
            )
            centres.append(
                f"""<УдостоверяющийЦентр><Название>{escape(name)}</Название><КраткоеНазвание>{escape(name)}</КраткоеНазвание>
<ОГРН>1027700000000</ОГРН><ПрограммноАппаратныеКомплексы><ПрограммноАппаратныйКомплекс><Псевдоним>{escape(party.name)}</Псевдоним>
<КлючиУполномоченныхЛиц><Ключ><ИдентификаторКлюча>00</ИдентификаторКлюча><АдресаСписковОтзыва><Адрес>http://ca.test/{party.name}.crl</Адрес></АдресаСписковОтзыва>
<Сертификаты><ДанныеСертификата><Отпечаток>00</Отпечаток><Данные>{data}</Данные></ДанныеСертификата></Сертификаты>
</Ключ></КлючиУполномоченныхЛиц></ПрограммноАппаратныйКомплекс></ПрограммноАппаратныеКомплексы>
<СтатусАккредитации><Статус>{current_status}</Статус><ДействуетС>{current_since}T00:00:00</ДействуетС></СтатусАккредитации>
<ИсторияСтатусовАккредитации>{history}</ИсторияСтатусовАккредитации></УдостоверяющийЦентр>"""
            )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><АккредитованныеУдостоверяющиеЦентры><Версия>{version}</Версия>'
            f"<Дата>2026-11-01T00:00:00</Дата>{''.join(centres)}</АккредитованныеУдостоверяющиеЦентры>"
        ).encode()


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


def person(last: str, first: str, patronymic: str, snils: str) -> str:
    return f"/CN={last} {first} {patronymic}/SN={last}/GN={first} {patronymic}/SNILS={snils}"


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
