"""Accounts: self-registration with e-mail confirmation, lockout after failed logins, TOTP for staff."""

import re
from urllib.parse import unquote, urlencode

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


# --- The second factor cannot be skipped ----------------------------------------------------------


def _with_totp(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _sign_in_with_code(client, user, device, next_url=""):
    data = {"username": user.email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("frontend:login"), data)
    assert response["Location"] == reverse("frontend:login_otp")
    return client.post(reverse("frontend:login_otp"), {"token": f"{totp(device.bin_key):06d}"})


@pytest.fixture
def admin_user(db):
    from tests.conftest import make_user

    user = make_user("admin@mintrud.test", last="Админов", first="Антон", staff=True)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    user.refresh_from_db()
    return user


def test_admin_login_page_with_the_password_alone_does_not_open_the_admin(admin_user):
    device = _with_totp(admin_user)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.email, "password": PASSWORD})
    # The admin's own login form is gone: it sends to the product's login, which asks for the code.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("frontend:login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302

    response = _sign_in_with_code(client, admin_user, device, next_url="/admin/")
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_refuses_a_password_only_session_of_a_staff_member_with_totp(admin_user):
    _with_totp(admin_user)
    client = client_for(admin_user)  # signed in without the code step
    response = client.get("/admin/core/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # Sent to sign in again with the code, not to turn on a second device.
    assert client.get(response["Location"])["Location"].startswith(reverse("frontend:login"))


def test_the_admin_opens_only_to_a_session_verified_by_totp_and_sends_to_turn_it_on(admin_user):
    client = client_for(admin_user)  # a superuser who never turned TOTP on, signed in with the password
    response = client.get("/admin/core/user/", follow=True)
    setup = reverse("frontend:otp_setup") + "?" + urlencode({"next": "/admin/core/user/"})
    assert unquote(response.redirect_chain[-1][0]) == unquote(setup)
    assert "Панель администрирования открывается только после входа с кодом" in response.content.decode()

    assert client.post(setup, {"action": "start"})["Location"] == setup
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    response = client.post(setup, {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert response["Location"] == "/admin/core/user/"
    assert client.get("/admin/core/user/").status_code == 200


def test_the_admin_does_not_send_a_staff_member_to_a_foreign_site_after_turning_totp_on(admin_user):
    client = client_for(admin_user)
    setup = reverse("frontend:otp_setup") + "?" + urlencode({"next": "https://evil.example/"})
    client.post(setup, {"action": "start"})
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    response = client.post(setup, {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert response["Location"] == reverse("frontend:otp_setup")


def test_staff_pages_refuse_a_password_only_session_and_open_after_the_code(victor):
    device = _with_totp(victor)
    client = client_for(victor)
    for page in (reverse("frontend:staff_dashboard"), reverse("frontend:staff_review_queue")):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("frontend:login"))
    page = client.get(reverse("frontend:staff_review_queue"), follow=True).content.decode()
    assert "введите код из приложения-аутентификатора" in page

    _sign_in_with_code(client, victor, device)
    assert client.get(reverse("frontend:staff_review_queue")).status_code == 200


def test_password_only_session_cannot_switch_totp_off(victor):
    _with_totp(victor)
    response = client_for(victor).post(reverse("frontend:otp_setup"), {"action": "remove"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=victor, confirmed=True).exists()


def test_staff_api_refuses_a_password_only_session_with_a_russian_error(victor):
    device = _with_totp(victor)
    client = client_for(victor)
    response = client.get("/api/v1/review/queue/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "second_factor_required"
    assert "кодом из приложения-аутентификатора" in error["message"]

    _sign_in_with_code(client, victor, device)
    assert client.get("/api/v1/review/queue/").status_code == 200


def test_staff_member_who_just_turned_totp_on_keeps_working_in_the_same_session(victor):
    client = client_for(victor)
    client.post(reverse("frontend:otp_setup"), {"action": "start"})
    device = TOTPDevice.objects.get(user=victor, confirmed=False)
    client.post(reverse("frontend:otp_setup"), {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert TOTPDevice.objects.filter(user=victor, confirmed=True).exists()
    assert client.get(reverse("frontend:staff_review_queue")).status_code == 200
