"""What a candidate notices on their pages (issue 13): the form's primary action, the documents in
the order of p.15, the public links kept after sign-in, an expert not offered a new attestation or
an appeal as if nothing had happened."""

import hashlib
import re

from django.test import Client
from django.urls import reverse

from exam.admission import services
from exam.models import Attachment
from tests.conftest import client_for, fill_application, upload


def _draft(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    return application


def test_submit_is_the_primary_action_of_the_form(alice):
    application = _draft(alice)
    page = client_for(alice).get(reverse("frontend:cabinet_application_edit", args=[application.pk])).content.decode()
    actions = re.search(r'<div class="actions">(.*?)</div>', page, re.S).group(1)
    first_button = re.search(r"<button[^>]*>", actions).group(0)
    assert 'value="sign"' in first_button and "secondary" not in first_button
    assert 'value="stay" class="secondary"' in actions


def test_a_saved_draft_does_not_ask_to_save_the_draft_first(alice):
    application = _draft(alice)
    page = client_for(alice).get(reverse("frontend:cabinet_application_edit", args=[application.pk])).content.decode()
    assert "Сохраните черновик" not in page


def test_long_entry_fields_take_a_whole_row_and_wrap(alice):
    application = _draft(alice)
    page = client_for(alice).get(reverse("frontend:cabinet_application_edit", args=[application.pk])).content.decode()
    institution = re.search(r'<div class="field([^"]*)">\s*<label for="id_higher_education-0-institution"', page)
    assert institution is not None and "wide" in institution.group(1)
    area = re.search(r'<textarea[^>]*name="higher_education-0-institution"[^>]*>', page)
    assert area is not None and "data-single-line" in area.group(0)


def test_documents_are_listed_in_the_order_of_paragraph_15(alice):
    application = _draft(alice)
    for kind in ("experience", "qualification", "higher_education"):  # uploaded in the reverse order
        services.attachment_add(application=application, by=alice, kind=kind, upload=upload(f"{kind}.pdf"))
    page = client_for(alice).get(reverse("frontend:cabinet_application_edit", args=[application.pk])).content.decode()
    documents = page[page.index('id="documents"') :]
    positions = [documents.index(f"{kind}.pdf") for kind in Attachment.Kind.values]
    assert positions == sorted(positions)
    assert [a.kind for a in application.attachments.in_paragraph_order()] == [
        "higher_education",
        "qualification",
        "experience",
    ]


def test_a_signed_in_candidate_keeps_the_public_links(alice):
    page = client_for(alice).get(reverse("frontend:cabinet")).content.decode()
    nav = page[page.index('class="wrap nav"') : page.index("</nav>")]
    for name in ("registry", "public_questions", "practice"):
        assert f'href="{reverse(f"frontend:{name}")}"' in nav


def test_an_expert_is_not_offered_a_new_application_as_if_nothing_happened(certificate, alice):
    page = client_for(alice).get(reverse("frontend:cabinet")).content.decode()
    assert f"сертификат эксперта № {certificate.number}" in page
    assert "Заполнить заявление" not in page
    assert reverse("frontend:cabinet_application_new") not in page


def test_a_candidate_without_certificate_can_apply(alice):
    page = client_for(alice).get(reverse("frontend:cabinet")).content.decode()
    assert "Заполнить заявление" in page


def test_a_passed_candidate_is_not_offered_an_appeal(certificate, alice):
    application = certificate.decision.application
    page = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk])).content.decode()
    assert "Испытание пройдено" in page
    assert "Подать апелляцию" not in page


def test_a_failed_candidate_is_offered_an_appeal(exam_setup, alice):
    from tests.conftest import pass_the_test

    attempt = pass_the_test(exam_setup["credential"], correct=20)
    page = client_for(alice).get(attempt.application.cabinet_url()).content.decode()
    assert "Подать апелляцию" in page


# --- Documents the candidate keeps ------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_the_registration_receipt_downloads_as_a_pdf(alice, oscar):
    from tests.conftest import registered_application

    application = registered_application(alice)
    url = reverse("frontend:cabinet_receipt_pdf", args=[application.pk])
    assert url in client_for(alice).get(application.cabinet_url()).content.decode()
    response = client_for(alice).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Расписка в получении" in text and application.registration_number in text
    assert text.index("higher_education.pdf") < text.index("qualification.pdf") < text.index("experience.pdf")
    assert client_for(oscar).get(url).status_code == 404


def test_a_draft_has_no_receipt(alice):
    application = _draft(alice)
    assert client_for(alice).get(reverse("frontend:cabinet_receipt_pdf", args=[application.pk])).status_code == 404


def test_the_appeal_decision_downloads_as_a_pdf_with_its_reasons(exam_setup, alice, oscar, sergey, commission):
    from appeals import services as appeals_services
    from registry.services import attestation_decision_draft, attestation_decision_sign
    from tests.conftest import pass_the_test

    attempt = pass_the_test(exam_setup["credential"], correct=35)
    attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    appeal = appeals_services.appeal_file(candidate=alice, attempt=attempt, reasons="Вопрос 3 некорректен.")
    url = reverse("frontend:cabinet_appeal_decision_pdf", args=[appeal.pk])
    assert client_for(alice).get(url).status_code == 404  # not decided yet
    chair = commission[0]
    appeals_services.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals_services.appeal_vote(appeal=appeal, member=member, outcome="reject")
    appeals_services.appeal_decide(appeal=appeal, by=chair, reasons="Доводы не подтвердились: вопрос корректен.")
    assert url in client_for(alice).get(appeal.cabinet_url()).content.decode()
    response = client_for(alice).get(url)
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "Апелляция отклонена" in text and "Доводы не подтвердились: вопрос корректен." in text
    assert client_for(oscar).get(url).status_code == 404


# --- Staff pages ------------------------------------------------------------------------------------


def test_the_signatory_dashboard_counts_the_drafts_waiting_for_their_signature(alice, victor, sergey, eva):
    from tests.conftest import make_sitting, registered_application

    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    services.decision_draft(application=application, by=victor, kind="admission", sitting=make_sitting(eva))
    page = client_for(sergey).get(reverse("frontend:staff_dashboard")).content.decode()
    stat = re.search(r'data-count="to_sign_admission"[^>]*><b>(\d+)</b>([^<]*)<', page)
    assert stat is not None and stat.group(1) == "1" and "ждёт вашей подписи" in stat.group(2)
    # The reviewer is not a signatory: no such count.
    assert "to_sign_admission" not in client_for(victor).get(reverse("frontend:staff_dashboard")).content.decode()


def test_the_drafter_does_not_count_their_own_draft(alice, double, sergey, eva):
    from tests.conftest import make_sitting, registered_application

    application = registered_application(alice)
    services.application_start_review(application=application, by=double)
    services.decision_draft(application=application, by=double, kind="admission", sitting=make_sitting(eva))
    page = client_for(double).get(reverse("frontend:staff_dashboard")).content.decode()
    assert re.search(r'data-count="to_sign_admission"[^>]*><b>0</b>', page)


def test_the_certificate_list_pages_and_filters_by_status(olga):
    from datetime import date

    from tests.conftest import published_certificate

    for n in range(55):
        published_certificate(f"77-{n:04d}", "Экспертов", "Эдуард")
    published_certificate("77-9999", "Аннулов", "Антон", annulled_on=date(2025, 6, 1))
    client = client_for(olga)
    first = client.get(reverse("frontend:certificate_list")).content.decode()
    assert "Страница 1 из 2" in first and 'href="?page=2"' in first
    annulled = client.get(reverse("frontend:certificate_list"), {"status": "annulled"}).content.decode()
    assert "77-9999" in annulled and "77-0001" not in annulled


def test_the_complaint_list_filters_by_status_and_keeps_the_filter_when_paging(alice, hanna):
    from appeals import services as appeals_services
    from tests.conftest import complaint_data

    appeals_services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    page = client_for(hanna).get(reverse("frontend:complaint_list"), {"status": "registered"}).content.decode()
    assert '<option value="registered" selected>' in page
    assert "Алексеева" in page
    none = client_for(hanna).get(reverse("frontend:complaint_list"), {"status": "upheld"}).content.decode()
    assert "Алексеева" not in none


def test_the_appeal_decision_is_signed_by_the_chair_and_its_signature_downloads(
    exam_setup, alice, sergey, commission, pki, trusted, tmp_path
):
    """Issue 12: the appeal decision is a document the ministry issues: the chair's qualified
    signature, the stamp, the same bytes on every download, and the .sig beside it."""
    from appeals import services as appeals_services
    from core.qes import verifier
    from core.qes.models import SignedDocument
    from core.qes.services import signing_certificate_add
    from core.qes.trust import TrustedListTrust
    from registry.services import attestation_decision_draft, attestation_decision_sign
    from tests.conftest import pass_the_test

    chair = commission[0]
    signing_certificate_add(user=chair, certificate=pki.official.pem, key_file=str(pki.official.key))
    attempt = pass_the_test(exam_setup["credential"], correct=35)
    attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    appeal = appeals_services.appeal_file(candidate=alice, attempt=attempt, reasons="Вопрос 3 некорректен.")
    appeals_services.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals_services.appeal_vote(appeal=appeal, member=member, outcome="reject")
    appeals_services.appeal_decide(appeal=appeal, by=chair, reasons="Доводы не подтвердились.")

    url = reverse("frontend:cabinet_appeal_decision_pdf", args=[appeal.pk])
    first, second = client_for(alice).get(url).content, client_for(alice).get(url).content
    assert first == second
    assert "ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in " ".join(_pdf_text(first).upper().split())
    signed = SignedDocument.objects.get(sha256=hashlib.sha256(first).hexdigest())
    assert signed.signed_by == chair
    page = client_for(alice).get(appeal.cabinet_url()).content.decode()
    sig_url = reverse("frontend:document_signature", args=[signed.sha256])
    assert sig_url in page
    signature = Client().get(sig_url).content
    assert verifier.verify(content=first, signature=signature, trust=TrustedListTrust(), at=signed.signed_at).ok
