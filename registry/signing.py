"""The ministry's signature on registry records and QR codes (Ed25519).

The private key comes from the REGISTRY_SIGNING_KEY setting (base64url of the 32-byte seed) or, in the
embedded mode, from ``var/registry_ed25519.key``, created on first use. The public keys are published
with their validity periods (``SigningKey``, ``GET /api/v1/registry/keys/``), so that anybody can check
a printed certificate offline: decode the record from the QR code, look up the key, verify.

Rotation: configure a new REGISTRY_SIGNING_KEY. The first signature with it publishes the new key
from that moment and closes the period of the previous one; records signed before stay verifiable,
as their signing time falls within the old key's period.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core import calendar
from core.canonical import canonical_json

if TYPE_CHECKING:
    from registry.models import SigningKey as SigningKeyModel

log = logging.getLogger(__name__)


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Key:
    key_id: str
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _seed() -> bytes:
    configured = settings.REGISTRY_SIGNING_KEY
    if configured:
        seed = b64decode(configured)
        if len(seed) != 32:
            raise ValueError("REGISTRY_SIGNING_KEY must be base64url of 32 bytes")
        return seed
    path = settings.VAR_DIR / "registry_ed25519.key"
    if not (settings.DEBUG or settings.TESTING):
        # Not refused: `make run` serves the embedded mode with its defaults. In service the
        # ministry's key must come from the setting, not from a file this server made up.
        log.warning("REGISTRY_SIGNING_KEY is not set: registry records are signed with the generated key in %s", path)
    if not path.exists():
        import secrets

        path.write_text(b64encode(secrets.token_bytes(32)))
        path.chmod(0o600)
    return b64decode(path.read_text().strip())


@functools.cache
def current_key() -> Key:
    private = Ed25519PrivateKey.from_private_bytes(_seed())
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = "mintrud-" + hashlib.sha256(raw).hexdigest()[:12]
    return Key(key_id=key_id, private=private)


def publish_current_key() -> SigningKeyModel:
    """Make sure the current key is in the published list, valid from the moment it is first
    published; publishing a new key closes the validity period of the keys before it."""
    from registry.models import SigningKey

    key = current_key()
    published = SigningKey.objects.filter(key_id=key.key_id).first()
    if published is not None:
        return published
    with transaction.atomic():
        now = timezone.now()
        published, created = SigningKey.objects.get_or_create(
            key_id=key.key_id, defaults={"public_key": b64encode(key.public_raw), "valid_from": now}
        )
        if created:
            # The keys before it stay valid for the overlap: during a rolling deploy the processes not
            # yet restarted still sign with the previous key, and what they sign must verify.
            overlap = timedelta(minutes=settings.REGISTRY_KEY_ROTATION_OVERLAP_MINUTES)
            SigningKey.objects.filter(valid_to__isnull=True).exclude(pk=published.pk).update(valid_to=now + overlap)
    return published


def sign(record: dict[str, Any]) -> tuple[str, str]:
    """Sign a record with the current key: (key id, signature in base64url). A key whose period
    has ended (configured again after a rotation) signs nothing: its signatures would not verify."""
    published = publish_current_key()
    if published.valid_to is not None and timezone.now() >= published.valid_to:
        raise ImproperlyConfigured(f"REGISTRY_SIGNING_KEY {published.key_id} was retired on {published.valid_to}")
    key = current_key()
    return key.key_id, b64encode(key.private.sign(canonical_json(record)))


class PublishedKeys:
    """The published keys, read in one query, for checking many records at once (a page of the
    search, the open data): a query per record would cost more than the signature checks."""

    def __init__(self, key_ids: Iterable[str] | None = None) -> None:
        from registry.models import SigningKey

        keys = SigningKey.objects.all() if key_ids is None else SigningKey.objects.filter(key_id__in=list(key_ids))
        self._keys = {key.key_id: key for key in keys}
        self._public: dict[str, Ed25519PublicKey] = {}

    def _public_key(self, key: SigningKeyModel) -> Ed25519PublicKey:
        if key.key_id not in self._public:
            self._public[key.key_id] = Ed25519PublicKey.from_public_bytes(b64decode(key.public_key))
        return self._public[key.key_id]

    def verify(self, record: dict[str, Any], signature: str, key_id: str, *, sealed: str = "") -> bool:
        """Check a record against a published key that was valid when the record was signed. With
        ``sealed`` (the row's seal): a seal that matches stands for the signature check (see seal)."""
        key = self._keys.get(key_id)
        if key is None:
            return False
        # A record without its signing time cannot be placed within the key's validity period.
        signed_at = record.get("signed_at")
        when = calendar.parse_moment(str(signed_at)) if signed_at else None
        if when is None or when < key.valid_from or (key.valid_to is not None and when > key.valid_to):
            return False
        message = canonical_json(record)
        if sealed and hmac.compare_digest(sealed, _seal(message, signature, key_id)):
            return True
        try:
            self._public_key(key).verify(b64decode(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def verify(record: dict[str, Any], signature: str, key_id: str) -> bool:
    """Check one record (PublishedKeys.verify, reading that key alone)."""
    return PublishedKeys([key_id]).verify(record, signature, key_id)


def seal(record: dict[str, Any], signature: str, key_id: str) -> str:
    """The server's seal of a record it signed: HMAC-SHA256 (SIGNATURE_MAC_KEY) of the record as
    signed, its key and its signature. Written only beside a signature just made (or one checked by
    registry_seal_records), it says "this row is the record the ministry signed" in a microsecond,
    where the Ed25519 check takes 60: the open data reads a million rows. It is no weaker than the
    signature against a changed row: without the server's key no seal can be made, and a row whose
    seal does not match (a row changed, the key rotated) is checked with the signature itself. The
    key's validity period is checked either way."""
    return _seal(canonical_json(record), signature, key_id)


def _seal(message: bytes, signature: str, key_id: str) -> str:
    return salted_hmac(
        "registry.record-seal",
        message + f"\n{key_id}\n{signature}".encode(),
        secret=settings.SIGNATURE_MAC_KEY,
        algorithm="sha256",
    ).hexdigest()
