"""The words a person reads: the file's journal names what was done and the states in words; the
cabinet's messages, units and areas of activity follow the language of the page; counts agree with
their nouns."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Notification
from core.services import notification_send
from tests.conftest import client_for, complaint_data, registered_application


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def journal(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page[page.index("<li data-verb") :])


def test_the_file_journal_says_what_was_done_and_the_states_in_words(alice, victor):
    application = registered_application(alice)
    page = client_for(victor).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    text = journal(page)
    assert "Приложение документа" in text and "Регистрация заявления" in text and "Просмотр дела" in text
    assert "(Черновик → Зарегистрировано)" in text
    for code in ("attachment_add", "file_view", "register", "draft", "registered"):
        assert not re.search(rf"(?<![\w-]){code}(?![\w-])", text), code


def test_the_audit_page_names_the_operations_and_states(alice, audrey):
    registered_application(alice)
    page = client_for(audrey).get(reverse("frontend:staff_audit")).content.decode()
    assert "Смена состояния: Регистрация заявления" in page and "Черновик → Зарегистрировано" in page
    assert "Событие: Регистрация учётной записи" not in page or "account_register" not in page


def test_a_verb_of_an_older_version_is_not_shown_as_code(alice, audrey):
    from core.services import audit_record

    audit_record(case=alice, actor=None, verb="retired_verb_of_2025", action="event")
    page = client_for(audrey).get(reverse("frontend:staff_audit")).content.decode()
    assert "retired_verb_of_2025" not in page.replace('data-verb="retired_verb_of_2025"', "")
    assert "Иная операция" in page


def test_cabinet_messages_follow_the_language_of_the_page(alice):
    application = registered_application(alice)
    number = application.registration_number
    russian = client_for(alice).get(reverse("frontend:notifications")).content.decode()
    assert f"Заявление зарегистрировано: № {number}" in russian
    page = english(client_for(alice)).get(reverse("frontend:notifications")).content.decode()
    assert f"Application registered: No. {number}" in page
    assert f"Заявление зарегистрировано: № {number}" not in page
    # The e-mail and the stored text stay Russian, as before.
    note = Notification.objects.get(recipient=alice, subject__startswith="Заявление зарегистрировано")
    assert note.texts["en"]["subject"] == f"Application registered: No. {number}"


def test_a_message_stored_before_the_languages_is_shown_as_stored(alice):
    Notification.objects.create(recipient=alice, subject="Старое уведомление", body="Текст на русском")
    notification_send(recipient=alice, subject="Слова сотрудника", body="Как написаны")  # a person's words
    page = english(client_for(alice)).get(reverse("frontend:notifications")).content.decode()
    assert "Старое уведомление" in page and "Текст на русском" in page and "Слова сотрудника" in page


def test_the_api_gives_messages_in_the_language_asked_for(alice):
    application = registered_application(alice)
    response = client_for(alice).get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    data = response.json()
    subjects = [n["subject"] for n in (data["results"] if isinstance(data, dict) else data)]
    assert f"Application registered: No. {application.registration_number}" in subjects


def test_hours_follow_the_language_of_the_page(alice, victor):
    application = registered_application(alice)
    url = reverse("frontend:staff_application", args=[application.pk])
    assert re.search(r"<b>\d+ ч</b>", client_for(victor).get(url).content.decode())
    page = english(client_for(victor)).get(url).content.decode()
    assert re.search(r"<b>\d+ h</b>", page) and not re.search(r"\d+ ч\b", page), re.findall(r".{80}\d+ ч\b", page)


def test_areas_of_activity_follow_the_language_of_the_page(certificate):
    url = reverse("frontend:registry_entry", args=[certificate.number])
    page = Client().get(url).content.decode()
    assert "Проведение специальной оценки условий труда" in page
    page = english(Client()).get(url).content.decode()
    assert "Special assessment of working conditions" in page
    assert "Проведение специальной оценки условий труда" not in page
    search = english(Client()).get(reverse("frontend:registry")).content.decode()
    assert "Special assessment of working conditions" in search


@pytest.mark.parametrize(("complaints", "said"), [(1, "<b>1</b>дело в работе"), (5, "<b>5</b>дел в работе")])
def test_the_dashboard_counts_cases_in_agreement(rita, hanna, complaints, said):
    from django.utils import timezone

    from appeals.services import complaint_file

    for n in range(complaints):
        complaint_file(
            data=complaint_data(email="", last_name=f"Заявителев{'а' * n}"),
            channel="mail",
            registered_by=rita,
            received_at=timezone.now(),
        )
    page = client_for(hanna).get(reverse("frontend:staff_dashboard")).content.decode()
    assert said in page
