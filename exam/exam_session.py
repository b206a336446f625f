"""The exam room's own sign-in: the login and password of the admission notice open a session
that holds one credential. Shared by the exam-room pages, the exam API and the WebSocket consumer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.errors import DomainError
from exam.models import ExamCredential

CREDENTIAL_KEY = "exam_credential"
SESSION_KEY = "exam_session"


def exam_session_open(session: Any, credential: ExamCredential, session_key: str) -> None:
    session.cycle_key()
    session[CREDENTIAL_KEY] = credential.pk
    session[SESSION_KEY] = session_key


def exam_session_close(session: Any) -> None:
    session.pop(CREDENTIAL_KEY, None)
    session.pop(SESSION_KEY, None)


def _signed_out() -> DomainError:
    return DomainError(_("Войдите в систему тестирования."), code="exam_login_required", status=401)


def exam_session_ids(session: Any) -> tuple[int, str]:
    """The credential's id and the session key of the exam room, without reading the credential
    (the answer save needs no more), or a 401 domain error."""
    credential_id = session.get(CREDENTIAL_KEY)
    session_key = session.get(SESSION_KEY)
    if not isinstance(credential_id, int) or not session_key:
        raise _signed_out()
    return credential_id, str(session_key)


def exam_session_get(session: Any) -> tuple[ExamCredential, str]:
    """The credential and the session key of the exam room, or a 401 domain error."""
    credential_id, session_key = exam_session_ids(session)
    credential = ExamCredential.objects.select_related("application", "sitting").filter(pk=credential_id).first()
    if credential is None:
        raise _signed_out()
    return credential, session_key
