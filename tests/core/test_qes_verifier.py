"""The one verifier of qualified signatures (core.qes.verifier), against signatures, certificates,
revocation lists and a trusted list made by OpenSSL with Debian's GOST engine (tests/pki.py): each
check fails on its own crafted case, and a valid signature passes all of them."""

from __future__ import annotations

import base64
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.errors import DomainError
from core.qes import verifier
from core.qes.models import RevocationList, TrustedList
from core.qes.services import revocation_list_load, trusted_list_load
from core.qes.trust import TrustedListTrust
from tests.pki import FIRST_NAME, LAST_NAME, PATRONYMIC, SNILS

pytestmark = pytest.mark.django_db

CONTENT = "Заявление о проведении аттестации, вложения: диплом.pdf".encode()


def candidate(snils: str = "") -> verifier.SignerCheck:
    return verifier.person_check(snils=snils, last_name=LAST_NAME, first_name=FIRST_NAME, patronymic=PATRONYMIC)


def check(signature: bytes, *, content: bytes = CONTENT, **kwargs: Any) -> verifier.Protocol:
    return verifier.verify(content=content, signature=signature, trust=TrustedListTrust(), signer=candidate(), **kwargs)


def outcome(protocol: verifier.Protocol) -> dict[str, bool]:
    return {c.code: c.ok for c in protocol.checks}


ALL_PASS = {"issuer": True, "validity": True, "integrity": True, "usage": True, "signer": True}


@pytest.mark.parametrize("who", ["signer", "signer512", "signer_rsa", "signer_ecdsa"])
def test_a_valid_signature_passes_every_check(pki: Any, trusted: Any, who: str) -> None:
    protocol = check(getattr(pki, who).sign(CONTENT))

    assert outcome(protocol) == ALL_PASS, protocol.lines()
    assert protocol.ok
    assert protocol.certificate["owner"] == f"{LAST_NAME} {FIRST_NAME} {PATRONYMIC}"


def test_gost_signature_protocol_names_the_algorithms(pki: Any, trusted: Any) -> None:
    assert check(pki.signer512.sign(CONTENT)).algorithm == "ГОСТ Р 34.10-2012 (512 бит), ГОСТ Р 34.11-2012 (512 бит)"
    assert "ГОСТ Р 34.10-2012 (256 бит)" in check(pki.signer.sign(CONTENT)).checks[2].detail


def test_pem_and_base64_signatures_are_read_like_der(pki: Any, trusted: Any) -> None:
    der = pki.signer.sign(CONTENT)

    assert check(pki.signer.sign(CONTENT, pem=True)).ok
    assert check(base64.encodebytes(der)).ok


def test_a_changed_document_fails_the_integrity_check_only(pki: Any, trusted: Any) -> None:
    protocol = check(pki.signer.sign(CONTENT), content=CONTENT + b" ")

    assert outcome(protocol) == {**ALL_PASS, "integrity": False}
    assert "изменены после подписания" in protocol.failed[0].detail
    assert "п. 3 ст. 11" in protocol.grounds()


def test_a_signature_of_another_document_fails_integrity(pki: Any, trusted: Any) -> None:
    assert outcome(check(pki.signer.sign(b"other"))) == {**ALL_PASS, "integrity": False}


def test_a_revoked_certificate_fails_validity(pki: Any, trusted: Any) -> None:
    protocol = check(pki.revoked.sign(CONTENT))

    assert outcome(protocol) == {**ALL_PASS, "validity": False}
    assert "отозван" in protocol.failed[0].detail


def test_a_signature_checked_before_the_revocation_passes(pki: Any, trusted: Any) -> None:
    before = timezone.now() - timedelta(hours=12)  # after the certificate's start, before its revocation

    assert check(pki.revoked.sign(CONTENT), at=before).ok


def test_an_expired_certificate_fails_validity(pki: Any, trusted: Any) -> None:
    protocol = check(pki.expired.sign(CONTENT))

    assert outcome(protocol) == {**ALL_PASS, "validity": False}
    assert "не действовал" in protocol.failed[0].detail


def test_without_a_revocation_list_in_force_validity_fails(pki: Any, db: Any) -> None:
    trusted_list_load(xml=pki.trusted_list_xml, crls=[], by=None)

    protocol = check(pki.signer.sign(CONTENT))

    assert outcome(protocol) == {**ALL_PASS, "validity": False}
    assert "Нет списка отзыва" in protocol.failed[0].detail


def test_a_certificate_that_forbids_signing_fails_usage(pki: Any, trusted: Any) -> None:
    protocol = check(pki.encipher_only.sign(CONTENT))

    assert outcome(protocol) == {**ALL_PASS, "usage": False}


def test_an_authority_missing_from_the_trusted_list_fails_the_issuer_check(pki: Any, trusted: Any) -> None:
    protocol = check(pki.from_unlisted.sign(CONTENT))

    assert outcome(protocol)["issuer"] is False
    assert "не найден в перечне" in protocol.checks[0].detail


def test_an_authority_no_longer_accredited_on_the_day_of_issue_fails_the_issuer_check(pki: Any, trusted: Any) -> None:
    protocol = check(pki.from_terminated.sign(CONTENT))

    assert outcome(protocol)["issuer"] is False
    assert "не был аккредитован" in protocol.checks[0].detail


def test_accreditation_ended_after_the_day_of_issue_still_passes(pki: Any, trusted: Any) -> None:
    """A newer version of the list says the accredited authority's accreditation ended today: the
    signer's certificate, issued yesterday, was issued by an accredited authority (art. 11 p.1)."""
    from tests.pki import Pki

    today = timezone.localdate().isoformat()
    newer = Pki.trusted_list(
        [("Аккредитованный УЦ", pki.accredited, [("Действует", "2020-01-01"), ("Прекращена", today)])], version=2
    )
    trusted_list_load(xml=newer, crls=[], by=None)

    assert TrustedList.objects.count() == 2
    assert check(pki.signer.sign(CONTENT)).ok


def test_somebody_elses_certificate_fails_the_signer_check(pki: Any, trusted: Any) -> None:
    protocol = check(pki.stranger.sign(CONTENT))

    assert outcome(protocol) == {**ALL_PASS, "signer": False}
    assert "Петров Пётр Петрович" in protocol.failed[0].detail
    assert "пп. 1 п. 16" in protocol.grounds()


def test_the_signer_is_recognised_by_snils_when_both_have_one(pki: Any, trusted: Any) -> None:
    signature = pki.signer.sign(CONTENT)
    trust = TrustedListTrust()

    assert verifier.verify(content=CONTENT, signature=signature, trust=trust, signer=candidate(SNILS)).ok
    other = verifier.verify(content=CONTENT, signature=signature, trust=trust, signer=candidate("123-456-789 64"))
    assert outcome(other)["signer"] is False


@pytest.mark.parametrize(
    "garbage", [b"", b"not a signature", b"\x30\x03\x02\x01\x01", b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----"]
)
def test_an_unreadable_signature_fails_with_a_message_not_an_error(trusted: Any, garbage: bytes) -> None:
    protocol = check(garbage)

    assert not protocol.ok
    assert all(not c.ok for c in protocol.checks)
    assert protocol.checks[2].detail


def test_the_protocol_survives_json(pki: Any, trusted: Any) -> None:
    protocol = check(pki.stranger.sign(CONTENT))

    again = verifier.Protocol.from_json(protocol.as_json())

    assert again.lines() == protocol.lines()
    assert again.certificate == protocol.certificate


# --- Loading the trusted list ------------------------------------------------------------------


def test_the_same_trusted_list_loaded_twice_is_one_version(pki: Any, db: Any) -> None:
    trusted_list_load(xml=pki.trusted_list_xml, crls=[pki.crl], by=None)
    trusted_list_load(xml=pki.trusted_list_xml, crls=[pki.crl], by=None)

    assert TrustedList.objects.count() == 1
    assert RevocationList.objects.count() == 1


def test_a_revocation_list_of_an_authority_not_in_the_list_is_refused(pki: Any, trusted: Any) -> None:
    from tests.pki import Pki

    foreign = Pki(pki.folder).crl(pki.unlisted)

    with pytest.raises(DomainError, match="не подписан ни одним"):
        revocation_list_load(data=foreign, by=None)


@pytest.mark.parametrize(
    "xml",
    [
        b"<not-xml",
        "<Другое><Версия>1</Версия></Другое>".encode(),
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>',
    ],
)
def test_a_file_that_is_not_a_trusted_list_is_refused(db: Any, xml: bytes) -> None:
    with pytest.raises(DomainError):
        trusted_list_load(xml=xml, crls=[], by=None)
    assert TrustedList.objects.count() == 0


# --- By hand: manage.py signature_verify ------------------------------------------------------------


def _command(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("signature_verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def _files(folder: Path, content: bytes, signature: bytes) -> tuple[str, str]:
    (folder / "doc.bin").write_bytes(content)
    (folder / "doc.sig").write_bytes(signature)
    return str(folder / "doc.bin"), str(folder / "doc.sig")


def test_signature_verify_prints_the_protocol_and_exits_0_for_a_valid_signature(pki: Any, tmp_path: Path) -> None:
    content, sig = _files(tmp_path, CONTENT, pki.signer.sign(CONTENT))

    code, out = _command("--content", content, "--signature", sig, "--trust", str(pki.accredited.cert),
                         "--crl", str(pki.folder / "accredited-ca.crl"), "--full-name", f"{LAST_NAME} {FIRST_NAME} {PATRONYMIC}")  # fmt: skip

    assert code == 0, out
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert len(lines) == 5 and all(line.startswith("OK") for line in lines)


def test_signature_verify_exits_1_naming_the_failed_check(pki: Any, tmp_path: Path) -> None:
    content, sig = _files(tmp_path, CONTENT + b"!", pki.signer.sign(CONTENT))

    code, out = _command("--content", content, "--signature", sig, "--trust", str(pki.accredited.cert),
                         "--crl", str(pki.folder / "accredited-ca.crl"))  # fmt: skip

    assert code == 1
    assert [line.split()[0] for line in out.splitlines() if not line.startswith("#")] == ["OK", "OK", "FAIL", "OK"]


def test_signature_verify_uses_the_loaded_trusted_list_and_the_given_moment(
    pki: Any, trusted: Any, tmp_path: Path
) -> None:
    content, sig = _files(tmp_path, CONTENT, pki.revoked.sign(CONTENT))
    earlier = (timezone.now() - timedelta(hours=12)).isoformat()

    assert _command("--content", content, "--signature", sig)[0] == 1
    assert _command("--content", content, "--signature", sig, "--at", earlier)[0] == 0


def test_openssl_itself_accepts_what_the_test_pki_signs(pki: Any, tmp_path: Path) -> None:
    """The fixtures are what OpenSSL's GOST engine makes and accepts (the verifier is not judging
    its own work)."""
    from core.qes.openssl import CONFIG

    content, sig = _files(tmp_path, CONTENT, pki.signer.sign(CONTENT))
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", content,
         "-CAfile", str(pki.accredited.cert), "-partial_chain", "-purpose", "any", "-out", "/dev/null"],
        env={"OPENSSL_CONF": str(CONFIG), "PATH": "/usr/bin:/bin"}, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
