"""Helpers of the page views: role checks and turning a domain error into a form error."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _

from core.accounts import second_factor_pending
from core.errors import DomainError
from core.roles import Role, has_role, is_candidate
from core.text import field_refusal

View = Callable[..., HttpResponseBase]


def candidate_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_candidate(request.user):  # type: ignore[arg-type]
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(*roles: Role) -> Callable[[View], View]:
    """Staff pages: any of ``roles`` (or any staff member when none is named). Others get 404."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_staff:
                raise Http404
            if second_factor_pending(user):
                return second_factor_redirect(request)
            if roles and not any(has_role(user, r) for r in roles):  # type: ignore[arg-type]
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def second_factor_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the sign-in, for a staff session that has not passed the TOTP code step."""
    messages.info(request, _("Войдите ещё раз и введите код из приложения-аутентификатора."))
    return redirect_to_login(request.get_full_path(), login_url=reverse("frontend:login"))


def form_refusal(form: forms.Form) -> DomainError:
    """The first error of a form that refused its data, worded as a service words a refused field
    (core.text.field_refusal): «Заполните поле «…».» or «Поле «…»: …»."""
    name, errors = next(iter(form.errors.as_data().items()))
    error = errors[0]
    message = error.messages[0]
    if name not in form.fields:
        return DomainError(message)
    problem = None if error.code == "required" else message
    return field_refusal(
        field=name, label=form.fields[name].label or name, problem=problem, code=error.code or "invalid"
    )


def perform(
    request: HttpRequest, action: Callable[[], object], *, success: str, form: forms.Form | None = None
) -> bool:
    """Run a service call from a page, after the posted ``form`` that validates its input: the
    form's refusal or a domain error becomes an error message with its details, success a success
    message. Returns whether it succeeded."""
    try:
        if form is not None and not form.is_valid():
            raise form_refusal(form)
        action()
    except DomainError as exc:
        details = [m for messages_ in exc.fields.values() for m in messages_]
        messages.error(request, " ".join([exc.message, *details]))
        return False
    messages.success(request, success)
    return True


def letter_dispatch_post(request: HttpRequest, dispatch: Callable[[str, str], object]) -> None:
    """Record the paper dispatch of a letter from the posted form: ``dispatch(channel, reference)``
    calls the service, which checks the role and the tracking number (core.dispatch)."""
    from core.forms import LetterDispatchForm

    form = LetterDispatchForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        perform(
            request, lambda: dispatch(data["channel"], data["reference"]), success=_("Отправка документа отмечена.")
        )
    else:
        messages.error(request, "; ".join(str(m) for ms in form.errors.values() for m in ms))


def apply_error(form: forms.Form, error: DomainError) -> None:
    """Show a domain error on the form: on its fields where they exist, otherwise on top."""
    placed = False
    for field, field_messages in error.fields.items():
        if field in form.fields:
            for message in field_messages:
                form.add_error(field, message)
            placed = True
    if not placed or error.message:
        form.add_error(None, error.message)


def letter_pdf_response(
    request: HttpRequest, letter: models.Model, *, original: FieldFile, filename: str
) -> FileResponse:
    """The PDF of a letter that may have corrected editions (core.letters): the current edition, or
    ``?edition=N`` (1: as first sent), with ``&replaced=1`` its copy marked as replaced."""
    from core.selectors import letter_pdf

    raw = request.GET.get("edition", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 4):
        raise Http404
    file = letter_pdf(letter, original=original, number=int(raw) if raw else None, replaced="replaced" in request.GET)
    if not file:
        raise Http404
    return FileResponse(file.open("rb"), filename=filename, content_type="application/pdf")


def letter_correct_post(request: HttpRequest, correct: Callable[..., object]) -> None:
    """Issue a corrected edition of a letter from the posted form (core.forms.LetterCorrectionForm):
    ``correct(changes=, reason=, basis=, basis_reference=)`` calls the procedure's service."""
    from core.forms import LetterCorrectionForm

    form = LetterCorrectionForm(request.POST)
    perform(
        request,
        lambda: correct(
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
            basis=form.cleaned_data["basis"],
            basis_reference=form.cleaned_data["basis_reference"],
        ),
        success=_("Исправленный экземпляр письма подписан и направляется заявителю."),
        form=form,
    )


def letter_editions_rows(letter: models.Model | None, *, user: object) -> list[tuple[Any, forms.Form | None]]:
    """The corrected editions of a letter for a staff page, each with the form of its paper dispatch
    when this user may record it (core.letters.letter_edition_can_dispatch)."""
    from core.forms import LetterDispatchForm
    from core.letters import letter_edition_can_dispatch
    from core.selectors import letter_editions

    if letter is None:
        return []
    return [
        (
            edition,
            LetterDispatchForm(auto_id=f"edition{edition.number}_%s")
            if letter_edition_can_dispatch(edition=edition, user=user)  # type: ignore[arg-type]
            else None,
        )
        for edition in letter_editions(letter).order_by("number").select_related("dispatched_by")
    ]


def letter_particulars_initial(letter: models.Model, *, source: object) -> dict[str, Any]:
    """The particulars the current edition of a letter prints (``source``: the application, for a
    letter not corrected yet): what its correction forms are filled with."""
    from dataclasses import asdict

    from core.letters import addressee_of
    from core.selectors import letter_edition_current

    edition = letter_edition_current(letter)
    return dict(edition.particulars) if edition is not None else asdict(addressee_of(source))


def letter_correction_form(letter: models.Model, *, source: object) -> forms.Form:
    """The correction form of a letter, filled with the particulars its current edition prints."""
    from core.forms import LetterCorrectionForm

    return LetterCorrectionForm(initial=letter_particulars_initial(letter, source=source), auto_id="letter_%s")


PER_PAGE = 50


def page_of(request: HttpRequest, items: Any, per_page: int = PER_PAGE) -> Page:
    """One page of a long list (``?page=``; a wrong number gives the nearest page), for
    frontend/includes/pager.html, which keeps the list's filters in its links."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def status_filter(request: HttpRequest, items: models.QuerySet[Any], choices: Any) -> tuple[models.QuerySet[Any], str]:
    """A list narrowed to one state (``?status=``) when it names one of ``choices``."""
    status = request.GET.get("status", "")
    if status in choices.values:
        return items.filter(status=status), status
    return items, ""
