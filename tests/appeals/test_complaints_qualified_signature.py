"""A complaint with a qualified electronic signature (p.82): the complainant downloads the canonical
content of the filled form (attachments by SHA-256) without anything being saved, signs it (OpenSSL's
GOST engine, tests/pki.py) and files it; every check passed registers it with the protocol kept, a
failed check registers nothing and shows the checks, with what was entered kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appeals import services
from appeals.models import Complaint
from core.errors import DomainError
from core.models import AuditEvent
from tests.conftest import PDF_BYTES, client_for, complaint_data, form_token, make_user

pytestmark = pytest.mark.django_db

EVIDENCE = b"%PDF-1.4\nthe refusal letter\n%%EOF"


def evidence(content: bytes = EVIDENCE) -> SimpleUploadedFile:
    return SimpleUploadedFile("otkaz.pdf", content, content_type="application/pdf")


def signing_document(data: dict[str, Any], content: bytes = EVIDENCE) -> bytes:
    return services.complaint_signing_document(data=data, evidence=[evidence(content)], power_of_attorney=[])


def file(alice: Any, data: dict[str, Any], signature: bytes, content: bytes = EVIDENCE) -> Complaint:
    return services.complaint_file(
        data=data, channel="portal", complainant=alice, evidence=[evidence(content)], signature=signature
    )


def test_a_signed_complaint_is_registered_with_its_protocol(alice, pki, trusted):
    data = complaint_data()
    signature = pki.signer.sign(signing_document(data))

    complaint = file(alice, data, signature)

    assert bytes(complaint.signature) == signature
    assert complaint.verification is not None and complaint.verification.ok
    assert complaint.signed_document["attachments"][0]["sha256"] == complaint.attachments.get().sha256
    assert AuditEvent.objects.get(case_id=complaint.pk, verb="complaint_file").data["signature"] == "qes"


def test_an_attachment_other_than_the_signed_one_registers_nothing(alice, pki, trusted):
    data = complaint_data()
    signature = pki.signer.sign(signing_document(data))

    with pytest.raises(DomainError) as err:
        file(alice, data, signature, content=PDF_BYTES)

    assert err.value.code == "signature_invalid"
    assert "п. 3 ст. 11" in " ".join(err.value.fields["signature"])
    assert not Complaint.objects.exists()


def test_a_changed_argument_after_signing_registers_nothing(alice, pki, trusted):
    signature = pki.signer.sign(signing_document(complaint_data()))

    with pytest.raises(DomainError):
        file(alice, complaint_data(arguments="Другие доводы"), signature)

    assert not Complaint.objects.exists()


def test_somebody_elses_certificate_is_refused_under_p16_1(alice, pki, trusted):
    data = complaint_data()

    with pytest.raises(DomainError) as err:
        file(alice, data, pki.stranger.sign(signing_document(data)))

    assert [c["code"] for c in err.value.details["protocol"]["checks"] if not c["ok"]] == ["signer"]


def test_a_representative_signs_a_complaint_with_their_own_certificate(pki, trusted):
    petrov = make_user("petrov@example.ru", last="Петров", first="Пётр")
    data = complaint_data(by_representative=True, representative_name="Алексеева Алиса Петровна")
    attorney = SimpleUploadedFile("dov.pdf", PDF_BYTES, content_type="application/pdf")
    content = services.complaint_signing_document(data=data, evidence=[evidence()], power_of_attorney=[attorney])
    attorney.seek(0)

    complaint = services.complaint_file(
        data=data,
        channel="portal",
        complainant=petrov,
        evidence=[evidence()],
        power_of_attorney=[attorney],
        signature=pki.signer.sign(content),
    )

    assert complaint.verification.ok


def test_a_revoked_certificate_registers_nothing(alice, pki, trusted):
    data = complaint_data()

    with pytest.raises(DomainError) as err:
        file(alice, data, pki.revoked.sign(signing_document(data)))

    assert "п. 2 ст. 11" in " ".join(err.value.fields["signature"])


# --- The page -------------------------------------------------------------------------------------


def post(client: Any, data: dict[str, Any], **files: Any) -> Any:
    return client.post(reverse("frontend:complaint_new"), {**data, **files})


def test_the_page_downloads_the_document_to_sign_without_saving_anything(alice, pki, trusted):
    client = client_for(alice)
    data = {**complaint_data(), **form_token(client, reverse("frontend:complaint_new"))}

    response = post(client, {**data, "action": "document"}, evidence=evidence())

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="zhaloba.json"'
    assert response.content == signing_document(complaint_data())
    assert not Complaint.objects.exists()


def test_the_page_registers_a_complaint_with_a_valid_signature_and_staff_see_the_protocol(alice, hanna, pki, trusted):
    client = client_for(alice)
    data = {**complaint_data(), **form_token(client, reverse("frontend:complaint_new"))}
    content = post(client, {**data, "action": "document"}, evidence=evidence()).content
    signature = SimpleUploadedFile("zhaloba.json.sig", pki.signer.sign(content))

    response = post(client, {**data, "action": "file"}, evidence=evidence(), signature=signature)

    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.verification.ok
    staff = client_for(hanna).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert 'data-verdict="valid"' in staff and "Алексеева Алиса Петровна" in staff


def test_the_page_shows_the_failed_checks_and_keeps_what_was_entered(alice, pki, trusted):
    client = client_for(alice)
    data = {**complaint_data(), **form_token(client, reverse("frontend:complaint_new"))}
    signature = SimpleUploadedFile("zhaloba.sig", pki.stranger.sign(signing_document(complaint_data())))

    page = post(client, {**data, "action": "file"}, evidence=evidence(), signature=signature).content.decode()

    assert not Complaint.objects.exists()
    assert "Жалоба не зарегистрирована: электронная подпись не прошла проверку" in page
    assert 'data-check="signer" data-ok="false"' in page and "пп. 1 п. 16" in page
    assert complaint_data()["arguments"] in page  # nothing entered is lost
    assert "otkaz.pdf" in page  # the files to choose again are named
    # signed again with the person's own certificate, the same form registers it
    good = SimpleUploadedFile("zhaloba.sig", pki.signer.sign(signing_document(complaint_data())))
    assert post(client, {**data, "action": "file"}, evidence=evidence(), signature=good).status_code == 302
    assert Complaint.objects.count() == 1


def test_the_page_files_an_unsigned_complaint_as_before(alice):
    client = client_for(alice)
    data = {**complaint_data(), **form_token(client, reverse("frontend:complaint_new"))}

    assert post(client, {**data, "action": "file"}).status_code == 302
    assert not bytes(Complaint.objects.get().signature)


def test_the_forms_default_button_files_the_complaint_and_the_signature_part_follows(alice):
    page = client_for(alice).get(reverse("frontend:complaint_new")).content.decode()

    form = page[page.index('id="complaint-form"') :]
    first = form[form.index('type="submit"') - 200 : form.index('type="submit"') + 60]
    assert 'value="file"' in first  # Enter in a field files the complaint, it does not download
    assert form.index("Подать жалобу") < form.index("Скачать документ для подписи")
