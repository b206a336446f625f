"""Seal the registry rows signed before seals existed (registry.signing.seal): each row whose record
verifies with its Ed25519 signature gets its seal; a row that does not verify is left as it is and
counted (the public sees it as not confirmed either way). Run once after upgrading; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from registry import signing
from registry.models import Certificate
from registry.selectors import certificate_record


class Command(BaseCommand):
    help = "Seal the registry rows signed before seals existed (checks each signature once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        keys = signing.PublishedKeys()
        sealed = refused = 0
        unsealed = Certificate.objects.filter(record_seal="").exclude(signature="").order_by("pk")
        last = 0
        while True:
            rows = list(unsealed.filter(pk__gt=last)[:batch])
            if not rows:
                break
            last = rows[-1].pk
            with transaction.atomic():
                for certificate in rows:
                    record = certificate_record(certificate)
                    if not keys.verify(record, certificate.signature, certificate.key_id):
                        refused += 1
                        continue
                    seal = signing.seal(record, certificate.signature, certificate.key_id)
                    # Only if the row is still the one checked: a row re-signed meanwhile has its own seal.
                    sealed += Certificate.objects.filter(
                        pk=certificate.pk, signature=certificate.signature, record_seal=""
                    ).update(record_seal=seal)
        self.stdout.write(f"sealed={sealed} not_verified={refused}")
