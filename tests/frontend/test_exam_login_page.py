"""The exam room's sign-in page, opened by every candidate within a minute at a sitting's start: an
anonymous visitor gets it without a template rendered (once per process and language), with a CSRF
token of their own that signs them in; anyone else gets it rendered for them."""

import re

import pytest
from django.test import Client

from exam.admission import services as admission
from tests.conftest import client_for


def token_in(page):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)


def test_every_anonymous_visitor_after_the_first_gets_the_page_without_rendering_it(db):
    first = Client(enforce_csrf_checks=True).get("/exam/")
    assert [t.name for t in first.templates][:1] == ["frontend/exam/login.html"]
    later = [Client(enforce_csrf_checks=True) for _ in range(2)]
    responses = [client.get("/exam/") for client in later]
    for response in responses:
        assert response.status_code == 200 and response.templates == []
        assert "Вход в систему тестирования" in response.content.decode()
        assert response["Cache-Control"].startswith("max-age=0")
    tokens = [token_in(r.content.decode()) for r in responses]
    assert all(len(t) == 2 and t[0] == t[1] for t in tokens)  # the language switch and the sign-in form
    assert tokens[0] != tokens[1]  # each their own (masked) token
    assert "placeholder" not in responses[0].content.decode()


@pytest.mark.django_db
def test_the_token_of_a_page_served_ready_signs_the_candidate_in(exam_setup):
    credential = exam_setup["credential"]
    password = admission.exam_password_issue(credential=credential, by=exam_setup["candidate"])
    Client().get("/exam/")  # someone else opened it first
    client = Client(enforce_csrf_checks=True)
    token = token_in(client.get("/exam/").content.decode())[0]
    response = client.post("/exam/", {"csrfmiddlewaretoken": token, "login": credential.login, "password": password})
    assert response.status_code == 302 and response["Location"] == "/exam/room/"


def test_a_signed_in_user_and_another_language_get_their_own_page(alice):
    Client().get("/exam/")
    assert "Алексеева А.П." in client_for(alice).get("/exam/").content.decode()
    english = Client()
    english.cookies["django_language"] = "en"
    assert "Log in to the testing system" in english.get("/exam/").content.decode()
    assert "Вход в систему тестирования" in Client().get("/exam/").content.decode()
