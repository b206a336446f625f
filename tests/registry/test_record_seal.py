"""The seal of a registry row (registry.signing.seal): written with every signature, it stands for
the Ed25519 check where many rows are read (the open data, a page of the search); a row changed
after signing, or sealed under another key, is judged by its signature."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from registry import selectors, signing
from registry.models import Certificate
from registry.selectors import UNCONFIRMED, certificate_record, certificate_verified_status

OTHER_MAC_KEY = "another-signature-mac-key-of-32-characters-or-more"


def signature_checks(monkeypatch) -> list[str]:
    """The Ed25519 checks made from now on (the key ids checked)."""
    checked: list[str] = []
    original = signing.PublishedKeys._public_key

    def counting(self, key):
        checked.append(key.key_id)
        return original(self, key)

    monkeypatch.setattr(signing.PublishedKeys, "_public_key", counting)
    return checked


def test_a_signed_row_is_sealed_and_confirmed_without_a_signature_check(certificate, monkeypatch):
    certificate.refresh_from_db()
    assert certificate.record_seal == signing.seal(
        certificate_record(certificate), certificate.signature, certificate.key_id
    )
    checked = signature_checks(monkeypatch)
    assert certificate_verified_status(certificate) == "valid"
    assert [row["status"] for row in selectors.open_data_rows()] == ["valid"]
    assert checked == []


def test_a_row_changed_after_signing_is_not_confirmed_despite_its_seal(certificate):
    Certificate.objects.filter(pk=certificate.pk).update(last_name="Подменов")
    certificate.refresh_from_db()
    assert certificate.record_seal
    assert certificate_verified_status(certificate) == UNCONFIRMED
    assert [row["status"] for row in selectors.open_data_rows()] == [UNCONFIRMED]


def test_a_seal_made_under_another_key_leaves_the_row_to_its_signature(certificate, settings, monkeypatch):
    certificate.refresh_from_db()
    settings.SIGNATURE_MAC_KEY = OTHER_MAC_KEY
    checked = signature_checks(monkeypatch)
    assert certificate_verified_status(certificate) == "valid"
    assert checked == [certificate.key_id]


def test_the_command_seals_the_rows_that_verify_and_leaves_a_changed_one(certificate):
    Certificate.objects.filter(pk=certificate.pk).update(record_seal="")
    out = StringIO()
    call_command("registry_seal_records", stdout=out)
    certificate.refresh_from_db()
    assert certificate.record_seal and "sealed=1 not_verified=0" in out.getvalue()

    Certificate.objects.filter(pk=certificate.pk).update(record_seal="", first_name="Подмена")
    out = StringIO()
    call_command("registry_seal_records", stdout=out)
    certificate.refresh_from_db()
    assert certificate.record_seal == "" and "sealed=0 not_verified=1" in out.getvalue()
