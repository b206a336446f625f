"""The first minutes on the site: an icon for every page, sign-in back to the page asked for, a
password reset that says it worked, the password rules shown before they are broken."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_every_page_links_an_icon_and_favicon_ico_leads_to_it():
    client = Client()
    page = client.get("/").content.decode()
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert icons and all(client.get(href).status_code == 200 for href in icons)
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"


@pytest.mark.django_db
def test_sign_in_returns_to_the_page_asked_for(alice):
    client = Client()
    response = client.get(reverse("frontend:notifications"))
    assert response.status_code == 302
    login_page = response["Location"]
    assert "next=" in login_page
    page = client.get(login_page).content.decode()
    assert 'name="next" value="/cabinet/notifications/"' in page
    response = client.post(login_page, {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("frontend:notifications")


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/cabinet/", "http://testserver.evil/"])
def test_sign_in_never_leaves_the_site(alice, target):
    response = Client().post(
        reverse("frontend:login") + "?next=" + target, {"username": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("frontend:cabinet")


@pytest.mark.django_db
def test_a_password_reset_ends_with_a_message_on_the_sign_in_page(alice):
    client = Client()
    client.post(reverse("frontend:password_reset"), {"email": alice.email})
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    response = client.get(link)  # Django swaps the token for a session key and redirects
    form_url = response["Location"]
    page = client.get(form_url).content.decode()
    assert "не может состоять только из цифр" in page  # the rules, before a bad password is typed
    response = client.post(form_url, {"new_password1": "novyi-parol-2026", "new_password2": "novyi-parol-2026"})
    page = client.get(response["Location"]).content.decode()
    assert "Пароль изменён. Войдите с новым паролем." in page
    response = client.post(reverse("frontend:login"), {"username": alice.email, "password": "novyi-parol-2026"})
    assert response.status_code == 302 and response["Location"] == reverse("frontend:cabinet")


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "rule"), [("ru", "как минимум 10 символов"), ("en", "at least 10 characters")])
def test_the_registration_form_states_the_password_rules_before_they_are_broken(language, rule):
    client = Client()
    client.cookies["django_language"] = language
    page = client.get(reverse("frontend:register")).content.decode()
    assert rule in page
    assert 'aria-describedby="id_password1_helptext"' in page and 'id="id_password1_helptext"' in page
