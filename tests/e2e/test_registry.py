"""Certificates and the registry in a real browser: the candidate who passed sees the decision and the
certificate; the public finds the expert by a misspelt surname and by number; the QR target of the
PDF says "valid", and after annulment "annulled" with the date and reason."""

import re
from io import BytesIO
from urllib.parse import urlparse

from playwright.sync_api import expect
from pypdf import PdfReader

from core import calendar
from tests.conftest import certify, pass_the_test
from tests.e2e.test_admission import sign_in


def test_candidate_sees_the_decision_and_the_certificate_and_the_public_verifies_it(
    new_page, exam_setup, sergey, olga, stepan
):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=38), sergey, olga)
    application = exam_setup["credential"].application

    # The candidate's cabinet: the decision and the certificate's number, dates and PDF (p.68).
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("#attestation h2")).to_have_text("Решение об аттестации")
    expect(page.locator("[data-certificate-number]")).to_have_text(f"№ {certificate.number}")
    expect(page.locator("[data-issued]")).to_have_text(certificate.issued_on.strftime("%d.%m.%Y"))
    expect(page.locator("[data-expires]")).to_have_text(certificate.expires_on.strftime("%d.%m.%Y"))
    pdf = page.request.get(page.get_attribute("text=Сертификат (PDF)", "href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.body())).pages)
    assert certificate.number in text and "Алексеева Алиса Петровна" in text

    # The public finds the expert by a misspelt surname, and by number.
    public = new_page()
    public.goto("/registry/")
    public.fill("#r-q", "Алексеива")
    public.click("#registry-search button[type=submit]")
    expect(public.locator(f"#registry-results tr[data-number='{certificate.number}']")).to_be_visible()
    public.fill("#r-q", certificate.number)
    public.click("#registry-search button[type=submit]")
    expect(public.locator("#registry-results tbody tr")).to_have_count(1)
    public.click("text=Алексеева Алиса Петровна")
    expect(public.locator("[data-status]")).to_have_attribute("data-status", "valid")

    # The QR code of the PDF opens the verification page, which says "valid".
    from registry.documents import qr_url

    target = urlparse(qr_url(certificate))
    public.goto(f"{target.path}?{target.query}")
    expect(public.locator("#verdict")).to_contain_text("Сертификат действителен")
    expect(public.locator("[data-qr]")).to_have_attribute("data-qr", "valid")

    # The certificate officer annuls it; another signatory confirms.
    officer = new_page()
    sign_in(officer, olga.email)
    officer.goto(f"/staff/certificates/{certificate.pk}/")
    officer.select_option("#annul select[name=reason]", label="Вступившее в законную силу решение суда")
    officer.fill("#annul input[name=basis]", "Решение Тверского районного суда № 2-4567/2026")
    officer.click("#annul button[type=submit]")
    expect(officer.locator(".alert.success")).to_contain_text("направлено на подтверждение")
    signatory = new_page()
    sign_in(signatory, stepan.email)
    signatory.goto(f"/staff/certificates/{certificate.pk}/")
    signatory.once("dialog", lambda dialog: dialog.accept())
    signatory.click("#pending-annulment button:has-text('Подтвердить аннулирование')")
    expect(signatory.locator(".alert.success")).to_contain_text("Сертификат аннулирован")

    # The same QR target now says "annulled", with the date and the reason.
    public.goto(f"{target.path}?{target.query}")
    expect(public.locator("#verdict")).to_contain_text("Сертификат аннулирован")
    expect(public.locator("#verdict")).to_contain_text(calendar.today().strftime("%d.%m.%Y"))
    expect(public.locator("#verdict")).to_contain_text("Вступившее в законную силу решение суда")
    expect(public.locator("[data-annulled]")).to_contain_text("2-4567/2026")
    expect(public.locator("[data-history=annulled]")).to_be_visible()
    public.goto("/registry/?status=annulled")
    expect(public.locator(f"#registry-results tr[data-number='{certificate.number}']")).to_contain_text(
        re.compile("Аннулирован")
    )
