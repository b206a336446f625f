"""Accounts: candidates register themselves and confirm their e-mail; staff may turn on TOTP
two-factor sign-in. Failed logins are counted by django-axes (settings AXES_*)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import DomainError
from core.models import User
from core.services import audit_record
from core.site import absolute_url
from core.text import text_required

_CONFIRM_SALT = "core.email-confirmation"


def account_register(*, email: str, password: str, last_name: str, first_name: str, patronymic: str = "") -> User:
    """A candidate creates an account; it can sign in after confirming the e-mail address."""
    from core.tasks import email_confirmation_send, enqueue

    email = email.strip().lower()
    last_name = text_required(last_name, field="last_name", label=_("Фамилия"))
    first_name = text_required(first_name, field="first_name", label=_("Имя"))
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, last_name=last_name, first_name=first_name, patronymic=patronymic
            )
            audit_record(case=user, actor=user, verb="account_register", action="event")
    except IntegrityError:
        raise DomainError(
            _("Пользователь с такой электронной почтой уже зарегистрирован."),
            code="email_taken",
            fields={"email": [_("Адрес уже используется.")]},
        ) from None
    transaction.on_commit(lambda: enqueue(email_confirmation_send, user.pk))
    return user


def email_confirmation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_CONFIRM_SALT)


def email_confirmation_url(user: User) -> str:
    return absolute_url(reverse("frontend:confirm_email", args=[email_confirmation_token(user)]))


def account_confirm_email(*, token: str) -> User:
    try:
        data = signing.loads(token, salt=_CONFIRM_SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired:
        raise DomainError(_("Ссылка устарела. Войдите, чтобы получить новую."), code="token_expired") from None
    except signing.BadSignature:
        raise DomainError(_("Ссылка недействительна."), code="token_invalid") from None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        raise DomainError(_("Ссылка недействительна."), code="token_invalid")
    if user.email_confirmed_at is None:
        User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
        user.refresh_from_db()
        audit_record(case=user, actor=user, verb="email_confirmed", action="event")
    return user


# --- TOTP two-factor sign-in for staff -----------------------------------------------------------


def otp_device_start(*, user: User) -> TOTPDevice:
    """Create (or restart) an unconfirmed TOTP device; it protects sign-in once confirmed."""
    if not user.is_staff:
        raise DomainError(_("Двухфакторный вход доступен сотрудникам."), code="forbidden", status=403)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Приложение-аутентификатор"), confirmed=False)


def otp_device_confirm(*, user: User, token: str) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise DomainError(_("Начните подключение заново."), code="no_device")
    if not (token.strip().isascii() and token.strip().isdigit()) or not device.verify_token(token.strip()):
        raise DomainError(_("Неверный код из приложения."), code="otp_invalid", fields={"token": [_("Неверный код.")]})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(case=user, actor=user, verb="otp_enabled", action="event")
    return device


def otp_device_remove(*, user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(case=user, actor=user, verb="otp_disabled", action="event")


def otp_required(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_pending(user: Any) -> bool:
    """A signed-in staff member with a confirmed TOTP device whose session has not passed the code
    step (e.g. a session opened before the device was confirmed). Every staff page, the staff API
    and the admin refuse such a session: the password alone must never be enough."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    if callable(is_verified) and is_verified():
        return False
    return otp_required(user)


def session_second_factor_pending(user: Any, session: Any) -> bool:
    """second_factor_pending for a connection that django_otp's middleware does not see (a
    WebSocket): the device the session passed the code step with is read from the session."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    if not getattr(user, "is_authenticated", False) or not user.is_staff or not otp_required(user):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if isinstance(persistent_id, str) else None
    return device is None or device.user_id != user.pk or not device.confirmed


class TwoFactorAdminSite(OTPAdminSite):
    """The Django admin, django-otp's site: only a session verified by a TOTP device opens it (its
    powers — accounts, roles, the calendar, reference lists — never rest on a password alone). Its
    login page is the product's (password, then the code); a staff member who has not turned TOTP on
    is sent to turn it on first, then comes back."""

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        user = request.user
        if user.is_active and user.is_staff and not otp_required(user):  # type: ignore[arg-type]
            return redirect_to_login(next_url, login_url=reverse("frontend:otp_setup"))
        return redirect_to_login(next_url, login_url=reverse("frontend:login"))
