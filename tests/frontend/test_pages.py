"""Server-rendered pages: the application form with repeatable entries, signing, the staff file,
registration of a paper application, sittings, the language switch and error pages."""

import re

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from exam.admission import services
from exam.models import Application, Attachment
from tests.conftest import client_for, complete_payload, form_token, registered_application


def form_data(payload, *, next_step="stay"):
    """The page's POST for a payload in the API shape (prefix a- and one formset per section)."""
    data = {
        f"a-{k}": ("on" if v is True else v)
        for k, v in payload.items()
        if not isinstance(v, list) and v not in (None, False)
    }
    for section in ("higher_education", "additional_education", "experience"):
        rows = payload[section]
        data[f"{section}-TOTAL_FORMS"] = str(len(rows))
        data[f"{section}-INITIAL_FORMS"] = "0"
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{section}-{i}-{key}"] = "" if value is None else value
    data["next"] = next_step
    return data


def test_home_page_describes_the_service_in_russian():
    page = Client().get("/").content.decode()
    assert "Аттестация на право выполнения работ по специальной оценке условий труда" in page
    assert "не менее 72 часов" in page


def test_language_switch_shows_english(db):
    client = Client()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="en"' in page
    assert "Sign in" in page or "Register" in page


def test_candidate_fills_the_form_page_with_entries(alice):
    client = client_for(alice)
    response = client.post(reverse("frontend:cabinet_application_new"))
    application = Application.objects.get(candidate=alice)
    assert response["Location"] == reverse("frontend:cabinet_application_edit", args=[application.pk])
    response = client.post(response["Location"], form_data(complete_payload()))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.id_document_number == "45 10 123456"
    assert application.additional_education.get().assessment_hours == 72
    page = client.get(reverse("frontend:cabinet_application_edit", args=[application.pk])).content.decode()
    assert "АНО ДПО «Охрана труда»</textarea>" in page  # a long field wraps (issue 13)


def test_form_page_shows_russian_errors_and_saves_nothing(alice):
    client = client_for(alice)
    application = services.application_start(candidate=alice)
    payload = complete_payload(phone="звоните")
    payload["experience"][0]["date_from"] = "2099-01-01"
    page = client.post(
        reverse("frontend:cabinet_application_edit", args=[application.pk]), form_data(payload)
    ).content.decode()
    assert "Укажите телефон цифрами" in page
    assert "Дата не может быть в будущем" in page
    assert "Черновик не сохранён" in page
    application.refresh_from_db()
    assert application.id_document_number == "" and not application.experience.exists()


def test_removing_an_entry_on_the_page(alice):
    client = client_for(alice)
    application = services.application_start(candidate=alice)
    url = reverse("frontend:cabinet_application_edit", args=[application.pk])
    payload = complete_payload()
    payload["experience"].append(dict(payload["experience"][0], employer="ООО «Второй»"))
    client.post(url, form_data(payload))
    assert application.experience.count() == 2
    data = form_data(payload)
    data["experience-1-DELETE"] = "on"
    client.post(url, data)
    assert list(application.experience.values_list("employer", flat=True)) == ["ООО «Центр СОУТ»"]


def test_upload_refusal_is_shown_on_the_page(alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(alice)
    application = services.application_start(candidate=alice)
    exe = SimpleUploadedFile("diploma.pdf", b"MZ" + b"\x00" * 100)
    response = client.post(
        reverse("frontend:cabinet_attachment_add", args=[application.pk]),
        {"kind": "higher_education", "file": exe},
        follow=True,
    )
    assert "не является документом PDF, JPEG или PNG" in response.content.decode()
    assert not Attachment.objects.exists()


def test_sign_page_lists_what_is_missing_and_submits_with_the_code(alice):
    from tests.conftest import fill_application

    client = client_for(alice)
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    page = client.get(reverse("frontend:cabinet_application_sign", args=[application.pk])).content.decode()
    assert "Комплект неполный" in page and "п. 15 «б»" in page
    from tests.conftest import upload

    for kind in Attachment.Kind.values:
        services.attachment_add(application=application, by=alice, kind=kind, upload=upload())
    url = reverse("frontend:cabinet_application_sign", args=[application.pk])
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(url, {"action": "send"})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page = client.post(url, {"action": "submit", "code": "12"}).content.decode()
    assert "6 цифр" in page or "символов" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, {"action": "submit", "code": code}, follow=True)
    application.refresh_from_db()
    page = response.content.decode()
    assert application.status == "registered"
    assert f"регистрационный номер {application.registration_number}" in page
    assert "data-registration-number>" + application.registration_number in page


def test_staff_file_shows_criteria_and_a_valid_signature(alice, victor):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = registered_application(alice, payload)
    page = client_for(victor).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert 'data-criterion="training" data-met="0"' in page
    assert 'data-criterion="higher_education" data-met="1"' in page
    assert 'data-signature="valid"' in page
    assert "Взять на рассмотрение" in page


def test_reviewer_drafts_and_signatory_signs_through_the_pages(alice, victor, sergey, sitting):
    application = registered_application(alice)
    reviewer = client_for(victor)
    reviewer.post(reverse("frontend:staff_application_take", args=[application.pk]))
    response = reviewer.post(
        reverse("frontend:staff_decision_draft", args=[application.pk]),
        {"kind": "admission", "sitting": sitting.pk},
        follow=True,
    )
    assert "Проект решения направлен на подпись" in response.content.decode()
    decision = application.decisions.get()
    signatory = client_for(sergey)
    assert "На подпись" in signatory.get(reverse("frontend:staff_signing_queue")).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signatory.post(reverse("frontend:staff_decision_sign", args=[decision.pk]), follow=True)
    assert "Решение подписано" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "admitted"
    page = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk])).content.decode()
    assert "data-exam-login>" + application.exam_credential.login in page
    response = client_for(alice).post(reverse("frontend:cabinet_exam_password", args=[application.pk]))
    password = re.search(r"data-exam-password>([^<]+)<", response.content.decode()).group(1)
    application.exam_credential.refresh_from_db()
    assert application.exam_credential.check_password(password)
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    pdf = client_for(alice).get(reverse("frontend:cabinet_notice_pdf", args=[application.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_registrar_registers_a_paper_application_through_the_page(rita):
    from django.utils import timezone

    data = form_data(complete_payload())
    data.pop("next")
    data = {k.replace("a-", "a-", 1): v for k, v in data.items()}
    data.update(
        {
            "r-channel": "in_person",
            "r-received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "r-paper_documents": list(Attachment.Kind.values),
        }
    )
    client, url = client_for(rita), reverse("frontend:staff_paper_new")
    response = client.post(url, {**data, **form_token(client, url, prefix="r")}, follow=True)
    application = Application.objects.get()
    assert application.status == "registered"
    assert f"Заявление зарегистрировано: № {application.registration_number}" in response.content.decode()


def test_exam_administrator_schedules_a_sitting(eva):
    from datetime import timedelta

    from django.utils import timezone

    client, url = client_for(eva), reverse("frontend:staff_sittings")
    start = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    response = client.post(
        url,
        {"starts_at": start, "entry_window_minutes": 60, "is_remote": "on", "capacity": 30, **form_token(client, url)},
        follow=True,
    )
    assert "Сеанс назначен" in response.content.decode()
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    page = client.post(
        url, {"starts_at": past, "entry_window_minutes": 60, "capacity": 30, **form_token(client, url)}
    ).content.decode()
    assert "Сеанс назначается на будущее время" in page
    assert "Укажите место проведения" in page


def test_auditor_reads_the_audit_trail(alice, audrey):
    registered_application(alice)
    page = client_for(audrey).get(reverse("frontend:staff_audit") + "?action=transition").content.decode()
    assert "register" in page and "Алексеева" in page


def test_unknown_page_is_a_russian_404(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()


def test_pages_are_russian_whatever_the_browser_asks_until_english_is_chosen(db):
    client = Client()
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="ru"' in page and "Регистрация" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Registration" in client.get("/").content.decode()


def test_the_menu_and_footer_kept_per_process_follow_each_language(db):
    """The public menu and the footer are rendered once per language and process (base.html)."""
    russian, english = Client(), Client()
    english.cookies["django_language"] = "en"
    for _ in range(2):  # the second time from the fragment cache
        ru, en = russian.get("/exam/").content.decode(), english.get("/exam/").content.decode()
        assert "Регистрация" in ru and "Порядок обжалования" in ru and "Registration" not in ru
        assert "Registration" in en and "Регистрация" not in en and "Порядок обжалования" not in en


def test_api_errors_follow_accept_language(alice):
    client = client_for(alice)
    response = client.get("/api/v1/applications/999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Application not found."


def test_registrar_prints_the_notice_with_a_one_time_password_for_a_paper_application(rita, victor, sergey, sitting):
    from io import BytesIO

    from django.utils import timezone
    from pypdf import PdfReader

    from tests.conftest import cleaned

    application = services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload()),
        paper_documents=list(Attachment.Kind.values),
    )
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    page = client_for(rita).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert "Распечатать уведомление с паролем" in page
    response = client_for(rita).post(reverse("frontend:staff_exam_password", args=[application.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    password = re.search(r"Пароль системы\s+тестирования\s+(\S{12})", text).group(1)
    application.exam_credential.refresh_from_db()
    assert application.exam_credential.check_password(password)
    # The reviewer may not print it: only the registrar, only for paper applications.
    assert client_for(victor).post(reverse("frontend:staff_exam_password", args=[application.pk])).status_code == 404
