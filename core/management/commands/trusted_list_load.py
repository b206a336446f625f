"""Load a version of the trusted list of accredited certification authorities (the XML the Ministry
of Digital Development publishes) and the revocation lists of its authorities:

    manage.py trusted_list_load [--xml TSL.xml] [--crl LIST.crl ...]

Every version is kept; a revocation list must verify under a certificate of a loaded list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from core.qes.services import revocation_list_load, trusted_list_load


class Command(BaseCommand):
    help = "Load the trusted list of accredited certification authorities and revocation lists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--xml", help="the trusted list (XML)")
        parser.add_argument("--crl", action="append", default=[], help="a revocation list (DER or PEM)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            crls = [Path(path).read_bytes() for path in options["crl"]]
            if options["xml"]:
                report = trusted_list_load(xml=Path(options["xml"]).read_bytes(), crls=crls, by=None)
                self.stdout.write(
                    f"trusted list version {report.trusted_list.version if report.trusted_list else '?'}: "
                    f"{report.authorities} authorities, {report.certificates} certificates; "
                    f"{report.revocation_lists} revocation lists, {report.revoked} revoked certificates"
                )
            else:
                for crl in crls:
                    loaded = revocation_list_load(data=crl, by=None)
                    self.stdout.write(f"revocation list of {loaded.issuer.subject}: {loaded.entries.count()} revoked")
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
