"""Forms of accounts: registration, sign-in and the second factor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core.dispatch import STAFF_CHANNELS
from core.models import DispatchChannel, LetterEdition
from core.text import TextField, name_validator


class RegistrationForm(forms.Form):
    last_name = TextField(label=_("Фамилия"), max_length=100, validators=[name_validator])
    first_name = TextField(label=_("Имя"), max_length=100, validators=[name_validator])
    patronymic = TextField(
        label=_("Отчество (при наличии)"), max_length=100, required=False, validators=[name_validator]
    )
    email = forms.EmailField(label=_("Электронная почта"), max_length=254)
    # Passwords are taken as typed (no normalisation), but bounded; the request guard refuses a
    # lone surrogate or NUL, which could not be hashed.
    password1 = forms.CharField(
        label=_("Пароль"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        # The rules the password is checked against, shown before they are broken (lazy: the
        # language of the page).
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Пароль ещё раз"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Пароли не совпадают."))
        elif p1:
            from core.models import User

            probe = User(
                email=data.get("email", ""), last_name=data.get("last_name", ""), first_name=data.get("first_name", "")
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(AuthenticationForm):
    """Sign-in by e-mail and password. Candidates must have confirmed the e-mail address."""

    username = forms.EmailField(
        label=_("Электронная почта"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("Неверная электронная почта или пароль."),
        "inactive": _("Учётная запись отключена."),
        "unconfirmed": _("Адрес электронной почты не подтверждён. Мы отправили письмо со ссылкой ещё раз."),
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff and user.email_confirmed_at is None:
            from core.tasks import email_confirmation_send, enqueue

            enqueue(email_confirmation_send, user.pk)
            raise forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


class OTPTokenForm(forms.Form):
    token = TextField(
        label=_("Код из приложения-аутентификатора"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )


class LetterDispatchForm(forms.Form):
    """p.52, p.64: the registrar records that a letter went out on paper (core.dispatch)."""

    channel = forms.ChoiceField(
        label=_("Способ отправки"),
        choices=[(c.value, c.label) for c in STAFF_CHANNELS],
        initial=DispatchChannel.POST,
    )
    reference = TextField(
        label=_("Почтовый идентификатор (для вручения лично — отметка, необязательно)"),
        required=False,
        max_length=200,
    )


class LetterCorrectionForm(forms.Form):
    """p.78(g): the corrected particulars of the addressee printed on a letter, the reason and its
    basis (core.letters). Filled with the particulars the current edition prints."""

    last_name = TextField(label=_("Фамилия"), max_length=100, validators=[name_validator])
    first_name = TextField(label=_("Имя"), max_length=100, validators=[name_validator])
    patronymic = TextField(label=_("Отчество"), max_length=100, required=False, validators=[name_validator])
    postal_address = TextField(label=_("Почтовый адрес"), max_length=500, required=False)
    email = forms.EmailField(label=_("Адрес электронной почты"), max_length=254, required=False)
    reason = TextField(label=_("Причина исправления"), max_length=2000, multiline=True)
    basis = forms.ChoiceField(label=_("Основание"), choices=LetterEdition.Basis.choices)
    basis_reference = TextField(label=_("Номер и дата жалобы или заявления"), max_length=200, required=False)

    def changes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in LetterEdition.PARTICULARS}
