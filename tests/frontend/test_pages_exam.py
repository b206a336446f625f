"""Pages of the exam administrator: the bank, the blueprint, statistics, the live monitor."""

from django.urls import reverse

from core.models import AuditEvent
from exam.models import BlueprintItem
from exam.testing.services import attempts as service
from tests.conftest import client_for


def test_bank_page_lists_questions_and_saves_the_blueprint(exam_setup, eva):
    client = client_for(eva)
    page = client.get(reverse("frontend:bank")).content.decode()
    assert "Q0001" in page and "data-blueprint-total>40<" in page
    response = client.post(reverse("frontend:bank_blueprint"), {"count_T1": "10", "count_T2": "30"}, follow=True)
    assert "недостаточно" not in response.content.decode()
    assert "В теме только 25 действующих вопросов" in response.content.decode()
    assert {b.topic.code: b.count for b in BlueprintItem.objects.all()} == {"T1": 20, "T2": 20}
    client.post(reverse("frontend:bank_blueprint"), {"count_T1": "15", "count_T2": "25"})
    assert {b.topic.code: b.count for b in BlueprintItem.objects.all()} == {"T1": 15, "T2": 25}


def test_exports_download(exam_setup, eva):
    client = client_for(eva)
    json_response = client.get(reverse("frontend:bank_export", args=["json"]))
    assert json_response.status_code == 200 and b'"format": "sout-question-bank/1"' in json_response.content
    xlsx = client.get(reverse("frontend:bank_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_monitor_shows_the_sitting_and_extra_time_is_granted_from_it(exam_setup, eva):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    client = client_for(eva)
    page = client.get(reverse("frontend:sitting_monitor", args=[exam_setup["sitting"].pk])).content.decode()
    assert "Алексеева Алиса Петровна" in page and f'data-attempt="{attempt.pk}"' in page
    response = client.post(
        reverse("frontend:attempt_extra_time", args=[attempt.pk]), {"minutes": "5", "reason": "Сбой связи"}, follow=True
    )
    assert "Время добавлено" in response.content.decode()
    assert AuditEvent.objects.filter(verb="attempt_extra_time", actor=eva).exists()
    response = client.post(
        reverse("frontend:attempt_extra_time", args=[attempt.pk]), {"minutes": "500", "reason": ""}, follow=True
    )
    assert "Время добавлено" not in response.content.decode()


def test_statistics_page_renders(exam_setup, eva):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    service.attempt_submit(attempt=attempt, session_key="k")
    page = client_for(eva).get(reverse("frontend:bank_stats")).content.decode()
    assert page.count("data-question=") == 40
