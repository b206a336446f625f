"""The detached signatures of the documents the ministry issued (core.qes.documents): whoever holds a
PDF may fetch its signature by the PDF's SHA-256 digest, to check it the usual way (a .sig file
beside the PDF); a digest of no signed document is not found."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from core.qes.documents import signed_document_for


@require_GET
def document_signature(request: HttpRequest, sha256: str) -> HttpResponse:
    signed = signed_document_for(sha256.lower())
    if signed is None:
        raise Http404
    name = signed.file_name.rsplit("/", 1)[-1] or f"{signed.sha256[:16]}.pdf"
    response = HttpResponse(bytes(signed.signature), content_type="application/pkcs7-signature")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.sig") or ""
    response["Cache-Control"] = "public, max-age=86400, immutable"
    return response
