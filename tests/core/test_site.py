"""The site's own address in e-mails, the certificate's QR code and its verification URL: the
configured SITE_URL, otherwise the address the request was served on (also for the tasks it
enqueues), otherwise SITE_URL_DEFAULT, which `make run` sets to where it serves."""

import io
import re
import subprocess

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from core.mail import ConsoleEmailBackend
from core.models import Notification
from core.site import SiteUrlMiddleware, site_url
from registry.documents import qr_url
from tests.conftest import tasks_queued
from tests.core.test_accounts import REGISTRATION


def _register(client: Client) -> str:
    """Registers on a real transaction: the e-mail task runs at its commit, inside the request."""
    client.post(reverse("frontend:register"), REGISTRATION)
    return re.search(r"https?://\S+/accounts/confirm/", mail.outbox[-1].body).group(0)


@pytest.mark.django_db(transaction=True)
def test_links_in_e_mails_follow_the_address_the_site_is_served_on(settings):
    settings.SITE_URL = ""
    link = _register(Client(HTTP_HOST="127.0.0.1:8101"))
    assert link.startswith("http://127.0.0.1:8101/accounts/confirm/")


@pytest.mark.django_db(transaction=True)
def test_a_configured_site_url_wins_over_the_request(settings):
    settings.SITE_URL = "https://attestation.example.ru"
    link = _register(Client(HTTP_HOST="127.0.0.1:8101"))
    assert link.startswith("https://attestation.example.ru/accounts/confirm/")


def test_without_a_request_the_default_address_is_used(settings):
    settings.SITE_URL, settings.SITE_URL_DEFAULT = "", "http://127.0.0.1:8101"
    assert site_url() == "http://127.0.0.1:8101"


def test_the_certificate_qr_code_and_verification_url_follow_the_site(settings, certificate):
    settings.SITE_URL, settings.SITE_URL_DEFAULT = "", "http://127.0.0.1:8101"
    assert qr_url(certificate).startswith(f"http://127.0.0.1:8101{certificate.public_url()}?d=")


@pytest.mark.django_db
def test_a_task_enqueued_while_serving_a_request_links_to_the_request_address(settings, alice):
    """The worker has no request: the address travels with the task's message."""
    from config.celery import app
    from core.tasks import notification_email

    settings.SITE_URL, settings.SITE_URL_DEFAULT = "", "http://127.0.0.1:8000"
    note = Notification.objects.create(recipient=alice, subject="Тема", body="Текст", link="/cabinet/")

    def serve(_request):
        notification_email.delay(note.pk)
        return HttpResponse()

    with tasks_queued():
        SiteUrlMiddleware(serve)(RequestFactory(HTTP_HOST="localhost:8101").get("/"))
        with app.connection_for_read() as connection:
            message = connection.SimpleQueue("celery", no_ack=True).get(timeout=5)
    assert message.headers["sout_site_url"] == "http://localhost:8101"
    notification_email.apply((note.pk,), headers=message.headers)
    assert "http://localhost:8101/cabinet/" in mail.outbox[-1].body
    assert site_url() == "http://127.0.0.1:8000"  # the worker's next task starts afresh


def test_make_run_passes_its_port_into_the_default_address(settings):
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8101"], cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert 'SITE_URL_DEFAULT="http://127.0.0.1:8101"' in result.stdout
    result = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8102"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert 'SITE_URL_DEFAULT="http://127.0.0.1:8102"' in result.stdout


def test_the_console_prints_e_mail_subjects_and_bodies_readable():
    stream = io.StringIO()
    message = EmailMessage(
        "Подтвердите адрес электронной почты", "Здравствуйте, Нина!", "Минтруд <a@mintrud.example>", ["n@example.ru"]
    )
    message.attach("уведомление.pdf", b"%PDF-1.4", "application/pdf")
    ConsoleEmailBackend(stream=stream).send_messages([message])
    printed = stream.getvalue()
    assert "Subject: Подтвердите адрес электронной почты" in printed
    assert "From: Минтруд <a@mintrud.example>" in printed
    assert "Здравствуйте, Нина!" in printed and "[уведомление.pdf: application/pdf, 8 B]" in printed
    assert "=?utf-8?" not in printed
