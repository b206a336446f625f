"""Configure an official's qualified certificate and key for signing the ministry's documents
(core.qes.signer.KeyFileSigner, the embedded mode):

    manage.py signing_certificate_add --user EMAIL --certificate CERT --key KEY [--password-variable VAR]

KEY is a PEM private key, or a PKCS#12 file (.p12, .pfx) whose password is in the environment
variable VAR. The key must sign what the certificate verifies; the official's previous certificate
is retired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from core.models import User
from core.qes.services import signing_certificate_add


class Command(BaseCommand):
    help = "Configure an official's qualified certificate and key file for signing documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the official's e-mail")
        parser.add_argument("--certificate", required=True, help="the certificate (DER, PEM or Base64)")
        parser.add_argument("--key", required=True, help="the private key file (PEM, or PKCS#12 .p12/.pfx)")
        parser.add_argument(
            "--password-variable", default="", help="the environment variable holding the PKCS#12 password"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"].strip()).first()
        if user is None or not user.is_staff:
            raise CommandError(f"no staff account {options['user']}")
        try:
            certificate = Path(options["certificate"]).read_bytes()
            row = signing_certificate_add(
                user=user,
                certificate=certificate,
                key_file=str(Path(options["key"]).resolve()),
                key_password_variable=options["password_variable"],
            )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{user.email}: certificate {row.serial} of {row.owner}, valid {row.not_before:%d.%m.%Y}-{row.not_after:%d.%m.%Y}"
        )
