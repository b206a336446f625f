"""The demo's qualified signatures (``manage.py load_demo``): a demo certification authority under a
demo head authority, made by OpenSSL with the GOST engine under var/qes-demo, listed in a demo
trusted list with its revocation list, and a certificate with a key file for each official who signs
documents; the trusted list, the revocation list and the officials' certificates are loaded, so that
the documents of the demo are signed and verify. Idempotent: the files made once are reused, and
what is loaded already is not loaded again. Demo keys only: never for production."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.utils import timezone

from core.models import User
from core.qes import openssl
from core.qes.cms import certificate_info, crl_load
from core.qes.models import SigningCertificate
from core.qes.pki import Party, Pki
from core.qes.services import signing_certificate_add, trusted_list_load

HEAD, ACCREDITED = "demo-head-ca", "demo-accredited-ca"
ACCREDITED_NAME = "Демонстрационный аккредитованный УЦ"


@dataclass(frozen=True)
class DemoReport:
    folder: Path
    officials: list[str]


def _party(pki: Pki, name: str, make: Callable[[], Party]) -> Party:
    """The party whose files were made before, or made now."""
    party = Party(name, pki.folder)
    return party if party.cert.exists() and party.key.exists() else make()


def _crl(pki: Pki, accredited: Party) -> bytes:
    """The demo authority's revocation list, made again only when it is about to lapse."""
    path = pki.folder / "demo.crl.der"
    if path.exists():
        info = crl_load(path.read_bytes())
        if info.next_update is None or info.next_update > timezone.now() + timedelta(days=2):
            return info.der
    data = pki.crl(accredited)
    path.write_bytes(data)
    return data


def _slug(email: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", email.split("@")[0].lower()).strip("-")


def demo_signatures_load(*, folder: Path, officials: list[User]) -> DemoReport | None:
    """Make (once) and load the demo PKI; None when OpenSSL's GOST engine is not installed."""
    if not openssl.gost_available():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    pki = Pki(folder)
    head = _party(pki, HEAD, lambda: pki.root(HEAD))
    accredited = _party(
        pki,
        ACCREDITED,
        lambda: pki.issue(
            head,
            ACCREDITED,
            subject=f"/CN={ACCREDITED_NAME}/O=Демонстрационный УЦ",
            extensions="authority",
            start=pki.now - timedelta(days=30),
            end=pki.now + timedelta(days=3650),
        ),
    )
    xml_path = folder / "trusted-list.xml"
    if not xml_path.exists():
        xml_path.write_bytes(pki.trusted_list([(ACCREDITED_NAME, accredited, [("Действует", "2020-01-01")])]))
    trusted_list_load(xml=xml_path.read_bytes(), crls=[_crl(pki, accredited)], by=None)
    loaded = []
    for user in officials:
        name = _slug(user.email)
        subject = (
            f"/CN={user.full_name}/SN={user.last_name}/GN={' '.join(filter(None, [user.first_name, user.patronymic]))}"
            f"/O=Минтруд России"
        )
        party = _party(pki, name, partial(pki.issue, accredited, name, subject=subject))
        serial = SigningCertificate.objects.filter(user=user, active=True).values_list("serial", flat=True).first()
        certificate = party.pem
        if serial != certificate_info(certificate).serial:
            signing_certificate_add(user=user, certificate=certificate, key_file=str(party.key.resolve()))
        loaded.append(user.email)
    return DemoReport(folder=folder, officials=loaded)
