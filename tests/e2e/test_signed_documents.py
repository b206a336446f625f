"""A document the ministry issues, checked the way a Russian user checks it (issue 12): the admitted
candidate downloads the admission notice and its .sig from the cabinet, and OpenSSL with the GOST
engine accepts the signature under the accredited authority; the PDF shows the stamp."""

import subprocess
from io import BytesIO
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from core.qes.openssl import CONFIG
from core.qes.services import signing_certificate_add
from exam.admission import services
from tests.conftest import make_sitting, registered_application
from tests.e2e.test_admission import sign_decision, sign_in


def openssl_verify(content: Path, signature: Path, *, authority: Path) -> subprocess.CompletedProcess[bytes]:
    """What a person does by hand (README): OpenSSL with the GOST engine checks the detached signature."""
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", str(content), "-in", str(signature),
         "-CAfile", str(authority), "-partial_chain", "-purpose", "any", "-out", "/dev/null"],
        env={"OPENSSL_CONF": str(CONFIG), "PATH": "/usr/bin:/bin"}, capture_output=True, check=False,
    )  # fmt: skip


def test_the_admitted_candidate_downloads_the_notice_and_its_signature_and_openssl_accepts_it(
    new_page, live_server, pki, trusted, alice, victor, sergey, eva, tmp_path
):
    signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    services.decision_draft(
        application=application, by=victor, kind="admission", sitting=make_sitting(eva, days_ahead=12)
    )

    # The signatory signs in the product, with the key of their qualified certificate.
    sign_decision(new_page, sergey, application)

    # The candidate downloads the notice and, beside it, its detached signature.
    page = new_page()
    sign_in(page, alice.email)
    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("#notice h2")).to_have_text("Уведомление о допуске к аттестационному испытанию")
    pdf = page.request.get(page.get_attribute("#notice >> text=Скачать документ (PDF)", "href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    with page.expect_download() as sig_download:
        page.click("#notice [data-signature]")
    notice, signature = tmp_path / "notice.pdf", tmp_path / "notice.sig"
    notice.write_bytes(pdf.body())
    sig_download.value.save_as(signature)
    assert sig_download.value.suggested_filename.endswith(".pdf.sig")

    done = openssl_verify(notice, signature, authority=pki.accredited.cert)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Verification successful" in done.stderr

    text = " ".join("".join(p.extract_text() for p in PdfReader(BytesIO(notice.read_bytes())).pages).split())
    assert "ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in text
    assert "Владелец: Сергеев Сергей Сергеевич" in text and "Действителен: с " in text

    # A tampered copy is not accepted.
    notice.write_bytes(notice.read_bytes().replace(b"%%EOF", b"%%EOF\n%tampered", 1))
    tampered = openssl_verify(notice, signature, authority=pki.accredited.cert)
    assert tampered.returncode != 0
