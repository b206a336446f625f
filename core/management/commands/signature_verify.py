"""Check a detached qualified signature by hand with the product's one verifier (core.qes.verifier):

    manage.py signature_verify --content FILE --signature FILE.sig [--trust CA.pem ...] [--crl L.crl ...]
                               [--at ISO-TIME] [--snils N | --full-name "Фамилия Имя Отчество"]

prints the protocol, one check a line, and exits 0 only when every check passes. Without --trust the
loaded trusted lists and revocation lists are the anchors; with it, the given certificates stand in
for the trusted list and only the revocation lists given with --crl are known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.qes import verifier
from core.qes.cms import certificate_info, crl_load
from core.qes.trust import GivenTrust, Trust, TrustedListTrust


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from exc


class Command(BaseCommand):
    help = "Verify a detached qualified electronic signature (CAdES-BES) and print the protocol."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--content", required=True, help="the signed file")
        parser.add_argument("--signature", required=True, help="the detached signature (DER, PEM or Base64)")
        parser.add_argument("--trust", action="append", default=[], help="a trusted authority's certificate")
        parser.add_argument("--crl", action="append", default=[], help="a revocation list (with --trust)")
        parser.add_argument("--at", help="the moment to check the certificate at (ISO 8601; default: now)")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--snils", help="the signer must be the person with this SNILS")
        who.add_argument("--full-name", help="the signer must be the person with this full name")

    def handle(self, *args: Any, **options: Any) -> None:
        at = None
        if options["at"]:
            at = parse_datetime(options["at"])
            if at is None:
                raise CommandError(f"--at: not an ISO 8601 moment: {options['at']}")
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        try:
            trust: Trust = (
                GivenTrust(
                    [certificate_info(_read(p)) for p in options["trust"]], [crl_load(_read(p)) for p in options["crl"]]
                )
                if options["trust"]
                else TrustedListTrust()
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        signer = None
        if options["snils"] or options["full_name"]:
            parts = [*(options["full_name"] or "").split(maxsplit=2), "", "", ""]
            signer = verifier.person_check(
                snils=options["snils"] or "", last_name=parts[0], first_name=parts[1], patronymic=parts[2]
            )
        protocol = verifier.verify(
            content=_read(options["content"]), signature=_read(options["signature"]), trust=trust, at=at, signer=signer
        )
        for key, label in (("owner", _("Владелец")), ("serial", _("Серийный номер")), ("issuer", _("Издатель"))):
            if protocol.certificate.get(key):
                self.stdout.write(f"# {label}: {protocol.certificate[key]}")
        for line in protocol.lines():
            self.stdout.write(line)
        if not protocol.ok:
            raise SystemExit(1)
