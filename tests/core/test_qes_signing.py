"""Signing the ministry's documents with an official's configured key (core.qes.signer): what it
signs, OpenSSL's GOST engine accepts, and the one verifier passes."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from core.errors import DomainError
from core.qes import verifier
from core.qes.models import SigningCertificate
from core.qes.openssl import CONFIG
from core.qes.services import expiring_soon, signing_certificate_add
from core.qes.signer import signer_for
from core.qes.trust import TrustedListTrust

pytestmark = pytest.mark.django_db

DOCUMENT = b"%PDF-1.7 admission notice"


def test_an_official_without_a_certificate_has_no_signer(sergey: Any) -> None:
    assert signer_for(sergey) is None


def test_the_officials_signature_is_accepted_by_openssl_and_by_the_verifier(
    pki: Any, trusted: Any, sergey: Any, tmp_path: Path
) -> None:
    signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    signer = signer_for(sergey)
    assert signer is not None

    signature = signer.sign(DOCUMENT)

    (tmp_path / "doc.pdf").write_bytes(DOCUMENT)
    (tmp_path / "doc.pdf.sig").write_bytes(signature)
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "doc.pdf.sig"),
         "-content", str(tmp_path / "doc.pdf"), "-CAfile", str(pki.accredited.cert), "-partial_chain",
         "-purpose", "any", "-out", "/dev/null"],
        env={"OPENSSL_CONF": str(CONFIG), "PATH": "/usr/bin:/bin"}, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert verifier.verify(content=DOCUMENT, signature=signature, trust=TrustedListTrust()).ok


def test_a_key_that_does_not_match_the_certificate_is_refused(pki: Any, sergey: Any) -> None:
    with pytest.raises(DomainError, match="не соответствует"):
        signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.signer.key))
    with pytest.raises(DomainError, match="не найден"):
        signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file="/nonexistent.key")
    assert not SigningCertificate.objects.exists()


def test_a_new_certificate_retires_the_previous_one(pki: Any, sergey: Any) -> None:
    first = signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    second = signing_certificate_add(user=sergey, certificate=pki.signer.pem, key_file=str(pki.signer.key))

    first.refresh_from_db()
    assert not first.active and second.active


def test_certificates_expiring_within_the_warning_period_are_listed(pki: Any, trusted: Any, sergey: Any) -> None:
    signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    official_expiry = SigningCertificate.objects.get().not_after

    assert expiring_soon() == []
    soon = expiring_soon(now=official_expiry - timedelta(days=29))
    assert [name for _kind, name, _at in soon] == [
        f"Сергеев Сергей Сергеевич ({SigningCertificate.objects.get().serial})"
    ]
    assert expiring_soon(now=official_expiry - timedelta(days=31)) == []
    assert timezone.now() < official_expiry


def test_a_missing_gost_engine_is_a_system_check_error(settings: Any) -> None:
    from core.checks import gost_engine_available

    assert gost_engine_available() == []
    settings.QES_OPENSSL = "/nonexistent/openssl"
    assert [m.id for m in gost_engine_available()] == ["core.E001"]
