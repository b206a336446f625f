"""The public checks a ministry document's signature in a real browser: from the footer, the PDF
and its .sig give the protocol with the official's line; a changed PDF is not confirmed."""

from playwright.sync_api import expect

from tests.core.test_qes_public import PDF, ministry_document


def test_the_public_checks_a_ministry_document_and_a_changed_copy(new_page, pki, trusted, sergey, tmp_path):
    document = ministry_document(sergey, pki)
    (tmp_path / "notice.pdf").write_bytes(PDF)
    (tmp_path / "changed.pdf").write_bytes(PDF.replace(b"No. 1", b"No. 9"))
    (tmp_path / "notice.pdf.sig").write_bytes(bytes(document.signature))

    page = new_page()
    page.goto("/")
    page.click("footer >> text=Проверка электронной подписи документа")
    page.set_input_files("#document", str(tmp_path / "notice.pdf"))
    page.set_input_files("#signature", str(tmp_path / "notice.pdf.sig"))
    page.click("#signature-verify button[type=submit]")

    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(page.locator("[data-ministry-document]")).to_contain_text("Уведомление о допуске № 1")
    expect(page.locator("[data-check=official]")).to_have_attribute("data-ok", "true")
    expect(page.locator("[data-field=owner]")).to_have_text("Сергеев Сергей Сергеевич")

    page.set_input_files("#document", str(tmp_path / "changed.pdf"))
    page.set_input_files("#signature", str(tmp_path / "notice.pdf.sig"))
    page.click("#signature-verify button[type=submit]")

    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "invalid")
    expect(page.locator("[data-check=integrity]")).to_have_attribute("data-ok", "false")
    expect(page.locator("[data-check=official]")).to_have_count(0)
