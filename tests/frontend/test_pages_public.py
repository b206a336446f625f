"""Public pages (issue 13): «О государственной услуге» with what p.3-6 and p.97 require, and a
complaint filed without a cabinet account once its e-mail address is confirmed, under the same
terms as one from the cabinet."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from appeals.models import Complaint, ComplaintConfirmation
from appeals.services import complaint_confirm, complaint_confirmation_request
from core import calendar
from core.errors import DomainError
from core.models import Deadline
from tests.conftest import client_for, complaint_data, form_token


def test_the_service_page_gives_what_the_regulation_requires(db, settings):
    settings.MINISTRY_PHONE = "8 (495) 000-00-00"
    page = Client().get(reverse("frontend:service")).content.decode()
    # p.5: address, hours, telephone, e-mail (configured)
    assert "127994, ГСП-4, г. Москва, ул. Ильинка, д. 21" in page
    assert "8 (495) 000-00-00" in page and "info@rosmintrud.ru" in page
    assert "9:00–16:45" in page and "12:30–13:15" in page
    # how to apply and the documents (p.15-16), the terms (p.12), the refusals (p.19, p.21)
    assert "заказным почтовым отправлением" in page
    assert "Копия трудовой книжки" in page
    assert "не позднее 20 рабочих дней со дня регистрации" in page
    assert "Неполный комплект документов" in page and "подложные документы" in page
    # p.14: the legal acts
    assert "№ 426-ФЗ «О специальной оценке условий труда»" in page and "№ 614" in page
    # p.77-97: how to complain, with the form
    assert "п. 78 «ж»" in page and "не более 15 рабочих дней" in page and "п. 92 «а»" in page
    assert f'href="{reverse("frontend:complaint_public")}"' in page


def test_the_public_navigation_leads_to_the_service_page(db):
    page = Client().get("/").content.decode()
    assert f'href="{reverse("frontend:service")}"' in page


def test_a_signed_in_candidate_is_sent_to_the_cabinet_complaint_form(alice):
    page = client_for(alice).get(reverse("frontend:service")).content.decode()
    assert f'id="complaint-link" href="{reverse("frontend:complaint_new")}"' in page
    response = client_for(alice).get(reverse("frontend:complaint_public"))
    assert response.status_code == 302 and response["Location"] == reverse("frontend:complaint_new")


def _post_public(client, **overrides):
    url = reverse("frontend:complaint_public")
    data = {**complaint_data(**{"email": "visitor@example.ru", **overrides}), **form_token(client, url)}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def _link():
    return re.search(r"https?://\S+/complaints/confirm/(\S+)/", mail.outbox[-1].body)


def test_a_visitor_files_a_complaint_after_confirming_the_address(db, hanna):
    client = Client()
    mail.outbox.clear()
    response = _post_public(client)
    assert response.status_code == 200
    assert "visitor@example.ru" in response.content.decode()
    assert not Complaint.objects.exists()  # nothing registered before the address is confirmed
    assert mail.outbox[-1].to == ["visitor@example.ru"]
    token = _link().group(1)
    confirm_url = reverse("frontend:complaint_confirm", args=[token])
    # Opening the link (a mail program may) shows the complaint; it files nothing yet.
    page = client.get(confirm_url).content.decode()
    assert "Подтвердить и подать жалобу" in page and not Complaint.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        page = client.post(confirm_url).content.decode()
    complaint = Complaint.objects.get()
    assert complaint.number in page
    assert complaint.complainant is None and complaint.channel == Complaint.Channel.PORTAL
    assert complaint.email == "visitor@example.ru"
    # The same terms as from the cabinet: subject (d) is decided in 5 working days (p.87).
    assert complaint.due_on == calendar.add_working_days(complaint.registered_on, 5)
    assert Deadline.objects.filter(case_id=complaint.pk, kind="complaint.decision").exists()
    # A second click gets the same complaint.
    client.post(confirm_url)
    assert Complaint.objects.count() == 1


def test_an_unconfirmed_complaint_expires(db):
    mail.outbox.clear()
    _post_public(Client())
    token = _link().group(1)
    confirmation = ComplaintConfirmation.objects.get()
    with time_machine.travel(confirmation.expires_at + timedelta(minutes=1), tick=False):
        with pytest.raises(DomainError):
            complaint_confirm(token=token)
        response = Client().post(reverse("frontend:complaint_confirm", args=[token]))
    assert response.status_code == 410 and not Complaint.objects.exists()


def test_a_wrong_link_files_nothing(db):
    response = Client().post(reverse("frontend:complaint_confirm", args=["not-a-token"]))
    assert response.status_code == 404 and not Complaint.objects.exists()


def test_confirmations_of_one_address_are_limited(db, settings):
    settings.COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR = 2
    for _ in range(2):
        complaint_confirmation_request(data=complaint_data(email="flood@example.ru"))
    with pytest.raises(DomainError) as refused:
        complaint_confirmation_request(data=complaint_data(email="FLOOD@example.ru"))
    assert refused.value.status == 429
    page = _post_public(Client(), email="flood@example.ru").content.decode()
    assert "Слишком много запросов" in page


def test_the_public_form_requires_an_email_address(db):
    client = Client()
    url = reverse("frontend:complaint_public")
    data = {**complaint_data(email=""), **form_token(client, url)}
    page = client.post(url, data).content.decode()
    assert "Обязательное поле" in page and not ComplaintConfirmation.objects.exists()


def test_without_a_confirmed_address_the_service_refuses_an_anonymous_portal_complaint(db):
    from appeals.services import complaint_file

    with pytest.raises(DomainError) as refused:
        complaint_file(data=complaint_data(), channel="portal")
    assert refused.value.status == 401
    with pytest.raises(DomainError):
        complaint_file(data=complaint_data(), channel="portal", verified_email="someone-else@example.ru")
