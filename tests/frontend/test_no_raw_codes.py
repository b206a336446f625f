"""No page shows a person a raw code: the pages of every role (the public, candidates, each staff
role), crawled through their links in a populated state (applications in several statuses, a
certificate, an appeal, complaints, an annulment asked for, the audit trail they leave), never show a
role, a status or an audit verb as a word of their visible text. In Russian every code counts; in
English the codes with an underscore (single words such as "registered" are English too)."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.test import Client, TestCase
from django.utils import timezone

from core.models import AuditEvent
from core.roles import Role
from core.services import DEADLINE_KINDS
from core.vocabulary import AUDIT_VERBS, audit_verb_label
from exam.models import AttemptEvent
from tests.conftest import (
    admit,
    certify,
    client_for,
    complaint_data,
    fill_application,
    make_sitting,
    make_user,
    open_sitting,
    pass_the_test,
    registered_application,
)
from tests.frontend.test_pages_permissions import uphold

# Links a crawl does not follow: downloads, the API, the admin, the language switch, sign-out, and
# the testing-system password (shown once).
SKIP = re.compile(
    r"\.pdf$|/export\.|/attachments/|annulment_basis=|annulment_finding=|^/api/|^/admin/|^/i18n/|logout|exam-password|^/static/"
)
MAX_PAGES = 150


class _Text(HTMLParser):
    """The text a person sees, and the links of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def known_codes() -> set[str]:
    """Every role, every value of a status field's choices, every audit verb and action, every kind of
    term."""
    codes = {r.value for r in Role}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.name == "status" and getattr(field, "choices", None):
                codes.update(str(value) for value, _label in field.flatchoices)  # type: ignore[union-attr]
    codes.update(AUDIT_VERBS)
    codes.update(AuditEvent.objects.values_list("verb", flat=True).distinct())
    codes.update(AuditEvent.Action.values)
    codes.update(DEADLINE_KINDS)
    codes.update(AttemptEvent.Kind.values)
    return codes


def crawl(client: Client, start: list[str], *, codes: set[str]) -> tuple[dict[str, list[str]], int]:
    """Visit the pages reachable from ``start`` through same-site links; the codes each page shows."""
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(sorted(map(re.escape, codes), key=len, reverse=True)) + r")(?![\w-])"
    )
    seen, queue, found, visited = set(start), deque(start), {}, 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        visited += 1
        parser = _Text()
        parser.feed(response.content.decode())
        shown = pattern.findall(" ".join(parser.parts))
        if shown:
            found[url] = sorted(set(shown))
        for href in parser.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "testserver"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen and not SKIP.search(target):
                seen.add(target)
                queue.append(target)
    return found, visited


@pytest.fixture
def populated(exam_setup, victor, sergey, eva, rita, olga, hanna, commission, audrey) -> dict[str, Any]:
    """Applications in several statuses, a certificate, an appeal under consideration, complaints
    (one decided with a remedy pending), an annulment asked for."""
    from appeals import services as appeals_services
    from exam.admission import services
    from registry import services as registry_services
    from registry.models import AnnulmentReason

    alice = exam_setup["candidate"]
    # Alice fails (35 of 40), her refusal of attestation is signed, she appeals; the commission votes.
    attempt = pass_the_test(exam_setup["credential"], correct=35)
    decision = registry_services.attestation_decision_draft(attempt=attempt)
    with TestCase.captureOnCommitCallbacks(execute=True):
        registry_services.attestation_decision_sign(decision=decision, by=sergey)
    appeal = appeals_services.appeal_file(candidate=alice, attempt=attempt, reasons="Вопрос 7 допускает два ответа.")
    appeals_services.appeal_open(appeal=appeal, by=commission[1])
    appeal.refresh_from_db()
    appeals_services.appeal_vote(appeal=appeal, member=commission[1], outcome="reject", opinion="Нет оснований.")

    # Boris passes at another sitting and holds a certificate; an annulment of it is asked for.
    boris = make_user("boris@example.ru", last="Борисов", first="Борис", patronymic="Борисович")
    sitting = make_sitting(eva, days_ahead=2)
    credential = admit(boris, victor, sergey, sitting)
    open_sitting(sitting)
    credential.refresh_from_db()
    certificate = certify(pass_the_test(credential), sergey, olga)
    registry_services.annulment_request(
        certificate=certificate,
        by=olga,
        reason=AnnulmentReason.objects.get(code="court"),
        basis="Решение суда от 01.12.2026 № 2-345/2026",
    )

    # Applications: a draft, one registered, one with a refusal drafted, one refused.
    dora = make_user("dora@example.ru", last="Дорина", first="Дора")
    fill_application(services.application_start(candidate=dora), dora, attachments=False)
    registered_application(make_user("fedor@example.ru", last="Фёдоров", first="Фёдор"))

    def refusal_drafted(candidate: Any) -> Any:
        application = registered_application(candidate)
        services.application_start_review(application=application, by=victor)
        return services.decision_draft(
            application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
        )

    gleb = make_user("gleb@example.ru", last="Глебов", first="Глеб")
    refusal_drafted(gleb)
    ivan = make_user("ivan@example.ru", last="Иванов", first="Иван")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=refusal_drafted(ivan), by=sergey)

    # Complaints: Ivan's from his cabinet, upheld with a remedy pending; one on paper, registered.
    complaint = appeals_services.complaint_file(
        data=complaint_data(subject="e", last_name="Иванов", first_name="Иван", patronymic="", email="ivan@example.ru"),
        channel="portal",
        complainant=ivan,
    )
    uphold(complaint, hanna, remedy="cancel_admission_refusal")
    appeals_services.complaint_file(
        data=complaint_data(email=""), channel="mail", registered_by=rita, received_at=timezone.now()
    )
    return {
        "candidates": [alice, boris, dora, gleb, ivan],
        "staff": [rita, victor, sergey, eva, olga, hanna, commission[0], audrey],
    }


START = [
    "/",
    "/registry/",
    "/questions/",
    "/practice/",
    "/exam/",
    "/cabinet/",
    "/cabinet/notifications/",
    "/staff/",
    *(
        f"/staff/{page}/"
        for page in (
            "review",
            "signing",
            "journal",
            "sittings",
            "audit",
            "bank",
            "bank/statistics",
            "attestation",
            "certificates",
            "appeals",
            "complaints",
            "oversight",
            "reports",
        )
    ),
]


def test_no_page_of_any_role_shows_a_raw_role_status_or_event_code(populated):
    codes = known_codes()
    people: list[tuple[str, Client]] = [("public", Client())]
    people += [(u.email, client_for(u)) for u in populated["candidates"] + populated["staff"]]
    problems: dict[str, dict[str, list[str]]] = {}
    pages = 0
    for who, client in people:
        found, visited = crawl(client, START, codes=codes)
        pages += visited
        if found:
            problems[who] = found
    english = {code for code in codes if "_" in code}
    for who, client in people[:1] + people[1::3]:
        client.cookies["django_language"] = "en"
        found, visited = crawl(client, START, codes=english)
        pages += visited
        if found:
            problems[f"{who} (en)"] = found
    assert not problems, problems
    assert pages > 100  # the crawl reached the pages, not only the start


def test_every_audit_verb_the_code_writes_has_a_label():
    """The verbs of audit_record / audit_file_viewed calls and the transitions of every model."""
    from pathlib import Path

    from django.conf import settings

    written: set[str] = set()
    for path in Path(settings.BASE_DIR).glob("[a-z]*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        written.update(re.findall(r"\b(?:verb|what|log_view)=\"(\w+)\"", text))
        for choice in re.findall(r"\bwhat = \"(\w+)\" if .* else \"(\w+)\"", text):
            written.update(choice)
    for model in apps.get_models():
        for name in dir(model):
            method = getattr(model, name, None)
            if getattr(method, "_django_fsm", None) is not None:
                written.add(name)
    missing = sorted(verb for verb in written if verb not in AUDIT_VERBS)
    assert not missing, missing
    assert audit_verb_label("file_view") == "Просмотр дела"
