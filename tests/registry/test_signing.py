"""The ministry's signature: a record is checked against a key valid when it was signed; a new key
closes the period of the previous one and the records signed before stay verifiable."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from core.canonical import canonical_json
from registry import selectors, signing
from registry.models import SigningKey

SEED_A = bytes(range(32))
SEED_B = bytes(range(100, 132))


@pytest.fixture
def configured_key(settings: Any) -> Iterator[Callable[[bytes], None]]:
    """Configure REGISTRY_SIGNING_KEY as an operator would (the key is read once per process)."""

    def use(seed: bytes) -> None:
        settings.REGISTRY_SIGNING_KEY = signing.b64encode(seed)
        signing.current_key.cache_clear()

    yield use
    signing.current_key.cache_clear()


def test_a_record_without_its_signing_time_does_not_verify(certificate):
    record = selectors.certificate_record(certificate)
    del record["signed_at"]
    key_id, signature = signing.sign(record)  # a genuine signature of the record as it is
    assert not signing.verify(record, signature, key_id)
    empty = dict(record, signed_at="")
    key_id, signature = signing.sign(empty)
    assert not signing.verify(empty, signature, key_id)
    dated = dict(record, signed_at=timezone.now().isoformat())
    key_id, signature = signing.sign(dated)
    assert signing.verify(dated, signature, key_id)


def test_a_new_key_closes_the_period_of_the_previous_one(db, configured_key):
    configured_key(SEED_A)
    with time_machine.travel("2026-03-02T10:00:00+03:00", tick=False):
        old_record = {"number": "2026-00001", "signed_at": timezone.now().isoformat()}
        old_key_id, old_signature = signing.sign(old_record)
    configured_key(SEED_B)
    with time_machine.travel("2026-03-03T10:00:00+03:00", tick=False):
        new_record = {"number": "2026-00002", "signed_at": timezone.now().isoformat()}
        new_key_id, new_signature = signing.sign(new_record)
    old, new = SigningKey.objects.get(key_id=old_key_id), SigningKey.objects.get(key_id=new_key_id)
    assert old_key_id != new_key_id
    assert old.valid_to == new.valid_from + timedelta(minutes=60) and new.valid_to is None  # the overlap
    # Both records verify: each was signed within its key's period.
    assert signing.verify(old_record, old_signature, old_key_id)
    assert signing.verify(new_record, new_signature, new_key_id)
    # The retired key's signature on a record dated after its period does not (a leaked old key).
    late = {"number": "2026-00003", "signed_at": "2026-03-04T10:00:00+03:00"}
    leaked = signing.b64encode(Ed25519PrivateKey.from_private_bytes(SEED_A).sign(canonical_json(late)))
    assert not signing.verify(late, leaked, old_key_id)
    keys = {k["key_id"]: k for k in Client().get("/api/v1/registry/keys/").json()}
    assert keys[old_key_id]["valid_to"] is not None and keys[new_key_id]["valid_to"] is None
    # The retired key, configured again by mistake, signs nothing that would not verify.
    configured_key(SEED_A)
    with pytest.raises(ImproperlyConfigured):
        signing.sign(late)


def test_a_certificate_signed_before_a_rotation_still_verifies(certificate, configured_key):
    configured_key(SEED_B)
    signing.sign({"number": "x", "signed_at": timezone.now().isoformat()})  # the new key is published
    old = SigningKey.objects.get(key_id=certificate.key_id)
    assert old.valid_to is not None
    assert signing.verify(selectors.certificate_record(certificate), certificate.signature, certificate.key_id)


def test_a_process_not_yet_restarted_keeps_signing_with_the_previous_key_during_the_overlap(db, configured_key):
    """A rolling deploy: the new key is in use, an old process still holds the previous one."""
    configured_key(SEED_A)
    with time_machine.travel("2026-03-02T10:00:00+03:00", tick=False):
        signing.sign({"number": "1", "signed_at": timezone.now().isoformat()})
    configured_key(SEED_B)
    with time_machine.travel("2026-03-03T10:00:00+03:00", tick=False):
        signing.sign({"number": "2", "signed_at": timezone.now().isoformat()})
    configured_key(SEED_A)  # the old process
    with time_machine.travel("2026-03-03T10:30:00+03:00", tick=False):
        record = {"number": "3", "signed_at": timezone.now().isoformat()}
        key_id, signature = signing.sign(record)
    assert signing.verify(record, signature, key_id)
    with time_machine.travel("2026-03-03T11:00:00+03:00", tick=False), pytest.raises(ImproperlyConfigured):
        signing.sign({"number": "4", "signed_at": timezone.now().isoformat()})
