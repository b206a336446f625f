"""A small dataset for the API contract check (tests/contract/run.py), seeded into a throw-away
database through the services, with the helpers of tests/conftest.py: staff of each role, a
candidate with a draft application (three attachments: PDF, PNG, JPEG) and a notification, an
admitted candidate with an exam credential and a started attempt, a small bank, a certificate in
the registry, and the cases of the staff operations: an application registered and waiting to be
taken, one under the official's review, two decisions awaiting signature (one to sign, one to
return).

Prints a JSON object: ``headers``, for each client of the check (``candidate``, ``staff``,
``exam``) the HTTP headers that authenticate it against a server on the same database and Redis
(session cookie, CSRF cookie and header; the exam room's pass cookie for ``exam``); and
``parameters``, for each client, the path parameters of each operation (``"POST /api/v1/..."``)
that name an existing object of that client, so that the check reaches the procedure instead of
a 404.

Run with ``CELERY_TASK_ALWAYS_EAGER=true EMAIL_URL=locmemmail://`` (the signing code is read from
the sent mail); tests/contract/run.py does."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from io import BytesIO
from typing import Any

# For each operation ("METHOD /path" as in the schema), the values of its path parameters.
Operations = dict[str, dict[str, int | str]]
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
    from exam.admission import services
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


def _case_under_review(user: Any, *, reviewer: Any, decision_by: Any | None = None, sitting: Any = None) -> Any:
    """A registered application taken by ``reviewer``, with an admission decision drafted by
    ``decision_by`` (awaiting signature) when given."""
    from exam.admission import services
    from tests.conftest import registered_application

    application = registered_application(user)
    services.application_start_review(application=application, by=reviewer)
    if decision_by is not None:
        services.decision_draft(application=application, by=decision_by, kind="admission", sitting=sitting)
    return application


def _paper_admitted(*, registrar: Any, reviewer: Any, signatory: Any, sitting: Any) -> Any:
    """An application received in person and admitted: staff issue its exam password (p.53)."""
    from django.utils import timezone

    from exam.admission import services
    from exam.models import Attachment
    from tests.conftest import cleaned, complete_payload

    application = services.application_register_paper(
        by=registrar,
        channel="in_person",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(last_name="Бумагина", first_name="Полина")),
        paper_documents=list(Attachment.Kind.values),
    )
    services.application_start_review(application=application, by=reviewer)
    decision = services.decision_draft(application=application, by=reviewer, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=signatory)
    return application


def _staff_parameters(*, registered: Any, reviewed: Any, to_sign: Any, to_return: Any, admitted: Any) -> Operations:
    """The objects the staff client works on: each operation on a case in the state it acts on."""
    attachment = reviewed.attachments.order_by("pk").first()
    reads = {"id": reviewed.pk, "attachment_id": attachment.pk}
    return {
        "GET /api/v1/applications/{id}/": reads,
        "GET /api/v1/applications/{id}/attachments/{attachment_id}/": reads,
        "GET /api/v1/applications/{id}/criteria/": reads,
        "GET /api/v1/applications/{id}/timeline/": reads,
        "POST /api/v1/applications/{id}/decisions/": {"id": reviewed.pk},
        "POST /api/v1/applications/{id}/start-review/": {"id": registered.pk},
        "POST /api/v1/applications/{id}/exam-password/": {"id": admitted.pk},
        "POST /api/v1/decisions/{id}/sign/": {"id": to_sign.decisions.get().pk},
        "POST /api/v1/decisions/{id}/return/": {"id": to_return.decisions.get().pk},
    }


def _candidate_parameters(*, draft: Any, notification: Any) -> Operations:
    """The candidate's own draft, its attachments (one to read, another to delete) and notice."""
    first, *_others, last = list(draft.attachments.order_by("pk"))
    return {
        **{
            f"{method} /api/v1/applications/{{id}}/{tail}": {"id": draft.pk}
            for method, tail in [
                ("GET", ""),
                ("PUT", ""),
                ("GET", "timeline/"),
                ("POST", "attachments/"),
                ("POST", "signature-code/"),
                ("POST", "submit/"),
            ]
        },
        "GET /api/v1/applications/{id}/attachments/{attachment_id}/": {"id": draft.pk, "attachment_id": first.pk},
        "DELETE /api/v1/applications/{id}/attachments/{attachment_id}/": {"id": draft.pk, "attachment_id": last.pk},
        "POST /api/v1/notifications/{id}/read/": {"id": notification.pk},
    }


def seed() -> dict[str, Any]:
    from django.test import Client
    from django.utils import timezone

    from core.roles import Role
    from core.services import notification_send
    from exam.admission import services
    from exam.testing.services.bank import blueprint_set
    from registry.models import Certificate
    from tests.conftest import (
        admit,
        certify,
        make_bank,
        make_sitting,
        make_user,
        open_sitting,
        pass_the_test,
        registered_application,
    )

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
    draft = _draft_with_attachments(drafting)
    notification = notification_send(recipient=drafting, subject="Проверка", body="Уведомление для проверки API.")
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

    # The cases of the staff operations: taken and drafted by the reviewer, signed by the official.
    def applicant(name: str) -> Any:
        return make_user(f"{name}@contract.test", last="Заявителева", first=name.capitalize())

    registered = registered_application(applicant("registered"))
    later = make_sitting(staff["exam_admin"], days_ahead=5)
    reviewed = _case_under_review(applicant("reviewed"), reviewer=official)
    to_sign, to_return = (
        _case_under_review(applicant(name), reviewer=staff["reviewer"], decision_by=staff["reviewer"], sitting=later)
        for name in ("signing", "returning")
    )
    parameters = {
        "staff": _staff_parameters(
            registered=registered,
            reviewed=reviewed,
            to_sign=to_sign,
            to_return=to_return,
            admitted=_paper_admitted(
                registrar=official, reviewer=staff["reviewer"], signatory=staff["signatory"], sitting=later
            ),
        ),
        "candidate": _candidate_parameters(draft=draft, notification=notification),
        "exam": {"PUT /api/v1/exam/attempt/answers/{position}/": {"position": 1}},
    }
    certificate_number = Certificate.objects.get().number
    for client in ("anonymous", "candidate", "staff"):
        for operation in (
            "GET /api/v1/registry/certificates/{number}/",
            "GET /api/v1/registry/certificates/{number}/status-on/",
        ):
            parameters.setdefault(client, {})[operation] = {"number": certificate_number}

    clients = {"candidate": Client(), "staff": Client()}
    clients["candidate"].force_login(drafting)
    clients["staff"].force_login(official)
    headers = {name: _headers(client) for name, client in clients.items()}
    headers["exam"] = _headers(exam)
    return {"headers": headers, "parameters": parameters}


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
