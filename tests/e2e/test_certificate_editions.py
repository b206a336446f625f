"""Editions of a certificate in a real browser: the certificate officer corrects the expert's
surname at the expert's request; the public entry shows the corrected name and the history; the
QR code of the new edition says "valid", the old one "replaced"; then a duplicate is issued and
listed."""

from urllib.parse import urlparse

from playwright.sync_api import expect

from core import calendar
from registry.documents import qr_url
from tests.conftest import certify, pass_the_test
from tests.e2e.test_admission import sign_in


def qr_path(certificate) -> str:
    target = urlparse(qr_url(certificate))
    return f"{target.path}?{target.query}"


def test_the_officer_corrects_the_name_and_issues_a_duplicate(new_page, exam_setup, sergey, olga):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=38), sergey, olga)
    printed = qr_path(certificate)  # the QR code of the original edition
    today = calendar.today()

    officer = new_page()
    sign_in(officer, olga.email)
    officer.goto(f"/staff/certificates/{certificate.pk}/")
    officer.click("#correct summary")
    expect(officer.locator("#id_correct-last_name")).to_have_value("Алексеева")
    officer.fill("#id_correct-last_name", "Алексеева-Смирнова")
    officer.fill("#id_correct-reason", "Фамилия изменена до выдачи сертификата, в заявлении указана прежняя")
    officer.select_option("#id_correct-basis", "expert_request")
    officer.fill("#id_correct-request_date", today.isoformat())
    officer.select_option("#id_correct-request_channel", "portal")
    officer.click("#correct button[type=submit]")
    expect(officer.locator(".alert.success")).to_contain_text("Выдан исправленный экземпляр сертификата")
    expect(officer.locator("#editions [data-edition='1']")).to_have_attribute("data-replaced", "")
    expect(officer.locator("#editions [data-edition='2']")).to_contain_text("Исправленный экземпляр")
    expect(officer.locator("#editions [data-edition='2']")).to_contain_text("Алексеева → Алексеева-Смирнова")

    # The public entry: the corrected name, the history says a corrected edition was issued.
    public = new_page()
    public.goto(f"/registry/certificates/{certificate.number}/")
    expect(public.locator("[data-name]")).to_have_text("Алексеева-Смирнова Алиса Петровна")
    expect(public.locator("[data-history=corrected]")).to_contain_text("Выдан исправленный экземпляр")
    expect(public.locator("[data-history=corrected]")).to_contain_text(today.strftime("%d.%m.%Y"))

    # The QR code of the new edition: the record signed again, valid; the old code: replaced.
    certificate.refresh_from_db()
    public.goto(qr_path(certificate))
    expect(public.locator("#verdict")).to_contain_text("Сертификат действителен")
    expect(public.locator("[data-qr]")).to_have_attribute("data-qr", "valid")
    public.goto(printed)
    expect(public.locator("[data-qr]")).to_have_attribute("data-qr", "replaced")
    expect(public.locator("[data-name]")).to_have_text("Алексеева-Смирнова Алиса Петровна")

    # The expert lost the certificate: a duplicate, listed as the current edition.
    officer.click("#duplicate summary")
    officer.fill("#id_duplicate-request_date", today.isoformat())
    officer.select_option("#id_duplicate-request_channel", "in_person")
    officer.fill("#id_duplicate-reason", "Сертификат утрачен")
    officer.click("#duplicate button[type=submit]")
    expect(officer.locator(".alert.success")).to_contain_text("Выдан дубликат сертификата")
    expect(officer.locator("#editions [data-edition='3']")).to_contain_text("Дубликат")
    expect(officer.locator("#editions [data-edition='3']")).to_contain_text("действующий")
    expect(officer.locator("#editions [data-edition='2']")).to_have_attribute("data-replaced", "")
    pdf = officer.request.get(f"/staff/certificates/{certificate.pk}/certificate.pdf?edition=3")
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    public.goto(f"/registry/certificates/{certificate.number}/")
    expect(public.locator("[data-history=duplicate]")).to_contain_text("Выдан дубликат")
