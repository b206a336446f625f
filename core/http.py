"""Small request helpers shared by pages and the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.models import User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the server saw it (behind a proxy, configure it to set REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None


def request_user(request: HttpRequest | Any) -> User:
    """The signed-in user of a view that requires one (login_required / IsAuthenticated)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
