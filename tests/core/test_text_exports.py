"""Rows stored before the text rule may hold control characters: no page or export fails on them,
and each export drops what its format cannot hold."""

import io
import logging

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from openpyxl import load_workbook

from core.services import notification_send
from exam.models import Question, QuestionVersion, Topic
from tests.conftest import client_for, published_certificate


def _stored_question(text):
    topic = Topic.objects.create(code="T1", title="Тема\x07 с колокольчиком", order=1)
    question = Question.objects.create(code="Q\x1b1", topic=topic)
    question.current = QuestionVersion.objects.create(
        question=question, number=1, text=text, options=["один\x0b", "два", "три"], correct=[0]
    )
    question.save(update_fields=["current"])
    return question


def test_the_xlsx_export_of_the_bank_with_a_control_character_answers_and_opens(eva):
    _stored_question("Сколько\x07 лет?\x1b[31m")
    response = client_for(eva).get(reverse("frontend:bank_export", args=["xlsx"]))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:5] == ("Q1", "T1", "Тема с колокольчиком", "Сколько лет?[31m", "один")


def test_the_json_export_of_the_bank_keeps_control_characters_escaped(eva):
    _stored_question("Сколько\x07 лет?")
    response = client_for(eva).get(reverse("frontend:bank_export", args=["json"]))
    assert response.status_code == 200 and "\\u0007" in response.content.decode()


def test_the_open_data_csv_drops_control_characters_of_stored_names(db):
    published_certificate("2025-00001", "Иванов\x1b[2J", "Иван\x07")
    response = Client().get("/api/v1/registry/open-data.csv")
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert "2025-00001,Иванов[2J,Иван," in body and "\x1b" not in body and "\x07" not in body


def test_a_pdf_of_a_name_with_control_characters_renders_without_missing_glyphs(db, caplog):
    from registry.documents import render_certificate_pdf

    certificate = published_certificate("2025-00002", "Петров\x85", "Пётр\x9b")
    with caplog.at_level(logging.WARNING):
        pdf = render_certificate_pdf(certificate=certificate)
    assert pdf.startswith(b"%PDF-")
    assert not [r for r in caplog.records if "notdef" in r.getMessage()]


def test_a_notification_about_a_name_with_a_line_break_is_e_mailed_with_a_one_line_subject(alice):
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        note = notification_send(recipient=alice, subject="Решение: Иванов\nBcc: x@evil.test\x07", body="Текст")
    assert note.subject == "Решение: Иванов Bcc: x@evil.test"
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == note.subject


def test_pages_showing_stored_control_characters_answer(db):
    certificate = published_certificate("2025-00003", "Сидоров\x07", "Сидор\x1b")
    assert Client().get(reverse("frontend:registry_entry", args=[certificate.number])).status_code == 200
    assert Client().get(reverse("frontend:registry"), {"q": "2025-00003"}).status_code == 200
