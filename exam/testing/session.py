"""The exam room's own sign-in: the login and password of the admission notice open a session
that holds one credential. Shared by the exam-room pages, the exam API and the WebSocket consumer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from core.errors import DomainError
from exam.models import ExamCredential

CREDENTIAL_KEY = "exam_credential"
SESSION_KEY = "exam_session"


def exam_session_open(session: Any, credential: ExamCredential, session_key: str) -> None:
    """Hold the credential in the session. A session that already exists gets a new key (nobody
    who knew the old one is signed in by this); one that does not is created with its values when
    the response is sent, once, not created empty here and then written again."""
    if session.session_key:
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


# --- The pass of the answer save ------------------------------------------------------------------
# The answer save runs a hundred times a second in a sitting and needs only the credential's id and
# the exam session key. They are also given to the browser in a cookie signed with the SECRET_KEY
# (HMAC) and time-stamped, sent only to the exam room's API: the save authenticates with it without
# reading the session from Redis. It confers nothing the session does not: the attempt's stored
# session key is checked by the save itself, so a take-over or the end of the test ends the pass too.

PASS_COOKIE = "exam_pass"
PASS_PATH = "/api/v1/exam/"
PASS_MAX_AGE = 24 * 3600  # seconds: longer than any sitting day
_PASS_SALT = "exam.exam_session.pass"  # the module's old name: changing it would void the passes in use


def exam_pass_set(response: HttpResponseBase, session: Any) -> None:
    """Give the browser the pass of the exam room session just opened (after exam_session_open)."""
    credential_id, session_key = exam_session_ids(session)
    response.set_cookie(
        PASS_COOKIE,
        signing.dumps([credential_id, session_key], salt=_PASS_SALT),
        max_age=PASS_MAX_AGE,
        path=PASS_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def exam_pass_clear(response: HttpResponseBase) -> None:
    response.delete_cookie(PASS_COOKIE, path=PASS_PATH, samesite="Strict")


def exam_pass_ids(request: HttpRequest) -> tuple[int, str] | None:
    """The credential's id and the exam session key from a valid pass, None without one; a pass
    that is forged, altered or too old is a 401."""
    value = request.COOKIES.get(PASS_COOKIE)
    if not value:
        return None
    try:
        credential_id, session_key = signing.loads(value, salt=_PASS_SALT, max_age=PASS_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise _signed_out() from None
    if not isinstance(credential_id, int) or not isinstance(session_key, str) or not session_key:
        raise _signed_out()
    return credential_id, session_key
