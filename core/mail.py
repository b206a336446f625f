"""E-mail as people read it in the console of `make run`: Django's console backend prints the raw
MIME message, whose Russian subjects and names are encoded (``=?utf-8?b?...``) and whose body may be
base64; this one prints the headers decoded, the text parts as text and each attachment as a line."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage as ParsedMessage
from typing import Any

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject")


class ConsoleEmailBackend(DjangoConsoleBackend):
    def write_message(self, message: Any) -> None:
        parsed = email.message_from_bytes(message.message().as_bytes(linesep="\n"), policy=policy.default)
        assert isinstance(parsed, ParsedMessage)
        lines = [f"{name}: {str(parsed[name]).strip()}" for name in HEADERS if parsed[name] is not None]
        lines.append("")
        for part in parsed.walk():
            if part.is_multipart():
                continue
            filename = part.get_filename()
            if filename is None and part.get_content_maintype() == "text":
                lines.append(str(part.get_content()).rstrip("\n"))
            else:
                size = len(part.get_payload(decode=True) or b"")
                lines.append(f"[{filename or '—'}: {part.get_content_type()}, {size} B]")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.write("-" * 79 + "\n")
