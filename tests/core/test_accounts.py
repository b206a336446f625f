"""Accounts: self-registration with e-mail confirmation, lockout after failed logins, TOTP for staff."""

import re

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import User
from tests.conftest import PASSWORD, client_for

REGISTRATION = {
    "last_name": "Новикова",
    "first_name": "Нина",
    "patronymic": "",
    "email": "Nina@Example.ru",
    "password1": "svetlyi-den-2026",
    "password2": "svetlyi-den-2026",
}


def login(client, email, password):
    return client.post(reverse("frontend:login"), {"username": email, "password": password})


@pytest.mark.django_db
def test_candidate_registers_confirms_the_email_and_signs_in():
    client = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("frontend:register"), REGISTRATION)
    assert response.status_code == 200
    assert "Подтвердите адрес электронной почты" in response.content.decode()
    user = User.objects.get(email="nina@example.ru")
    assert user.email_confirmed_at is None
    # Before confirming, sign-in is refused with a clear message.
    response = login(client, "nina@example.ru", "svetlyi-den-2026")
    assert "не подтверждён" in response.content.decode()
    link = re.search(r"http://\S+/accounts/confirm/\S+/", mail.outbox[0].body).group(0)
    response = client.get(link.split("8000", 1)[-1] if "8000" in link else link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    response = login(client, "nina@example.ru", "svetlyi-den-2026")
    assert response.status_code == 302 and response["Location"] == reverse("frontend:cabinet")


@pytest.mark.django_db
def test_registration_errors_are_in_russian_and_nothing_is_created(alice):
    client = Client()
    bad = dict(REGISTRATION, email="alice@example.ru", last_name="Н0викова", password2="другой-пароль")
    page = client.post(reverse("frontend:register"), bad).content.decode()
    assert "Допустимы только буквы" in page
    assert "Пароли не совпадают" in page
    assert User.objects.count() == 1
    page = client.post(reverse("frontend:register"), dict(REGISTRATION, email="alice@example.ru")).content.decode()
    assert "уже зарегистрирован" in page
    page = client.post(
        reverse("frontend:register"), dict(REGISTRATION, password1="12345", password2="12345")
    ).content.decode()
    assert "Введённый пароль слишком короткий" in page or "слишком короткий" in page


@pytest.mark.django_db
def test_confirmation_link_that_was_tampered_with_is_refused():
    response = Client().get(reverse("frontend:confirm_email", args=["not-a-token"]), follow=True)
    assert "Ссылка недействительна" in response.content.decode()


def test_repeated_failed_logins_lock_the_account(alice, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, alice.email, "wrong-password")
        assert "Неверная электронная почта или пароль" in response.content.decode()
    response = login(client, alice.email, "wrong-password")
    assert response.status_code == 429
    assert "заблокирована" in response.content.decode()
    # Even the right password is refused while the lock holds, from any browser.
    response = login(Client(), alice.email, PASSWORD)
    assert response.status_code == 429


def test_lockout_ends_after_the_cool_off(alice, settings):
    import datetime

    import time_machine

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), alice.email, "wrong-password")
    with time_machine.travel(datetime.datetime.now() + settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)):
        response = login(Client(), alice.email, PASSWORD)
    assert response.status_code == 302


def test_staff_turns_on_totp_and_then_signs_in_with_a_code(victor):
    client = client_for(victor)
    client.post(reverse("frontend:otp_setup"), {"action": "start"})
    device = TOTPDevice.objects.get(user=victor, confirmed=False)
    page = client.get(reverse("frontend:otp_setup")).content.decode()
    assert "<svg" in page  # the QR code to scan
    response = client.post(
        reverse("frontend:otp_setup"),
        {"action": "confirm", "token": "000000" if totp(device.bin_key) != 0 else "111111"},
    )
    assert "Неверный код" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # the wrong try throttles a second
    client.post(reverse("frontend:otp_setup"), {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    device.refresh_from_db()
    assert device.confirmed

    fresh = Client()
    response = login(fresh, victor.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("frontend:login_otp")
    assert fresh.get(reverse("frontend:staff_dashboard")).status_code == 302  # not signed in yet
    response = fresh.post(reverse("frontend:login_otp"), {"token": "12345x"})
    assert "Неверный код" in response.content.decode() or "6" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, last_t=-1)
    response = fresh.post(reverse("frontend:login_otp"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert fresh.get(reverse("frontend:staff_dashboard")).status_code == 200


def test_candidates_cannot_turn_on_totp(alice):
    response = client_for(alice).post(reverse("frontend:otp_setup"), {"action": "start"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()
