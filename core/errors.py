"""The one domain error. Services raise it with a Russian message; the API's exception handler turns
it into a structured 4xx and pages into a form error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext


class DomainError(Exception):
    """A rule of the procedure forbids the operation.

    ``code`` is stable for clients; ``message`` is for people; ``fields`` maps a field name to the
    messages about it; ``status`` is the HTTP status the API answers with (400, 403, 404 or 409)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        fields: dict[str, list[str]] | None = None,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.fields = fields or {}
        self.status = status
        self.details = details or {}


class TransitionNotAllowed(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="transition_not_allowed", status=409)


class NotFound(DomainError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or gettext("Не найдено."), code="not_found", status=404)


def allowed(check: Callable[[], object]) -> bool:
    """Whether ``check`` passes, i.e. raises no domain error: a page asks the very check a service
    runs before acting, so that it offers an action exactly when the service would accept it."""
    try:
        check()
    except DomainError:
        return False
    return True
