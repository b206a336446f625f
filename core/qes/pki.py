"""A small public-key infrastructure made by OpenSSL with Debian's GOST engine: certification
authorities, certificates of signers (GOST R 34.10-2012 256 and 512 bits, RSA, ECDSA), revocation
lists and a trusted list in the XML format of the Ministry of Digital Development. The tests build
theirs with it (tests/pki.py), and ``manage.py load_demo`` the demo's (core.qes.demo): every
certificate and signature they use is made by software we did not write. Not for production keys."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings

from core.qes.openssl import CONFIG

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
    done = subprocess.run(  # noqa: S603 (our arguments: paths in our folder)
        [settings.QES_OPENSSL, *map(str, args)],
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


def person(last: str, first: str, patronymic: str, snils: str) -> str:
    return f"/CN={last} {first} {patronymic}/SN={last}/GN={first} {patronymic}/SNILS={snils}"
