"""The public complaint form with documents (p.79, p.83): the visitor attaches them as in the
cabinet, sees them listed before confirming, and staff open them on the filed complaint."""

import re

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from appeals.models import Complaint, ComplaintConfirmation
from tests.conftest import PDF_BYTES, client_for, complaint_data, form_token, png_bytes, upload
from tests.core.test_files import media_files

URL = reverse("frontend:complaint_public")


def post_public(client: Client, **data):
    mail.outbox.clear()
    payload = {**complaint_data(email="visitor@example.ru"), **form_token(client, URL), **data}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, payload)


def test_the_public_form_offers_the_documents_and_the_representative(db):
    page = Client().get(URL).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="evidence"' in page and 'name="power_of_attorney"' in page
    assert 'name="by_representative"' in page and 'name="representative_name"' in page


def test_a_representative_attaches_documents_sees_them_before_confirming_and_staff_open_them(db, hanna):
    client = Client()
    response = post_public(
        client,
        by_representative="on",
        representative_name="Петров Пётр Петрович",
        evidence=[upload("refusal.pdf")],
        power_of_attorney=[upload("attorney.png", content=png_bytes(), content_type="image/png")],
    )
    assert response.status_code == 200 and "visitor@example.ru" in response.content.decode()
    token = re.search(r"/complaints/confirm/(\S+)/", mail.outbox[-1].body).group(1)
    confirm_url = reverse("frontend:complaint_confirm", args=[token])

    page = client.get(confirm_url).content.decode()
    held = re.search(r'<dd id="held-files">(.*?)</dd>', page, re.S).group(1)
    assert "refusal.pdf" in held and "attorney.png" in held
    assert "Нотариальная доверенность представителя (п. 83)" in held and "Петров Пётр Петрович" in page

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(confirm_url)
    complaint = Complaint.objects.get()
    staff_page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    for attachment in complaint.attachments.all():
        url = reverse("frontend:complaint_attachment", args=[complaint.pk, attachment.pk])
        assert url in staff_page and attachment.original_name in staff_page
        content = b"".join(client_for(hanna).get(url).streaming_content)
        assert content == (PDF_BYTES if attachment.kind == "evidence" else png_bytes())


def test_a_wrong_file_on_the_public_form_is_named_and_nothing_is_held(db):
    response = post_public(
        Client(), evidence=[upload("refusal.pdf"), upload("scan.pdf", content=b"MZ\x90\x00 not a document")]
    )
    page = response.content.decode()
    assert "Файл «scan.pdf» не является документом PDF, JPEG или PNG." in page
    assert 'id="files-again"' in page and "refusal.pdf, scan.pdf" in page
    assert not ComplaintConfirmation.objects.exists() and media_files() == [] and not mail.outbox


def test_a_file_over_the_limit_on_the_public_form_is_named_and_nothing_is_held(db, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = b"%PDF-1.4\n" + b"0" * settings.ATTACHMENT_MAX_BYTES + b"\n%%EOF\n"
    page = post_public(Client(), power_of_attorney=[upload("attorney.pdf", content=big)]).content.decode()
    assert "Файл «attorney.pdf» больше 1 МБ." in page
    assert not ComplaintConfirmation.objects.exists() and media_files() == []
