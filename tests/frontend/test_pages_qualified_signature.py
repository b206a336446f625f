"""The application signed with a qualified electronic signature on the pages and through the API:
the candidate downloads the exact bytes to sign, uploads the detached signature, and sees the
registration or the refusal naming the failed checks; the staff file shows the protocol."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from exam.admission import services
from exam.models import Application, Attachment
from tests.conftest import client_for, fill_application, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(alice: Any) -> Application:
    return fill_application(services.application_start(candidate=alice), alice)


def download(client: Any, application: Application) -> bytes:
    response = client.get(reverse("frontend:cabinet_application_signing_document", args=[application.pk]))
    assert response.status_code == 200
    assert f'filename="zayavlenie-{application.pk}.json"' in response["Content-Disposition"]
    return response.content


def post_signature(client: Any, application: Application, signature: bytes, name: str = "zayavlenie.json.sig") -> Any:
    return client.post(
        reverse("frontend:cabinet_application_sign", args=[application.pk]),
        {"action": "qes", "signature": SimpleUploadedFile(name, signature)},
        follow=True,
    )


def test_the_sign_page_offers_the_qualified_signature(alice, draft):
    page = client_for(alice).get(reverse("frontend:cabinet_application_sign", args=[draft.pk])).content.decode()

    assert "Подписать квалифицированной электронной подписью" in page
    assert f"zayavlenie-{draft.pk}.json" in page


def test_the_document_to_sign_lists_each_attachment_by_sha256(alice, draft):
    content = download(client_for(alice), draft).decode()

    for attachment in draft.attachments.all():
        assert attachment.sha256 in content
    assert "Алексеева" in content


def test_another_candidate_cannot_download_alices_document(draft, oscar):
    response = client_for(oscar).get(reverse("frontend:cabinet_application_signing_document", args=[draft.pk]))

    assert response.status_code == 404


def test_a_downloaded_and_signed_document_registers_the_application(alice, victor, draft, pki, trusted):
    client = client_for(alice)
    signature = pki.signer.sign(download(client, draft))

    page = post_signature(client, draft, signature).content.decode()

    draft.refresh_from_db()
    assert draft.status == Application.Status.REGISTERED
    assert f"регистрационный номер {draft.registration_number}" in page
    staff = client_for(victor).get(reverse("frontend:staff_application", args=[draft.pk])).content.decode()
    assert 'data-verdict="valid"' in staff
    assert "Алексеева Алиса Петровна" in staff and 'data-signature="valid"' in staff
    assert "п. 3 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ" in staff
    assert AuditEvent.objects.filter(case_id=draft.pk, verb="file_view", actor=victor).exists()


def test_a_changed_attachment_is_refused_and_the_cabinet_names_the_integrity_check(alice, draft, pki, trusted):
    client = client_for(alice)
    signature = pki.signer.sign(download(client, draft))
    diploma = draft.attachments.get(kind=Attachment.Kind.HIGHER_EDUCATION)
    services.attachment_remove(attachment=diploma, by=alice)
    services.attachment_add(
        application=draft, by=alice, kind=diploma.kind, upload=upload("new.pdf", b"%PDF-1.4\nnew\n%%EOF")
    )

    page = post_signature(client, draft, signature).content.decode()

    draft.refresh_from_db()
    assert draft.status == Application.Status.NOT_ACCEPTED
    assert "электронная подпись не прошла проверку" in page
    assert "п. 3 ст. 11" in page and 'data-check="integrity" data-ok="false"' in page


def test_a_file_that_is_not_a_signature_shows_a_form_error(alice, draft, trusted):
    response = post_signature(client_for(alice), draft, b"hello")

    assert response.status_code == 200
    assert "Файл не является подписью" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT and not draft.submissions.exists()


def test_an_oversized_signature_file_is_refused(alice, draft):
    page = post_signature(client_for(alice), draft, b"0" * (1024 * 1024 + 1)).content.decode()

    assert "больше 1 МБ" in page
    assert not draft.submissions.exists()


# --- The API ------------------------------------------------------------------------------------


def test_the_api_submits_a_qualified_signature_in_base64(alice, draft, pki, trusted):
    client = client_for(alice)
    content = client.get(f"/api/v1/applications/{draft.pk}/signing-document/").content
    signature = base64.b64encode(pki.signer.sign(content)).decode()

    response = client.post(
        f"/api/v1/applications/{draft.pk}/submit-qualified/", {"signature": signature}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "registered"
    assert body["submissions"][0]["signature_method"] == "qes"
    assert all(check["ok"] for check in body["submissions"][0]["protocol"]["checks"])


def test_the_api_refusal_carries_the_failed_checks(alice, draft, pki, trusted):
    client = client_for(alice)
    content = client.get(f"/api/v1/applications/{draft.pk}/signing-document/").content
    signature = pki.stranger.sign(content, pem=True).decode()

    body = client.post(
        f"/api/v1/applications/{draft.pk}/submit-qualified/", {"signature": signature}, content_type="application/json"
    ).json()

    assert body["status"] == "not_accepted"
    assert "пп. 1 п. 16" in " ".join(body["not_accepted_reasons"])


def test_the_api_answers_bad_input_with_a_structured_400(alice, draft):
    client = client_for(alice)
    url = f"/api/v1/applications/{draft.pk}/submit-qualified/"

    missing = client.post(url, {}, content_type="application/json")
    garbage = client.post(url, {"signature": "not a signature"}, content_type="application/json")

    assert missing.status_code == 400 and "signature" in missing.json()["error"]["fields"]
    assert garbage.status_code == 400 and "signature" in garbage.json()["error"]["fields"]
    assert not draft.submissions.exists()


def test_the_api_hides_alices_application_from_oscar(draft, oscar, pki):
    client = client_for(oscar)

    assert client.get(f"/api/v1/applications/{draft.pk}/signing-document/").status_code == 404
    response = client.post(
        f"/api/v1/applications/{draft.pk}/submit-qualified/", {"signature": "AAAA"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_staff_download_the_signed_document_and_the_signature_and_it_is_logged(
    alice, victor, oscar, draft, pki, trusted
):
    from core.qes import verifier
    from core.qes.trust import TrustedListTrust

    client = client_for(alice)
    signature = pki.signer.sign(download(client, draft))
    post_signature(client, draft, signature)
    submission = draft.submissions.get()
    staff = client_for(victor)
    url = reverse("frontend:staff_submission_signed_file", args=[draft.pk, submission.pk, "document"])

    document = staff.get(url).content
    sig = staff.get(reverse("frontend:staff_submission_signed_file", args=[draft.pk, submission.pk, "signature"]))

    assert sig.content == signature
    assert verifier.verify(content=document, signature=sig.content, trust=TrustedListTrust()).ok
    assert AuditEvent.objects.filter(case_id=draft.pk, verb="signature_view", actor=victor).count() == 2
    assert client_for(oscar).get(url).status_code in (302, 403, 404)
