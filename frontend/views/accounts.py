"""Registration, e-mail confirmation, sign-in with an optional second factor, TOTP set-up."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import accounts
from core.errors import DomainError
from core.forms import LoginForm, OTPTokenForm, RegistrationForm
from frontend.views.common import apply_error, second_factor_redirect

PENDING_KEY = "pending_2fa_user"
PENDING_NEXT = "pending_2fa_next"


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("frontend:home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            accounts.account_register(
                email=data["email"],
                password=data["password1"],
                last_name=data["last_name"],
                first_name=data["first_name"],
                patronymic=data["patronymic"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            return render(request, "frontend/auth/registered.html", {"email": data["email"]})
    return render(request, "frontend/auth/register.html", {"form": form})


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        accounts.account_confirm_email(token=token)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Адрес электронной почты подтверждён. Войдите в личный кабинет."))
    return redirect("frontend:login")


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return ""


def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user.is_staff and accounts.otp_required(user):
            request.session[PENDING_KEY] = user.pk
            request.session[PENDING_NEXT] = next_url
            return redirect("frontend:login_otp")
        login(request, user)
        return redirect(next_url or ("frontend:staff_dashboard" if user.is_staff else "frontend:cabinet"))
    return render(request, "frontend/auth/login.html", {"form": form, "next": next_url})


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """The new password set from the e-mailed link: the sign-in page then says so."""

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Пароль изменён. Войдите с новым паролем."))
        return response


def login_otp(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_KEY)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("frontend:login")
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        verified = device is not None and device.verify_token(form.cleaned_data["token"])
        if verified and device is not None:
            next_url = request.session.pop(PENDING_NEXT, "")
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return redirect(next_url or "frontend:staff_dashboard")
        form.add_error("token", _("Неверный код или слишком много попыток; подождите и попробуйте снова."))
    return render(request, "frontend/auth/login_otp.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("frontend:home")


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_staff:
        return redirect("frontend:cabinet")
    if accounts.second_factor_pending(user):
        # Without the code, a password-only session could switch the second factor off.
        return second_factor_redirect(request)
    # The admin sends here whoever has not turned TOTP on yet (core.accounts.TwoFactorAdminSite),
    # with where to go back once it is on; the forms post to this same address.
    next_url = _safe_next(request, request.GET.get("next"))
    here = reverse("frontend:otp_setup") + (f"?{urlencode({'next': next_url})}" if next_url else "")
    form = OTPTokenForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and action == "start":
        accounts.otp_device_start(user=user)
        return redirect(here)
    if request.method == "POST" and action == "remove":
        accounts.otp_device_remove(user=user)
        messages.success(request, _("Двухфакторный вход отключён."))
        return redirect(here)
    if request.method == "POST" and action == "confirm" and form.is_valid():
        try:
            device = accounts.otp_device_confirm(user=user, token=form.cleaned_data["token"])
        except DomainError as exc:
            apply_error(form, exc)
        else:
            # The code just entered verifies this session: staff pages stay open in it.
            otp_login(request, device)
            messages.success(request, _("Двухфакторный вход включён."))
            return redirect(next_url or here)
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    context = {
        "form": form,
        "for_admin": bool(next_url) and not accounts.otp_required(user),
        "enabled": accounts.otp_required(user),
        "pending": pending,
        "qr_svg": segno.make(pending.config_url, error="m").svg_inline(scale=4) if pending else "",
        "secret": _base32(pending) if pending else "",
    }
    return render(request, "frontend/auth/otp_setup.html", context)


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")
