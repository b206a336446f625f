"""A small dataset for the API contract check (tests/contract/run.py), seeded into a throw-away
database through the services, with the helpers of tests/conftest.py: staff of each role, a
candidate with a draft application (three attachments: PDF, PNG, JPEG), an admitted candidate
with an exam credential and a started attempt, a small bank, and a certificate in the registry.

Prints a JSON object: for each client of the check (``candidate``, ``staff``, ``exam``) the HTTP
headers that authenticate it against a server on the same database and Redis (session cookie,
CSRF cookie and header; the exam room's pass cookie for ``exam``).

Run with ``CELERY_TASK_ALWAYS_EAGER=true EMAIL_URL=locmemmail://`` (the signing code is read from
the sent mail); tests/contract/run.py does."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from io import BytesIO
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _image(fmt: str) -> bytes:
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def _headers(client: Any) -> dict[str, str]:
    """The cookies of a test client, plus a CSRF token as cookie and header (what a browser sends)."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    cookies = {name: morsel.value for name, morsel in client.cookies.items() if morsel.value}
    cookies[settings.CSRF_COOKIE_NAME] = token
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "X-CSRFToken": token}


def _draft_with_attachments(candidate: Any) -> Any:
    from exam import services
    from exam.models import Attachment
    from tests.conftest import PDF_BYTES, cleaned, complete_payload, upload

    application = services.application_start(candidate=candidate)
    # An optional e-mail left empty, as the form allows (the schema must say so too).
    payload = complete_payload(last_name="Черновикова", first_name="Дарья", patronymic="", email="", phone="")
    services.application_save_draft(application=application, by=candidate, cleaned=cleaned(payload))
    files = [("diploma.pdf", PDF_BYTES, "application/pdf"), ("training.png", _image("PNG"), "image/png")]
    files.append(("work-book.jpg", _image("JPEG"), "image/jpeg"))
    for kind, (name, content, content_type) in zip(Attachment.Kind.values, files, strict=True):
        services.attachment_add(
            application=application, by=candidate, kind=kind, upload=upload(name, content, content_type)
        )
    return application


def seed() -> dict[str, dict[str, str]]:
    from django.test import Client
    from django.utils import timezone

    from core.roles import Role
    from exam import services
    from exam.services.bank import blueprint_set
    from registry.models import Certificate
    from tests.conftest import admit, certify, make_bank, make_sitting, make_user, open_sitting, pass_the_test

    # One member of staff for each role (the appeals chair is also a member of the commission).
    staff = {
        role.value: make_user(
            f"{role.value.replace('_', '-')}@contract.test",
            last="Проверкина",
            first="Служба",
            roles=(role.value, Role.APPEALS_MEMBER.value) if role == Role.APPEALS_CHAIR else (role.value,),
        )
        for role in Role
    }
    # One official with the roles of the admission procedure: the check reaches the queue, the
    # criteria, the decisions and the sittings in one run (never signing own drafts still holds).
    official = make_user(
        "official@contract.test", last="Рассмотрина", first="Ольга", roles=("reviewer", "signatory", "registrar")
    )
    drafting = make_user("drafting@contract.test", last="Черновикова", first="Дарья")
    _draft_with_attachments(drafting)
    make_bank(topics=2, per_topic=25)
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    # Certified first: the candidate passes in the sitting, gets a certificate, and is in the registry.
    certified = make_user("certified@contract.test", last="Экспертова", first="Елена", patronymic="Ивановна")
    early = make_sitting(staff["exam_admin"], days_ahead=1)
    certificate_credential = admit(certified, staff["reviewer"], staff["signatory"], early)
    open_sitting(early)
    certificate_credential.refresh_from_db()
    certify(pass_the_test(certificate_credential), staff["signatory"], staff["certificate_officer"])
    assert Certificate.objects.filter(published_at__isnull=False).exists()
    # Admitted, with an attempt under way in the exam room's own session.
    admitted = make_user("admitted@contract.test", last="Допущенов", first="Андрей")
    sitting = make_sitting(staff["exam_admin"], days_ahead=1)
    credential = admit(admitted, staff["reviewer"], staff["signatory"], sitting)
    open_sitting(sitting)
    credential.refresh_from_db()
    password = services.exam_password_issue(credential=credential, by=admitted)
    exam = Client()
    response = exam.post("/api/v1/exam/login/", {"login": credential.login, "password": password}, "application/json")
    assert response.status_code == 200, response.content
    response = exam.post("/api/v1/exam/attempt/start/", {"personally": True}, "application/json")
    assert response.status_code == 201, response.content
    # The clock of the attempt: long enough for the whole check.
    credential.attempts.update(deadline_at=timezone.now() + timedelta(hours=3))

    clients = {"candidate": Client(), "staff": Client()}
    clients["candidate"].force_login(drafting)
    clients["staff"].force_login(official)
    headers = {name: _headers(client) for name, client in clients.items()}
    headers["exam"] = _headers(exam)
    return headers


def main() -> None:
    import django

    # django.setup() before the helpers of tests/conftest.py import pytest: the settings must not
    # take this process for a test run (TESTING) -- they are those of the server under check.
    django.setup()
    from django.core import mail

    mail.outbox = []  # the locmem backend's outbox, as the test runner sets it up
    sys.stdout.write(json.dumps(seed()) + "\n")


if __name__ == "__main__":
    main()
