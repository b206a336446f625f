"""An application signed with a qualified electronic signature in a real browser: the candidate
downloads the document to sign, the signature is made by OpenSSL's GOST engine (tests/pki.py) as a
signing tool would, and the upload is checked by the one verifier. A diploma changed after signing
is refused acceptance naming the integrity check; signed again, the application is registered and
the staff file shows the verification protocol."""

from pathlib import Path

from playwright.sync_api import expect

from exam.admission import services
from exam.models import Application
from tests.conftest import fill_application
from tests.e2e.test_admission import sign_in


def download_document(page, application, folder: Path) -> bytes:
    page.goto(f"/cabinet/applications/{application.pk}/sign/")
    expect(page.locator("#qualified-signature h2")).to_have_text("Подписать квалифицированной электронной подписью")
    with page.expect_download() as download:
        page.click("#signing-document")
    assert download.value.suggested_filename == f"zayavlenie-{application.pk}.json"
    target = folder / download.value.suggested_filename
    download.value.save_as(target)
    return target.read_bytes()


def upload_signature(page, signature: bytes, folder: Path) -> None:
    path = folder / "zayavlenie.json.sig"
    path.write_bytes(signature)
    page.set_input_files("#id_signature", str(path))
    page.click("text=Подписать квалифицированной электронной подписью и подать")


def test_a_changed_diploma_is_refused_then_the_signed_application_is_registered_and_staff_see_the_protocol(
    new_page, live_server, alice, victor, pki, trusted, tmp_path
):
    application = fill_application(services.application_start(candidate=alice), alice)
    page = new_page()
    sign_in(page, alice.email)

    # She downloads the document and signs it, then replaces her diploma before sending the signature.
    signature = pki.signer.sign(download_document(page, application, tmp_path))
    page.goto(f"/cabinet/applications/{application.pk}/edit/")
    page.locator("#documents tr", has_text="о высшем образовании").locator("form.inline button").click()
    other = tmp_path / "diploma-scan-2.pdf"
    other.write_bytes(b"%PDF-1.4\n% another scan of the diploma\n%%EOF\n")
    page.select_option("#att-kind", "higher_education")
    page.set_input_files("#att-file", str(other))
    page.click("#att-submit")
    expect(page.locator(".alert.success")).to_contain_text("приложен")
    page.goto(f"/cabinet/applications/{application.pk}/sign/")
    upload_signature(page, signature, tmp_path)

    # Refused acceptance (p.19), naming the integrity check and its point of art. 11 of 63-FZ.
    expect(page.locator(".alert.error").first).to_contain_text("электронная подпись не прошла проверку")
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("п. 3 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ")
    expect(refusal).to_contain_text("изменены после подписания")
    expect(refusal).not_to_contain_text("Не приложен")
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED

    # Nothing was lost: she downloads the document again, signs it and is registered.
    signature = pki.signer.sign(download_document(page, application, tmp_path))
    upload_signature(page, signature, tmp_path)
    expect(page.locator(".alert.success")).to_contain_text("регистрационный номер")
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED

    # The reviewer's file shows both submissions with their protocols.
    staff = new_page()
    sign_in(staff, victor.email)
    staff.goto(f"/staff/applications/{application.pk}/")
    valid = staff.locator(".qes-protocol[data-ok=true]")
    expect(valid).to_contain_text("Алексеева Алиса Петровна")
    expect(valid).to_contain_text("ГОСТ Р 34.10-2012 (256 бит)")
    expect(valid.locator("[data-check=integrity]")).to_have_attribute("data-ok", "true")
    invalid = staff.locator(".qes-protocol[data-ok=false]")
    expect(invalid.locator("[data-check=integrity]")).to_have_attribute("data-ok", "false")
    expect(invalid.locator("[data-check=integrity]")).to_contain_text("изменены после подписания")
