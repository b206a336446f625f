"""The exam room: sign-in with the testing-system credentials, the rules, the test, the result.
Also the published question list (p.55) and the practice quiz for anyone, on a practice set of its
own: the public never sees the key of a question that a test can draw."""

from __future__ import annotations

import random

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.http import client_ip
from exam.models import Attempt, ExamCredential, Question
from exam.testing import selectors as testing_selectors
from exam.testing.services import attempts as service
from exam.testing.session import exam_pass_clear, exam_pass_set, exam_session_close, exam_session_get, exam_session_open

_random = random.SystemRandom()


def _session(request: HttpRequest) -> tuple[ExamCredential, str] | None:
    try:
        return exam_session_get(request.session)
    except DomainError:
        return None


# The sign-in page as an anonymous visitor without messages gets it, per language: the first to open
# the exam room at a sitting's start, two thousand people within a minute, all get the same page
# but for the CSRF token. Rendered once per process with a placeholder in the token's place, it is
# served with each request's own token put in (rendering it took a tenth of the server's CPU at the
# peak, bench/README.md). Not under DEBUG, where templates change while the server runs.
_TOKEN_PLACEHOLDER = "exam-login-csrf-token-placeholder"
_anonymous_login_pages: dict[tuple[str, str], str] = {}


def _anonymous_login_page(request: HttpRequest) -> HttpResponse | None:
    if settings.DEBUG or request.GET or request.user.is_authenticated or len(messages.get_messages(request)):
        return None
    key = (get_language(), request.path)  # the page links its own address (the language switch)
    page = _anonymous_login_pages.get(key)
    if page is None:
        context = {"error": "", "login": "", "csrf_token": _TOKEN_PLACEHOLDER}
        page = _anonymous_login_pages[key] = render_to_string("frontend/exam/login.html", context, request)
    return HttpResponse(page.replace(_TOKEN_PLACEHOLDER, get_token(request)))


@never_cache
def exam_login(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        page = _anonymous_login_page(request)
        if page is not None:
            return page
    error = ""
    login = ""
    if request.method == "POST":
        login = request.POST.get("login", "")[:40]
        try:
            credential = service.exam_login(login=login, password=request.POST.get("password", "")[:100])
        except DomainError as exc:
            error = exc.message
        else:
            exam_session_open(request.session, credential, service.new_session_key())
            response = redirect("frontend:exam_room")
            exam_pass_set(response, request.session)
            return response
    return render(request, "frontend/exam/login.html", {"error": error, "login": login})


@require_POST
def exam_logout(request: HttpRequest) -> HttpResponse:
    exam_session_close(request.session)
    response = redirect("frontend:exam_login")
    exam_pass_clear(response)
    return response


@never_cache
def exam_room(request: HttpRequest) -> HttpResponse:
    """Rules and the confirmation before the start; the test itself once started; the result after."""
    session = _session(request)
    if session is None:
        return redirect("frontend:exam_login")
    credential, session_key = session
    attempt = testing_selectors.attempt_for_credential(credential)
    if attempt is not None:
        attempt = service.attempt_finalize_if_due(attempt=attempt)
    if attempt is None:
        error = ""
        if request.method == "POST":
            try:
                service.attempt_start(
                    credential=credential,
                    session_key=session_key,
                    personally=request.POST.get("personally") == "on",
                    ip=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except DomainError as exc:
                error = exc.message
            else:
                return redirect("frontend:exam_room")
        return render(
            request,
            "frontend/exam/rules.html",
            {
                "credential": credential,
                "error": error,
                "minutes": int(settings.EXAM_DURATION.total_seconds() // 60),
                "pass_score": settings.EXAM_PASS_SCORE,
            },
        )
    if not attempt.is_active:
        return render(
            request,
            "frontend/exam/result.html",
            {"credential": credential, "attempt": attempt, "result": testing_selectors.attempt_result(attempt)},
        )
    taken_over = service.attempt_claim(
        attempt=attempt,
        session_key=session_key,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    if taken_over:
        messages.warning(
            request,
            _("Тестирование продолжено в этом окне. Сеанс на другом устройстве закрыт; это записано в журнал."),
        )
    return render(
        request,
        "frontend/exam/room.html",
        {"credential": credential, "attempt": attempt, "i18n": _room_strings(attempt)},
    )


def _timer_milestones(attempt: Attempt) -> dict[str, str]:
    """What the timer's live region says, by minutes left: every 5 minutes, then each of the last 5
    (never the whole duration, which is on the screen at the start)."""
    longest = max(settings.EXAM_DURATION.total_seconds(), attempt.remaining_seconds(timezone.now())) // 60
    minutes = [m for m in range(1, int(longest)) if m < 5 or m % 5 == 0]
    return {
        str(m): ngettext("Осталась %(count)d минута", "Осталось %(count)d минут", m) % {"count": m} for m in minutes
    }


def _room_strings(attempt: Attempt) -> dict[str, object]:
    """The exam-room script's messages, translated on the server."""
    return {
        "milestones": _timer_milestones(attempt),
        "cellAnswered": _("отвечен"),
        "cellUnanswered": _("без ответа"),
        "cellFlagged": _("отмечен"),
        "question": _("Вопрос"),
        "of": _("из"),
        "saving": _("Сохраняется…"),
        "saved": _("Сохранено"),
        "pending": _("Не отправлено: будет отправлено при восстановлении связи"),
        "offline": _(
            "Нет связи с сервером. Ответы сохраняются на этом устройстве и будут отправлены автоматически; время идёт."
        ),
        "online": _("Связь есть"),
        "takenOver": _("Тестирование открыто в другом окне или на другом устройстве. Этот сеанс закрыт."),
        "timeUp": _("Время истекло. Тестирование завершено."),
        "unanswered": _("Без ответа вопросы:"),
        "allAnswered": _("Ответы даны на все вопросы."),
        "unsent": _("Есть ответы, ещё не принятые сервером: дождитесь восстановления связи."),
        "error": _("Ответ не принят:"),
        "signedOut": _(
            "Сеанс входа в систему тестирования закрыт. Войдите снова с логином и паролем из уведомления: "
            "неотправленные ответы сохранены на этом устройстве и будут отправлены; время идёт."
        ),
    }


# --- Public: the published questions (p.55) and practice ---------------------------------------


def public_questions(request: HttpRequest) -> HttpResponse:
    questions = list(testing_selectors.public_questions())
    topics: dict[str, list[object]] = {}
    for question in questions:
        topics.setdefault(str(question.topic), []).append(question)
    return render(request, "frontend/exam/public_questions.html", {"topics": topics, "count": len(questions)})


def _numbers(values: list[str]) -> list[int]:
    """The whole numbers among what a form sent (ASCII digits only: "²".isdigit() is true too)."""
    return [int(v) for v in (v.strip() for v in values) if v.isascii() and v.isdecimal() and len(v) <= 9]


def practice(request: HttpRequest) -> HttpResponse:
    """A short untimed quiz from the practice set (practice-only questions, never drawn into a
    test); the correct answers are shown afterwards. Only the current versions of the practice set
    are checked: any other version a form names (a question of the test, a retired question, an old
    wording) is left out with a notice, never scored, whatever the answer given: the quiz reveals
    nothing of the key of the test, not even as a score."""
    if request.method == "POST":
        ids = list(dict.fromkeys(_numbers(request.POST.getlist("q"))))[: settings.PRACTICE_QUESTION_COUNT]
        versions = {
            q.current.pk: q.current
            for q in testing_selectors.practice_questions().filter(current_id__in=ids)
            if q.current is not None
        }
        rows = []
        for version_id in ids:
            version = versions.get(version_id)
            if version is None:
                continue
            chosen = sorted(set(_numbers(request.POST.getlist(f"a{version_id}"))))
            rows.append(
                {
                    "version": version,
                    "chosen": chosen,
                    "correct": chosen == sorted(version.correct),
                    "options": [
                        {"text": text, "chosen": i in chosen, "right": i in version.correct}
                        for i, text in enumerate(version.options)
                    ],
                }
            )
        if len(rows) < len(request.POST.getlist("q")):
            messages.warning(
                request,
                _("Часть вопросов не проверена: их нет в тренировочном наборе или форма была изменена."),
            )
        return render(
            request,
            "frontend/exam/practice_result.html",
            {"rows": rows, "score": sum(r["correct"] for r in rows), "total": len(rows)},
        )
    pool: list[Question] = list(testing_selectors.practice_questions())
    picked = _random.sample(pool, min(settings.PRACTICE_QUESTION_COUNT, len(pool)))
    items = []
    for question in picked:
        version = question.current
        assert version is not None
        order = _random.sample(range(len(version.options)), len(version.options))
        items.append({"version": version, "options": [(i, version.options[i]) for i in order]})
    return render(request, "frontend/exam/practice.html", {"items": items})
