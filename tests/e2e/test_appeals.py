"""Appeals and complaints in a real browser: a failed candidate appeals, the commission upholds with a
voided question and the result becomes a pass leading to a certificate; a complaint of subject (d)
gets its 5-working-day deadline and an answer PDF."""

from playwright.sync_api import expect

from core import calendar
from registry.models import AttestationDecision, Certificate
from tests.conftest import pass_the_test
from tests.e2e.test_admission import sign_in


def test_failed_candidate_appeals_the_commission_upholds_and_a_certificate_follows(
    new_page, exam_setup, commission, sergey, olga
):
    from django.test import TestCase

    from registry.services import attestation_decision_draft, attestation_decision_sign

    attempt = pass_the_test(exam_setup["credential"], correct=35)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    wrong = attempt.items.filter(is_correct=False).order_by("position").first().position
    application = exam_setup["credential"].application

    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("#test-result")).to_contain_text("Испытание не пройдено")
    page.click("text=Подать апелляцию")
    page.fill("#id_reasons", f"Вопрос {wrong} допускает два верных ответа.")
    page.click("form button[type=submit]:has-text('Подать апелляцию')")
    expect(page.locator(".alert.success")).to_contain_text("Апелляция зарегистрирована")

    chair, m1, m2 = commission
    for member, vote in [(chair, "uphold"), (m1, "uphold"), (m2, "reject")]:
        staff = new_page()
        sign_in(staff, member.email)
        staff.goto("/staff/appeals/")
        staff.click("table.list a")
        if staff.locator("text=Начать рассмотрение").count():
            staff.click("text=Начать рассмотрение")
        expect(staff.locator(f"#attempt [data-position='{wrong}']")).to_contain_text("неверно")
        staff.check(f"#vote-form input[value={vote}]")
        if vote == "uphold":
            staff.fill("#vote-form input[name=void]", str(wrong))
        staff.fill("#vote-form textarea[name=opinion]", "Мнение члена комиссии.")
        staff.click("#vote-form button[type=submit]")
        expect(staff.locator(".alert.success")).to_contain_text("Голос учтён")
        if member == chair:
            chair_page = staff
    chair_page.reload()
    chair_page.fill("#reasons", "Вопрос признан некорректным и аннулирован.")
    chair_page.click("#decide-form button[type=submit]")
    expect(chair_page.locator(".alert.success")).to_contain_text("Решение по апелляции принято")
    expect(chair_page.locator("[data-status]")).to_have_attribute("data-status", "upheld")

    # The new decision on attestation is signed and the certificate issued.
    new = AttestationDecision.objects.get(attempt=attempt, superseded=False)
    assert new.kind == "attested"
    signatory = new_page()
    sign_in(signatory, sergey.email)
    signatory.goto(f"/staff/attestation/{new.pk}/")
    signatory.once("dialog", lambda d: d.accept())
    signatory.click("text=Подписать решение")
    expect(signatory.locator(".alert.success")).to_contain_text("Решение подписано")
    officer = new_page()
    sign_in(officer, olga.email)
    officer.goto(f"/staff/attestation/{new.pk}/")
    officer.check("#issue-form input[name=areas] >> nth=0")
    officer.click("#issue-form button[type=submit]")
    expect(officer.locator(".alert.success")).to_contain_text("Сертификат выдан")
    certificate = Certificate.objects.get(decision=new)

    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("#test-result")).to_contain_text("Испытание пройдено")
    expect(page.locator("[data-certificate-number]")).to_have_text(f"№ {certificate.number}")


def test_a_complaint_of_subject_d_gets_its_five_day_deadline_and_an_answer_pdf(new_page, alice, hanna):
    page = new_page()
    sign_in(page, alice.email)
    page.goto("/cabinet/complaints/new/")
    page.select_option("#id_subject", "d")
    page.fill("#id_official", "Регистратор общего отдела")
    page.fill("#id_residence", "г. Москва, ул. Арбат, д. 1, кв. 1")
    page.fill("#id_postal_address", "119019, г. Москва, ул. Арбат, д. 1, кв. 1")
    page.fill("#id_decision_complained", "Отказ в приёме документов")
    page.fill("#id_arguments", "Все документы были приложены.")
    page.click("#complaint-form button[type=submit]")
    expect(page.locator(".alert.success")).to_contain_text("Жалоба зарегистрирована")
    due = calendar.add_working_days(
        calendar.effective_receipt_date(__import__("django.utils.timezone", fromlist=["now"]).now()), 5
    )
    expect(page.locator("[data-due]")).to_have_text(due.strftime("%d.%m.%Y"))

    handler = new_page()
    sign_in(handler, hanna.email)
    handler.goto("/staff/complaints/")
    handler.click("table.list a")
    handler.check("#decide input[value=uphold]")
    handler.select_option("#decide select[name=remedy]", "other")
    handler.fill("#decide textarea[name=text]", "Отказ в приёме был неправомерен.")
    handler.click("#decide button[type=submit]")
    expect(handler.locator(".alert.success")).to_contain_text("Решение по жалобе принято")
    expect(handler.locator("#answer-pdf")).to_be_visible()

    page.reload()
    href = page.get_attribute("text=Ответ по жалобе (PDF)", "href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
