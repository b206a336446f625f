"""Pages of the exam administrator: the bank, the blueprint, statistics, the live monitor."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from exam.models import AttemptInterruption, BlueprintItem
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


def test_monitor_records_an_interruption_and_restores_its_time_within_the_bound(exam_setup, eva):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    client = client_for(eva)
    monitor = reverse("frontend:sitting_monitor", args=[exam_setup["sitting"].pk])
    page = client.get(monitor).content.decode()
    assert "Алексеева Алиса Петровна" in page and f'data-attempt="{attempt.pk}"' in page
    assert "Отметить перерыв" in page and 'name="interruption"' not in page
    # No recorded interruption, no extra time.
    response = client.post(
        reverse("frontend:attempt_extra_time", args=[attempt.pk]), {"interruption": "0", "minutes": "5"}, follow=True
    )
    assert "Время добавлено" not in response.content.decode() and "Перерыв не найден" in response.content.decode()

    start = timezone.localtime(attempt.started_at).replace(second=0, microsecond=0)
    with time_machine.travel(attempt.started_at + timedelta(minutes=10), tick=False):
        response = client.post(
            reverse("frontend:attempt_interruption", args=[attempt.pk]),
            {
                "cause": "service_failure",
                "started_at": (start + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
                "ended_at": (start + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                "reason": "Сервер тестирования не отвечал",
            },
            follow=True,
        )
        page = response.content.decode()
        assert "Перерыв отмечен" in page and "потеряно 3 мин" in page
        lost = AttemptInterruption.objects.get(attempt=attempt)
        assert f'value="{lost.pk}"' in page and 'max="5"' in page
        url = reverse("frontend:attempt_extra_time", args=[attempt.pk])
        response = client.post(url, {"interruption": lost.pk, "minutes": "6"}, follow=True)
        assert "Время добавлено" not in response.content.decode()
        assert "Можно добавить не более 5 минут" in response.content.decode()
        response = client.post(url, {"interruption": lost.pk, "minutes": "5"}, follow=True)
    page = response.content.decode()
    assert "Время добавлено" in page and "добавлено 5 минут" in page
    assert AuditEvent.objects.filter(verb="attempt_extra_time", actor=eva).exists()


def test_statistics_page_renders(exam_setup, eva):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    service.attempt_submit(attempt=attempt, session_key="k")
    page = client_for(eva).get(reverse("frontend:bank_stats")).content.decode()
    assert page.count("data-question=") == 40
