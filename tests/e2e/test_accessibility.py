"""axe-core on every page a visitor, a candidate and the exam room show (WCAG 2.1 AA: no violation,
no colour-contrast review left unexplained; tests/e2e/axe.py). The pages are visited in the states a
person meets them in: empty and filled forms, a form sent back with its errors, a draft, a file
under way, a certificate in the registry, the test itself and its result."""

from django.test import TestCase
from playwright.sync_api import expect

from appeals.services import appeal_file, complaint_file
from exam.admission import services as admission
from exam.models import Attempt
from tests.conftest import complaint_data, fill_application, make_bank
from tests.e2e.test_admission import sign_in
from tests.e2e.test_exam_room_access import password_for


def visit(page, axe_check, url, *, expect_status=200):
    response = page.goto(url)
    assert response is not None and response.status == expect_status, (url, response and response.status)
    axe_check(page)


def test_every_public_page(new_page, certificate, axe_check):
    make_bank(topics=1, per_topic=5, practice=True)
    page = new_page()
    for url in (
        "/",
        "/questions/",
        "/practice/",
        "/registry/",
        "/registry/?q=Алексеева",
        "/registry/?q=Никтонет",
        "/registry/open-data/",
        f"/registry/certificates/{certificate.number}/",
        certificate.public_url(),
        "/exam/",
        "/accounts/register/",
        "/accounts/login/",
        "/accounts/password-reset/",
        "/accounts/password-reset/sent/",
        "/service/",
        "/signatures/verify/",
        "/complaints/new/",
    ):
        visit(page, axe_check, url)
    visit(page, axe_check, "/no-such-page/", expect_status=404)
    # Forms sent back with their errors, and the practice quiz's result.
    page.goto("/accounts/register/")
    page.click("main button[type=submit]")
    axe_check(page)
    page.goto("/accounts/login/")
    page.fill("#id_username", "nobody@example.ru")
    page.fill("#id_password", "wrong-password")
    page.click("main button[type=submit]")
    axe_check(page)
    page.goto("/exam/")
    page.click("#exam-submit")
    expect(page.locator(".alert.error")).to_be_visible()
    axe_check(page)
    # A signature check's protocol (a file that is no signature: every check failed, with its reason).
    page.goto("/signatures/verify/")
    page.set_input_files(
        "input[name=document]", files=[{"name": "doc.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    page.set_input_files(
        "input[name=signature]", files=[{"name": "doc.sig", "mimeType": "application/octet-stream", "buffer": b"no"}]
    )
    page.click("main button[type=submit]")
    expect(page.locator("[data-check]").first).to_be_visible()
    axe_check(page)
    page.goto("/practice/")
    page.locator("main fieldset input[type=radio], main fieldset input[type=checkbox]").first.check()
    page.click("main button[type=submit]")
    expect(page.locator("[data-practice-score]")).to_be_visible()
    axe_check(page)


def test_every_candidate_page(new_page, certificate, oscar, axe_check):
    attempt = Attempt.objects.get()
    application = attempt.application
    alice = application.candidate
    with TestCase.captureOnCommitCallbacks(execute=True):
        complaint = complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    page = new_page()
    sign_in(page, alice.email)
    visit(page, axe_check, f"/cabinet/attempts/{attempt.pk}/appeal/")
    page.click("main button[type=submit]")  # sent back with its errors
    axe_check(page)
    with TestCase.captureOnCommitCallbacks(execute=True):
        appeal = appeal_file(candidate=alice, attempt=attempt, reasons="Вопрос 3 сформулирован неоднозначно.")
    for url in (
        "/cabinet/",
        "/cabinet/notifications/",
        f"/cabinet/applications/{application.pk}/",
        "/cabinet/complaints/new/",
        f"/cabinet/complaints/{complaint.pk}/",
    ):
        visit(page, axe_check, url)
    visit(page, axe_check, f"/cabinet/appeals/{appeal.pk}/")
    page.goto("/cabinet/complaints/new/")
    page.click("main button[type=submit]")  # sent back with its errors
    axe_check(page)

    # Another candidate with a draft: the application form empty, filled and sent back, the signing page.
    draft = admission.application_start(candidate=oscar)
    page = new_page()
    sign_in(page, oscar.email)
    visit(page, axe_check, f"/cabinet/applications/{draft.pk}/edit/")
    visit(page, axe_check, f"/cabinet/applications/{draft.pk}/")
    fill_application(draft, oscar)
    visit(page, axe_check, f"/cabinet/applications/{draft.pk}/edit/")
    visit(page, axe_check, f"/cabinet/applications/{draft.pk}/")
    visit(page, axe_check, f"/cabinet/applications/{draft.pk}/sign/")


def test_every_exam_room_page(new_page, exam_setup, axe_check):
    page = new_page()
    login, password = password_for(exam_setup)
    page.goto("/exam/")
    axe_check(page)
    page.fill("#exam-login", login)
    page.fill("#exam-password", password)
    page.click("#exam-submit")
    expect(page.locator("#personally")).to_be_visible()
    axe_check(page)  # the rules
    page.click("#start")
    expect(page.locator("#personally")).to_be_visible()
    axe_check(page)  # the rules sent back: the confirmation is missing
    page.check("#personally")
    page.click("#start")
    expect(page.locator("#q-options input").first).to_be_visible()
    axe_check(page)  # a question
    attempt = Attempt.objects.get()
    multiple = next(i.position for i in attempt.items.select_related("version") if i.version.is_multiple)
    page.click(f"#grid .cell[data-position='{multiple}']")
    expect(page.locator("#q-hint")).to_be_visible()
    page.locator("#q-options input").first.check()
    page.check("#flag")
    axe_check(page)
    page.context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    page.locator("#q-options input").nth(1).check()
    expect(page.locator("#conn-status")).to_have_attribute("data-online", "0")
    axe_check(page)  # offline: the warning and the unsent answers
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "0")
    page.click("#submit")
    expect(page.locator("#confirm")).to_be_visible()
    axe_check(page)
    page.click("#confirm-yes")
    expect(page.locator("#result")).to_be_visible()
    axe_check(page)
