"""Every date a person types is bounded by its meaning, with a clear Russian message (core.dates)."""

import json
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Complaint
from core import calendar
from core.errors import DomainError
from core.idempotency import new_token
from tests.conftest import client_for, complaint_data, complete_payload


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("received", "message"),
    [
        ("1800-01-01T10:00", "раньше чем 30 дней назад"),
        (_local(timezone.now() + timedelta(days=1)), "не может быть в будущем"),
        (_local(timezone.now() - timedelta(days=31)), "раньше чем 30 дней назад"),
    ],
)
def test_a_paper_complaint_received_in_1800_tomorrow_or_long_ago_is_refused(rita, received, message):
    data = complaint_data(channel="mail", received_at=received)
    page = client_for(rita).post(reverse("frontend:complaint_paper"), {**data, "form_token": new_token()})
    page = page.content.decode()
    assert message in page
    assert not Complaint.objects.exists()


def test_the_complaint_service_bounds_the_receipt_date_too(rita):
    for received in (timezone.now().replace(year=1800), timezone.now() - timedelta(days=31)):
        with pytest.raises(DomainError) as err:
            appeals.complaint_file(data=complaint_data(), channel="mail", registered_by=rita, received_at=received)
        assert "received_at" in err.value.fields and "проверьте дату" in err.value.message
    complaint = appeals.complaint_file(
        data=complaint_data(), channel="mail", registered_by=rita, received_at=timezone.now() - timedelta(days=29)
    )
    assert complaint.pk


def test_a_paper_application_received_in_1800_is_refused_on_the_page(rita):
    from tests.frontend.test_pages import form_data

    data = form_data(complete_payload())
    data.pop("next")
    data.update({"r-channel": "in_person", "r-received_at": "1800-01-01T10:00", "r-form_token": new_token()})
    page = client_for(rita).post(reverse("frontend:staff_paper_new"), data).content.decode()
    assert "раньше чем 30 дней назад" in page


@pytest.fixture
def draft(alice):
    client = client_for(alice)
    return client, client.post("/api/v1/applications/", content_type="application/json").json()["id"]


def _put(draft, payload):
    client, pk = draft
    return client.put(f"/api/v1/applications/{pk}/", json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize(
    "where",
    [
        ("higher_education", "document_date"),
        ("additional_education", "document_date"),
        ("experience", "date_from"),
        (None, "id_document_issued_on"),
    ],
)
def test_document_dates_81_years_ago_or_in_the_future_are_refused(draft, where):
    section, name = where
    today = calendar.today()
    for day, message in (
        (today - relativedelta(years=81), "более 80 лет назад"),
        (today + timedelta(days=1), "не может быть в будущем"),
    ):
        payload = complete_payload()
        (payload[section][0] if section else payload)[name] = day.isoformat()
        response = _put(draft, payload)
        assert response.status_code == 400
        messages = [m for ms in response.json()["error"]["fields"].values() for m in ms]
        assert any(message in m for m in messages), messages
    payload = complete_payload()
    (payload[section][0] if section else payload)[name] = (today - relativedelta(years=79)).isoformat()
    assert _put(draft, payload).status_code == 200


def test_a_sitting_more_than_a_year_ahead_is_refused(eva):
    far = _local(timezone.now() + timedelta(days=400))
    page = client_for(eva).post(
        reverse("frontend:staff_sittings"),
        {"starts_at": far, "entry_window_minutes": 60, "capacity": 30, "form_token": new_token()},
    )
    assert "не более чем на 365 дней вперёд" in page.content.decode()


@pytest.mark.parametrize("period", [{"from": "0001-01-01", "to": "0001-01-05"}, {"from": "9999-12-01"}])
def test_a_report_period_of_absurd_dates_is_explained_not_a_500(audrey, period):
    response = client_for(audrey).get(reverse("frontend:report"), period)
    assert response.status_code == 200
    assert "допустимы даты с 01.01.1900 по 31.12.2200" in response.content.decode()


def test_the_changes_feed_refuses_a_moment_in_year_one(db):
    from django.test import Client

    response = Client().get("/api/v1/registry/changes/", {"since": "0001-01-01T00:00:00+03:00"})
    assert response.status_code == 400
