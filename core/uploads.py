"""Checks of uploaded documents by their content, not their name (p.15(b)-(d) copies)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import BytesIO
from typing import IO

import filetype
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from core.errors import DomainError

ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    sha256: str
    size: int


def check_upload(stream: IO[bytes], *, name: str) -> CheckedFile:
    """Read the upload within the size limit and accept it only if its bytes are a PDF, JPEG or PNG
    that opens. A renamed executable, a truncated file or an oversized one is refused."""
    content = read_upload(stream, name=name, limit=settings.ATTACHMENT_MAX_BYTES)
    kind = filetype.guess(content)
    mime = kind.mime if kind else ""
    if mime not in ALLOWED or not _opens(content, mime):
        raise DomainError(
            _("Файл «%(name)s» не является документом PDF, JPEG или PNG.") % {"name": name},
            code="file_type",
            fields={"file": [_("Допустимы только PDF, JPEG и PNG.")]},
        )
    return CheckedFile(
        content=content, content_type=mime, sha256=hashlib.sha256(content).hexdigest(), size=len(content)
    )


def read_upload(stream: IO[bytes], *, name: str, limit: int, field: str = "file") -> bytes:
    """The bytes of an upload of any kind, refused when empty or over ``limit`` bytes (the error
    names the form's ``field``): no more than limit + 1 bytes are read (``limit``: whole megabytes, as the message says)."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise DomainError(
            _("Файл «%(name)s» больше %(mb)d МБ.") % {"name": name, "mb": max(limit // (1024 * 1024), 1)},
            code="file_too_large",
            fields={field: [_("Файл слишком большой.")]},
        )
    if not content:
        raise DomainError(
            _("Файл «%(name)s» пустой.") % {"name": name}, code="file_empty", fields={field: [_("Файл пустой.")]}
        )
    return content


def _opens(content: bytes, mime: str) -> bool:
    if mime == "application/pdf":
        # A PDF starts with its header and ends with an end-of-file marker near the end.
        return content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]
    try:
        with Image.open(BytesIO(content)) as image:
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return False
    return True
