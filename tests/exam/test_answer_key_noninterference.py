"""Non-interference: nothing the candidate sees depends on the answer key beyond the score.

The same bank is built twice with two different answer keys, chosen so that the candidate's fixed
answers (option 0 everywhere) score the same under both; the same candidate journey runs under each
key with the same random choices and the same clock: the cabinet, the admission notice, the exam
room's pages and every answer of its API before, during and after the attempt, the messages of the
room's WebSocket group, the result, the decision (drafted, signed, its PDF), e-mails, the appeal and
its decision, the new decision after the appeal. Every response must be identical under the two
keys. If anything told which questions were answered right (the per-question outcomes of the
result, which positions the commission re-scored), the two runs would differ."""

from __future__ import annotations

import asyncio
import difflib
import json
import random
import re
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, TestCase
from django.urls import reverse
from pypdf import PdfReader

from core import calendar
from exam.models import Attempt, AttemptItem
from exam.testing.services import attempts as attempt_service
from exam.testing.services.bank import blueprint_set
from tests.conftest import admit, bank_question, make_sitting, open_sitting

QUESTIONS = 10  # two topics of five, all drawn
SHARED = {9, 10}  # the same key under both: option 2 (the candidate's option 0 is wrong)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=calendar.MOSCOW)  # a Tuesday, a working day


def build_bank(key: str) -> None:
    """Under key "a" option 0 is right in questions 1-4, under key "b" in questions 5-8; the other
    four of those eight have option 1 right. The candidate who always picks option 0 scores 4."""
    for n in range(1, QUESTIONS + 1):
        if n in SHARED:
            correct = 2
        else:
            first_half = n <= 4
            correct = 0 if first_half == (key == "a") else 1
        bank_question(
            f"N{n:02d}",
            topic=1 + (n - 1) // 5,
            text=f"Вопрос {n}: что верно?",
            options=[f"Вариант {k} вопроса {n}" for k in "АБВГ"],
            correct=[correct],
        )
    blueprint_set(counts={"T1": 5, "T2": 5}, by=None)


# --- Recording what the candidate gets, without what is volatile by nature ---------------------------

VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken" value="…"'),
    (re.compile(r'name="form_token" value="[0-9a-f]{32}"'), 'name="form_token" value="…"'),  # random per form
    (re.compile(r"(простой электронной подписью: )\d{6}"), r"\1<code>"),  # the e-mailed signing code
]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


class Journey:
    """The responses of one run, normalised, in order."""

    def __init__(self, password_holder: list[str]) -> None:
        self.records: list[tuple[str, str]] = []
        self.passwords = password_holder

    def add(self, label: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)
        for pattern, replacement in VOLATILE:
            text = pattern.sub(replacement, text)
        for password in self.passwords:
            text = text.replace(password, "<password>")
        self.records.append((label, text))

    def response(self, label: str, response: Any) -> Any:
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/pdf"):
            body = pdf_text(b"".join(response.streaming_content) if response.streaming else response.content)
        else:
            body = response.content.decode()
        self.add(label, f"{response.status_code} {content_type} {response.get('Location', '')}\n{body}")
        return response


def on_commit(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service or a request with the work that follows its commit (tasks, e-mails, pushes)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return function(*args, **kwargs)


class GroupTap:
    """A channel subscribed to the room's group: what the room's WebSocket relays to the page."""

    def __init__(self, group: str) -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)

    def drain(self) -> list[dict[str, Any]]:
        async def receive_all() -> list[dict[str, Any]]:
            messages = []
            while True:
                try:
                    messages.append(await asyncio.wait_for(self.layer.receive(self.channel), 0.5))
                except TimeoutError:
                    return messages

        return async_to_sync(receive_all)()


def journey(key: str, *, people: dict[str, Any], traveller: Any, monkeypatch: Any) -> list[tuple[str, str]]:
    alice, victor, sergey, eva = people["alice"], people["victor"], people["sergey"], people["eva"]
    chair, *members = people["commission"]
    monkeypatch.setattr(attempt_service, "_random", random.Random(2026))  # the draw and the option order
    passwords: list[str] = []
    record = Journey(passwords)
    traveller.move_to(T0)
    build_bank(key)
    sitting = make_sitting(eva, days_ahead=1)
    credential = on_commit(admit, alice, victor, sergey, sitting)
    application = credential.application
    open_sitting(sitting)

    cabinet = Client()
    cabinet.force_login(alice)
    app_url = reverse("frontend:cabinet_application", args=[application.pk])

    def cabinet_pages(moment: str) -> None:
        record.response(f"{moment}: cabinet", cabinet.get(reverse("frontend:cabinet")))
        record.response(f"{moment}: application", cabinet.get(app_url))
        record.response(f"{moment}: notifications", cabinet.get(reverse("frontend:notifications")))

    cabinet_pages("admitted")
    record.response("notice pdf", cabinet.get(reverse("frontend:cabinet_notice_pdf", args=[application.pk])))
    page = cabinet.post(reverse("frontend:cabinet_exam_password", args=[application.pk])).content.decode()
    passwords.append(re.search(r"data-exam-password>([^<]+)<", page).group(1).strip())
    record.add("password page", page)

    # The exam room: sign-in, rules, start, the room and its API, the end.
    room = Client()
    record.response("login page", room.get(reverse("frontend:exam_login")))
    record.response(
        "login", room.post(reverse("frontend:exam_login"), {"login": credential.login, "password": passwords[0]})
    )
    record.response("rules", room.get(reverse("frontend:exam_room")))
    record.response("start", on_commit(room.post, reverse("frontend:exam_room"), {"personally": "on"}))
    attempt = Attempt.objects.get(credential=credential)
    tap = GroupTap(f"attempt.{attempt.pk}")
    record.response("room", room.get(reverse("frontend:exam_room")))
    api = "/api/v1/exam/attempt/"
    record.response("state", room.get(api))
    record.response("clock", room.get(f"{api}clock/"))
    traveller.shift(timedelta(minutes=5))
    for position in range(1, QUESTIONS + 1):
        body = json.dumps({"answer": [0], "seq": position, "flagged": position == 3})
        record.response(
            f"save {position}", room.put(f"{api}answers/{position}/", body, content_type="application/json")
        )
    record.response("repeated save", room.put(f"{api}answers/1/", '{"answer": [1], "seq": 1}', "application/json"))
    record.response("invalid save", room.put(f"{api}answers/2/", '{"answer": [7], "seq": 99}', "application/json"))
    record.response("event", room.post(f"{api}events/", {"kind": "page_hidden"}, content_type="application/json"))
    record.response("state after saves", room.get(api))
    traveller.shift(timedelta(minutes=5))
    record.response("submit", on_commit(room.post, f"{api}submit/", content_type="application/json"))
    record.add("websocket group", tap.drain())
    record.response("result page", room.get(reverse("frontend:exam_room")))
    record.response("state after the end", room.get(api))
    record.response("clock after the end", room.get(f"{api}clock/"))
    record.response(
        "save after the end", room.put(f"{api}answers/1/", '{"answer": [2], "seq": 50}', "application/json")
    )
    record.response("submit again", room.post(f"{api}submit/", content_type="application/json"))
    record.response("logout", room.post(reverse("frontend:exam_logout")))
    cabinet_pages("decision drafted")

    # The refusal of attestation is signed; the candidate reads it and appeals.
    from registry.models import AttestationDecision
    from registry.services import attestation_decision_sign

    traveller.shift(timedelta(days=1))
    refusal = AttestationDecision.objects.get(attempt=attempt)
    on_commit(attestation_decision_sign, decision=refusal, by=sergey)
    cabinet_pages("decision signed")
    record.response(
        "decision pdf", cabinet.get(reverse("frontend:cabinet_attestation_pdf", args=[application.pk, "decision"]))
    )
    traveller.shift(timedelta(days=1))
    appeal_url = reverse("frontend:appeal_new", args=[attempt.pk])
    form = record.response("appeal form", cabinet.get(appeal_url)).content.decode()
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', form).group(1)
    response = record.response(
        "appeal filed",
        on_commit(cabinet.post, appeal_url, {"reasons": "Вопрос сформулирован неоднозначно.", "form_token": token}),
    )
    appeal_page = response["Location"]
    record.response("appeal registered", cabinet.get(appeal_page))

    # The commission re-scores the question that is wrong under both keys (it sees the key; the
    # candidate is told how many questions, not which).
    from appeals import services as appeals

    traveller.shift(timedelta(days=1))
    appeal = attempt.appeals.get()
    shared_position = AttemptItem.objects.get(attempt=attempt, version__question__code="N09").position
    appeals.appeal_open(appeal=appeal, by=chair)
    for member in (chair, *members):
        appeals.appeal_vote(appeal=appeal, member=member, outcome="uphold", rescore=[shared_position])
    on_commit(appeals.appeal_decide, appeal=appeal, by=chair, reasons="Формулировка вопроса неоднозначна.")
    record.response("appeal decided", cabinet.get(appeal_page))
    cabinet_pages("appeal upheld")

    traveller.shift(timedelta(days=1))
    attestation = AttestationDecision.objects.get(attempt=attempt, superseded=False)
    on_commit(attestation_decision_sign, decision=attestation, by=sergey)
    cabinet_pages("attested")
    record.response(
        "attestation pdf", cabinet.get(reverse("frontend:cabinet_attestation_pdf", args=[application.pk, "decision"]))
    )

    for message in mail.outbox:
        if alice.email in message.to:
            attachments = [pdf_text(content) for _name, content, _type in message.attachments]
            record.add(f"e-mail {message.subject}", {"body": message.body, "attachments": attachments})
    return record.records


def _sequences() -> list[tuple[str, int | None]]:
    """The database's sequences (the ids the next rows get), to start the second run from the same ids."""
    if connection.vendor != "postgresql":
        return []  # SQLite keeps its sequences in a table: the rollback restores them
    with connection.cursor() as cursor:
        cursor.execute("SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences")
        return list(cursor.fetchall())


def _restore(sequences: list[tuple[str, int | None]]) -> None:
    with connection.cursor() as cursor:
        for name, last_value in sequences:
            if last_value is None:
                cursor.execute("SELECT setval(%s, 1, false)", [name])
            else:
                cursor.execute("SELECT setval(%s, %s, true)", [name, last_value])


def _first_difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    for (label_a, text_a), (label_b, text_b) in zip(a, b, strict=False):
        if (label_a, text_a) != (label_b, text_b):
            diff = difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "key a", "key b", lineterm="", n=1)
            return f"{label_a} / {label_b}:\n" + "\n".join(list(diff)[:60])
    return f"{len(a)} responses under key a, {len(b)} under key b"


@pytest.mark.django_db
def test_the_candidate_sees_the_same_under_two_answer_keys_that_give_the_same_score(
    alice, victor, sergey, eva, commission, settings, monkeypatch
):
    settings.EXAM_PASS_SCORE = 5
    people = {"alice": alice, "victor": victor, "sergey": sergey, "eva": eva, "commission": commission}
    runs = []
    sequences = _sequences()
    with time_machine.travel(T0, tick=False) as traveller:
        for key in ("a", "b"):
            savepoint = transaction.savepoint()
            cache.clear()
            mail.outbox.clear()
            runs.append(journey(key, people=people, traveller=traveller, monkeypatch=monkeypatch))
            transaction.savepoint_rollback(savepoint)
            _restore(sequences)
    key_a, key_b = runs
    labels = [label for label, _text in key_a]
    assert "result page" in labels and "appeal decided" in labels and len(key_a) > 50
    assert key_a == key_b, _first_difference(key_a, key_b)
