"""Odd text through every way in — the JSON API, the pages, the bank import and editor, query
strings — never gives a 500 and is never stored as given: refused with a Russian message, or stored
as the text rule (core.text) makes it."""

import io
import itertools
import json
import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appeals.models import Appeal, Complaint
from core.idempotency import new_token
from core.models import User
from core.text import TextError, clean_text
from exam import forms as exam_forms
from exam.models import Application, Question
from registry.models import Annulment, AnnulmentReason
from tests.conftest import (
    client_for,
    complaint_data,
    complete_payload,
    exam_client,
    pass_the_test,
    published_certificate,
)
from tests.core.test_text import NASTY, NASTY_WITHOUT_SURROGATES, RUSSIAN

SLOW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_unique = itertools.count()


def expected(value, *, max_length, multiline=False):
    """What the rule stores for ``value``, or None when it refuses it."""
    try:
        return clean_text(value, max_length=max_length, multiline=multiline)
    except TextError:
        return None


def assert_refused_in_russian(response):
    """A 400 with the API's error shape and a Russian message."""
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert RUSSIAN.search(error["message"])
    assert all(RUSSIAN.search(m) for messages in error["fields"].values() for m in messages)


def assert_page_answered(response):
    """Never a 500: the page again with its errors (200), a redirect after saving (302), or the
    request guard's 400 for NUL, which says what was wrong."""
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 400:
        assert "нулевой символ" in response.content.decode()


# --- The JSON API ----------------------------------------------------------------------------------

DRAFT_FIELDS = [
    (None, "last_name", exam_forms.ApplicantForm),
    (None, "id_document_issuer", exam_forms.ApplicantForm),
    (None, "postal_address", exam_forms.ApplicantForm),
    ("higher_education", "institution", exam_forms.HigherEducationForm),
    ("additional_education", "programme", exam_forms.AdditionalEducationForm),
    ("experience", "works", exam_forms.ExperienceForm),
]


@pytest.fixture
def draft(alice):
    client = client_for(alice)
    pk = client.post("/api/v1/applications/", content_type="application/json").json()["id"]
    return client, pk


@SLOW
@given(where=st.sampled_from(DRAFT_FIELDS), value=NASTY)
def test_the_application_api_refuses_or_normalises_any_text(draft, where, value):
    client, pk = draft
    section, name, form_class = where
    payload = complete_payload()
    if section:
        payload[section][0][name] = value
    else:
        payload[name] = value
    # json.dumps escapes a lone surrogate as \ud800, as a client's JSON library would send it.
    response = client.put(f"/api/v1/applications/{pk}/", json.dumps(payload), content_type="application/json")
    field = form_class.base_fields[name]
    clean = expected(value, max_length=field.max_length, multiline=field.multiline)
    if response.status_code != 200:
        assert_refused_in_russian(response)
        return
    application = Application.objects.get(pk=pk)
    stored = getattr(getattr(application, section).get(), name) if section else getattr(application, name)
    assert clean is not None and stored == clean


def test_a_lone_surrogate_anywhere_in_an_api_body_is_a_structured_400(draft):
    client, pk = draft
    body = json.dumps(complete_payload(unknown_field="\ud800", phone="+7 495 123-45-67"))
    assert_refused_in_russian(client.put(f"/api/v1/applications/{pk}/", body, content_type="application/json"))
    response = client.put(f"/api/v1/applications/{pk}/", json.dumps({"\ud800": 1}), content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_text"


def test_the_exam_room_api_refuses_a_lone_surrogate_in_answers_events_and_login(exam_setup):
    room, _password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    assert room.post("/exam/room/", {"personally": "on"}).status_code == 302
    # The answer save's fast path, which skips DRF, and the events nobody validates field by field.
    answer = room.put(
        "/api/v1/exam/attempt/answers/1/",
        json.dumps({"answer": ["\ud800"], "seq": 1}),
        content_type="application/json",
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_text"
    event = room.post(
        "/api/v1/exam/attempt/events/",
        json.dumps({"kind": "copy", "data": {"text": "скопировано\ud800", "nul": "\u0000"}}),
        content_type="application/json",
    )
    assert event.status_code == 400 and event.json()["error"]["code"] == "invalid_text"
    login = Client().post(
        "/api/v1/exam/login/",
        json.dumps({"login": exam_setup["credential"].login, "password": "\udfff"}),
        content_type="application/json",
    )
    assert login.status_code == 400
    # An ordinary save still works through the same path.
    state = room.get("/api/v1/exam/attempt/").json()
    option = state["items"][0]["options"][0]["id"]
    ok = room.put(
        "/api/v1/exam/attempt/answers/1/", json.dumps({"answer": [option], "seq": 2}), content_type="application/json"
    )
    assert ok.status_code == 200


def test_exam_room_events_sent_without_the_parser_are_stored_without_what_the_database_refuses(exam_setup):
    from exam.testing.services.attempts import attempt_record_event, attempt_start

    attempt = attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    event = attempt_record_event(
        attempt=attempt, session_key="k", kind="copy", data={"text\x00": "a\ud800b\x00c"}, ip=None
    )
    event.refresh_from_db()
    assert event.data == {"text": "abc"}


# --- Pages -----------------------------------------------------------------------------------------

COMPLAINT_TEXT_FIELDS = ["official", "last_name", "residence", "decision_complained", "arguments", "phone"]


def _complaint_field(name):
    from appeals.forms import ComplaintForm

    field = ComplaintForm.base_fields[name]
    return field.max_length, field.multiline


@SLOW
@given(name=st.sampled_from(COMPLAINT_TEXT_FIELDS), value=NASTY_WITHOUT_SURROGATES)
def test_the_complaint_form_refuses_or_normalises_any_text(alice, name, value):
    before = set(Complaint.objects.values_list("pk", flat=True))
    data = {**complaint_data(**{name: value}), "form_token": new_token()}
    response = client_for(alice).post(reverse("frontend:complaint_new"), data)
    assert_page_answered(response)
    created = Complaint.objects.exclude(pk__in=before).first()
    if created is None:
        return
    max_length, multiline = _complaint_field(name)
    assert getattr(created, name) == expected(value, max_length=max_length, multiline=multiline)


@SLOW
@given(name=st.sampled_from(["official", "arguments", "residence"]), value=NASTY_WITHOUT_SURROGATES)
def test_the_paper_complaint_form_refuses_or_normalises_any_text(rita, name, value):
    before = set(Complaint.objects.values_list("pk", flat=True))
    data = complaint_data(channel="mail", received_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"), **{name: value})
    data["form_token"] = new_token()
    assert_page_answered(client_for(rita).post(reverse("frontend:complaint_paper"), data))
    created = Complaint.objects.exclude(pk__in=before).first()
    if created is not None:
        max_length, multiline = _complaint_field(name)
        assert getattr(created, name) == expected(value, max_length=max_length, multiline=multiline)


@pytest.fixture
def finished_attempt(exam_setup):
    return pass_the_test(exam_setup["credential"], correct=30)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=NASTY_WITHOUT_SURROGATES)
def test_the_appeal_form_refuses_or_normalises_any_text(alice, finished_attempt, value):
    Appeal.objects.all().delete()  # one appeal per result: each example files its own
    url = reverse("frontend:appeal_new", args=[finished_attempt.pk])
    response = client_for(alice).post(url, {"reasons": value, "form_token": new_token()})
    assert_page_answered(response)
    appeal = Appeal.objects.first()
    if appeal is not None:
        assert appeal.reasons == expected(value, max_length=5000, multiline=True)


@SLOW
@given(name=st.sampled_from(["last_name", "first_name", "patronymic"]), value=NASTY_WITHOUT_SURROGATES)
def test_registration_refuses_or_normalises_any_name(db, name, value):
    email = f"person{next(_unique)}@example.ru"
    data = {
        "last_name": "Новикова",
        "first_name": "Нина",
        "patronymic": "",
        "email": email,
        "password1": "svetlyi-den-2026",
        "password2": "svetlyi-den-2026",
        name: value,
    }
    assert_page_answered(Client().post(reverse("frontend:register"), data))
    user = User.objects.filter(email=email).first()
    if user is not None:
        assert getattr(user, name) == expected(value, max_length=100)


@SLOW
@given(
    name=st.sampled_from(["a-last_name", "a-id_document_issuer", "a-postal_address"]), value=NASTY_WITHOUT_SURROGATES
)
def test_the_paper_application_form_refuses_or_normalises_any_text(rita, name, value):
    from tests.frontend.test_pages import form_data

    data = form_data(complete_payload())
    data.pop("next")
    data.update({"r-channel": "in_person", "r-received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    data["r-form_token"] = new_token()
    data[name] = value
    before = set(Application.objects.values_list("pk", flat=True))
    assert_page_answered(client_for(rita).post(reverse("frontend:staff_paper_new"), data))
    created = Application.objects.exclude(pk__in=before).first()
    if created is not None:
        field = exam_forms.ApplicantForm.base_fields[name[2:]]
        assert getattr(created, name[2:]) == expected(value, max_length=field.max_length, multiline=field.multiline)


def _bank_file(question, *, fmt):
    if fmt == "json":
        content = json.dumps(
            {
                "format": "sout-question-bank/1",
                "topics": [{"code": "T1", "title": "Общие положения"}],
                "questions": [question],
            }
        ).encode()
        return SimpleUploadedFile("bank.json", content)
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "topic", "topic_title", "text", "option_1", "option_2", "option_3", "correct"])
    sheet.append(
        [question["code"], "T1", "Общие положения", question["text"], *question["options"], str(question["correct"][0])]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("bank.xlsx", buffer.getvalue())


# What an XLSX (XML 1.0) can carry at all: no C0 controls other than tab and line breaks, no
# surrogates, no U+FFFE/U+FFFF.
XLSX_TEXT = st.one_of(
    st.builds(
        lambda a, c, b: a + c + b,
        st.text("абвгдеёжз ", max_size=10),
        st.sampled_from(["\x85", "\x9b", "\u202e", "\u2066", "\n", "\t"]),
        st.text("абв", max_size=5),
    ),
    st.builds(lambda s: unicodedata.normalize("NFD", s), st.text("йёЙЁабв ", max_size=15)),
    st.builds(lambda n: "я" * n, st.integers(4001, 4500)),
)


@SLOW
@given(fmt=st.just("json"), where=st.sampled_from(["text", "option"]), value=NASTY)
def test_the_bank_import_in_json_refuses_or_normalises_any_text(eva, fmt, where, value):
    _import_and_check(eva, fmt, where, value)


@SLOW
@given(fmt=st.just("xlsx"), where=st.sampled_from(["text", "option"]), value=XLSX_TEXT)
def test_the_bank_import_in_xlsx_refuses_or_normalises_any_text(eva, fmt, where, value):
    _import_and_check(eva, fmt, where, value)


def _import_and_check(eva, fmt, where, value):
    code = f"Q{next(_unique)}"
    question = {"code": code, "topic": "T1", "text": "Вопрос?", "options": ["один", "два", "три"], "correct": [1]}
    if where == "text":
        question["text"] = value
    else:
        question["options"] = [value, "два", "три"]
    response = client_for(eva).post(reverse("frontend:bank_import"), {"file": _bank_file(question, fmt=fmt)})
    assert response.status_code == 200
    saved = Question.objects.filter(code=code).select_related("current").first()
    if saved is None:
        assert 'data-import="refused"' in response.content.decode()
        return
    if where == "text":
        assert saved.current.text == expected(value, max_length=4000, multiline=True)
    else:
        assert saved.current.options[0] == expected(value, max_length=1000)


@SLOW
@given(name=st.sampled_from(["text", "option_1", "code"]), value=NASTY_WITHOUT_SURROGATES)
def test_the_bank_editor_refuses_or_normalises_any_text(eva, name, value):
    code = f"E{next(_unique)}"
    data = {"code": code, "topic": "T1", "text": "Вопрос?", "option_1": "один", "option_2": "два", "option_3": "три"}
    data.update({"correct": ["1"], name: value})
    from exam.models import Topic

    Topic.objects.get_or_create(code="T1", defaults={"title": "Общие положения", "order": 1})
    assert_page_answered(client_for(eva).post(reverse("frontend:bank_question_new"), data))
    field = exam_forms.QuestionForm.base_fields[name]
    clean = expected(value, max_length=field.max_length, multiline=field.multiline)
    saved = Question.objects.filter(code=clean if name == "code" else code).select_related("current").first()
    if saved is not None and name != "code":
        stored = saved.current.text if name == "text" else saved.current.options[0]
        assert stored == clean


@SLOW
@given(name=st.sampled_from(["basis", "comment"]), value=NASTY_WITHOUT_SURROGATES)
def test_the_annulment_form_refuses_or_normalises_any_text(olga, name, value):
    Annulment.objects.all().delete()  # one pending annulment per certificate
    certificate = published_certificate(f"2025-{next(_unique):05d}", "Иванов", "Иван")
    data = {"reason": AnnulmentReason.objects.get(code="court").pk, "basis": "Решение суда № 1", name: value}
    response = client_for(olga).post(f"/staff/certificates/{certificate.pk}/annul/", data)
    assert_page_answered(response)
    annulment = Annulment.objects.filter(certificate=certificate).first()
    if annulment is not None:
        stored = getattr(annulment, name)
        assert stored == expected(value, max_length=500 if name == "basis" else 2000, multiline=name == "comment")


@SLOW
@given(value=NASTY_WITHOUT_SURROGATES)
def test_the_registry_search_answers_any_query_without_a_500(db, value):
    page = Client().get(reverse("frontend:registry"), {"q": value})
    assert page.status_code in (200, 400)
    api = Client().get("/api/v1/registry/experts/", {"q": value})
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert RUSSIAN.search(api.json()["error"]["message"])


@pytest.mark.parametrize(
    "url", ["/registry/", "/api/v1/registry/experts/", "/staff/bank/", "/staff/audit/", "/staff/certificates/"]
)
def test_nul_in_a_query_string_is_a_400_not_a_500(url, eva, audrey, olga):
    client = client_for({"/staff/bank/": eva, "/staff/audit/": audrey, "/staff/certificates/": olga}.get(url, eva))
    for key in ("q", "who", "case"):
        response = client.get(f"{url}?{key}=%00abc")
        assert response.status_code == 400, (url, key)
