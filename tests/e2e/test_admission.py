"""The admission procedure in a real browser: from registration to the admission notice, and a
refusal for 71 hours of training."""

import re

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from exam.admission import services
from exam.models import Application
from tests.conftest import PASSWORD, complete_payload, make_sitting, registered_application


def sign_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def sign_decision(new_page, signatory, application):
    """The signatory opens the file and signs the drafted decision."""
    page = new_page()
    sign_in(page, signatory.email)
    page.goto(f"/staff/applications/{application.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#decisions button:has-text('Подписать')")
    expect(page.locator(".alert.success")).to_contain_text("Решение подписано")


def last_mail_matching(pattern):
    for message in reversed(mail.outbox):
        found = re.search(pattern, message.body)
        if found:
            return found
    raise AssertionError(f"no e-mail matches {pattern}")


def fill_entry(page, section, index, values):
    for key, value in values.items():
        page.fill(f"[name='{section}-{index}-{key}']", value)


def test_candidate_applies_reviewer_admits_another_official_signs_candidate_sees_the_notice(
    new_page, live_server, victor, sergey, eva, tmp_path
):
    sitting = make_sitting(eva, days_ahead=12)
    # The candidate registers and confirms the e-mail address.
    page = new_page()
    page.goto("/")
    page.click("text=Зарегистрироваться")
    page.fill("#id_last_name", "Кузнецова")
    page.fill("#id_first_name", "Мария")
    page.fill("#id_patronymic", "Игоревна")
    page.fill("#id_email", "maria@example.ru")
    page.fill("#id_password1", "zvezdnoe-nebo-2026")
    page.fill("#id_password2", "zvezdnoe-nebo-2026")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Подтвердите адрес электронной почты")
    link = last_mail_matching(r"https?://\S+/accounts/confirm/\S+/").group(0)
    page.goto("/accounts/confirm/" + link.split("/accounts/confirm/")[1])
    expect(page.locator(".alert.success")).to_contain_text("подтверждён")
    sign_in(page, "maria@example.ru", "zvezdnoe-nebo-2026")
    expect(page.locator("h1")).to_have_text("Личный кабинет")

    # She fills in the application with repeatable entries.
    page.click("text=Заполнить заявление")
    data = complete_payload(last_name="Кузнецова", first_name="Мария", patronymic="Игоревна", email="maria@example.ru")
    for key in ["id_document_name", "id_document_number", "id_document_issuer", "postal_address", "phone"]:
        page.fill(f"[name='a-{key}']", data[key])
    page.fill("[name='a-id_document_issued_on']", data["id_document_issued_on"])
    for section in ["higher_education", "additional_education", "experience"]:
        page.click(f"#section-{section} [data-add]")
        row = {k: ("" if v is None else str(v)) for k, v in data[section][0].items()}
        fill_entry(page, section, 0, row)
    # A second, overlapping experience period.
    page.click("#section-experience [data-add]")
    fill_entry(
        page,
        "experience",
        1,
        {
            "employer": "АО «Аттестат»",
            "works": "Аттестация рабочих мест",
            "date_from": "2018-01-10",
            "date_to": "2020-06-30",
        },
    )
    page.check("[name='a-personal_data_consent']")
    page.click("button[value=stay]")
    expect(page.locator(".alert.success")).to_contain_text("Черновик сохранён")

    # Attachments: three copies of documents (PDF, checked by content).
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    for kind in ["higher_education", "qualification", "experience"]:
        page.select_option("#att-kind", kind)
        page.set_input_files("#att-file", str(pdf))
        page.click("#att-submit")
        expect(page.locator(".alert.success")).to_contain_text("приложен")

    # She signs with the code from the e-mail and gets a registration number.
    page.click("button[value=sign]")
    expect(page.get_by_text("Все сведения заполнены, все документы приложены.")).to_be_visible()
    page.click("text=Получить код")
    code = last_mail_matching(r"\b(\d{6})\b").group(1)
    page.fill("#id_code", code)
    page.click("text=Подписать и подать")
    expect(page.locator(".alert.success")).to_contain_text("регистрационный номер")
    application = Application.objects.get(candidate__email="maria@example.ru")
    assert application.status == "registered"
    expect(page.locator("[data-registration-number]")).to_have_text(application.registration_number)

    # The reviewer takes it, sees the criteria met and drafts an admission with a sitting.
    reviewer = new_page()
    sign_in(reviewer, victor.email)
    reviewer.click("nav >> text=Рассмотрение")
    reviewer.click(f"text={application.registration_number}")
    reviewer.click("text=Взять на рассмотрение")
    for code_name in ["higher_education", "training", "experience"]:
        expect(reviewer.locator(f"[data-criterion={code_name}]")).to_have_attribute("data-met", "1")
    reviewer.check("#decision-form input[value=admission]")
    reviewer.select_option("#sitting", str(sitting.pk))
    reviewer.click("text=Направить на подпись")
    expect(reviewer.locator(".alert.success")).to_contain_text("направлен на подпись")

    # A different official signs it.
    signatory = new_page()
    sign_in(signatory, sergey.email)
    signatory.click("nav >> text=На подпись")
    signatory.click(f"text={application.registration_number}")
    signatory.once("dialog", lambda dialog: dialog.accept())
    signatory.click("#decisions button:has-text('Подписать')")
    expect(signatory.locator(".alert.success")).to_contain_text("Решение подписано")

    # The candidate sees the notice with date, time, place and the exam login.
    page.goto(f"/cabinet/applications/{application.pk}/")
    start = timezone.localtime(sitting.starts_at)
    expect(page.locator("#notice h2")).to_have_text("Уведомление о допуске к аттестационному испытанию")
    expect(page.locator("[data-exam-date]")).to_have_text(start.strftime("%d.%m.%Y"))
    expect(page.locator("[data-exam-time]")).to_contain_text(start.strftime("%H:%M"))
    expect(page.locator("[data-exam-place]")).to_have_text("дистанционно")
    application.refresh_from_db()
    expect(page.locator("#notice [data-exam-login]")).to_have_text(application.exam_credential.login)
    # The password is shown once.
    page.click("text=Показать пароль (один раз)")
    password = page.locator("[data-exam-password]").inner_text()
    application.exam_credential.refresh_from_db()
    assert application.exam_credential.check_password(password)


def test_refusal_for_71_hours_of_training(new_page, live_server, alice, victor, sergey):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = registered_application(alice, payload)

    reviewer = new_page()
    sign_in(reviewer, victor.email)
    reviewer.goto(f"/staff/applications/{application.pk}/")
    reviewer.click("text=Взять на рассмотрение")
    expect(reviewer.locator("[data-criterion=training]")).to_have_attribute("data-met", "0")
    expect(reviewer.locator("[data-criterion=training]")).to_contain_text("71 ч")
    reviewer.check("#decision-form input[value=refusal]")
    reviewer.check("#decision-form input[value=a_training]")
    reviewer.fill("#explanation", "Программа содержит 71 час по оценке условий труда, требуется не менее 72.")
    reviewer.click("text=Направить на подпись")
    expect(reviewer.locator(".alert.success")).to_contain_text("направлен на подпись")

    sign_decision(new_page, sergey, application)

    page = new_page()
    sign_in(page, alice.email)
    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("[data-status]")).to_have_text("Отказано в аттестационном испытании")
    expect(page.locator("#notice")).to_contain_text("отсутствие дополнительного профессионального образования")
    expect(page.locator("#notice")).to_contain_text("71 час")
    href = page.get_attribute("text=Скачать документ (PDF)", "href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


def test_reviewer_cannot_approve_when_a_criterion_is_unmet(new_page, live_server, alice, victor, eva):
    payload = complete_payload()
    payload["experience"][0]["date_from"] = (
        timezone.localdate().replace(year=timezone.localdate().year - 2)
    ).isoformat()
    application = registered_application(alice, payload)
    sitting = make_sitting(eva)
    services.application_start_review(application=application, by=victor)
    reviewer = new_page()
    sign_in(reviewer, victor.email)
    reviewer.goto(f"/staff/applications/{application.pk}/")
    expect(reviewer.locator("[data-criterion=experience]")).to_have_attribute("data-met", "0")
    reviewer.select_option("#sitting", str(sitting.pk))
    reviewer.click("text=Направить на подпись")
    expect(reviewer.locator(".alert.error")).to_contain_text("Допуск невозможен")
