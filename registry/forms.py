"""Forms of the certificate officer and the signatory."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import calendar, dates
from core.api import JSONObjectField
from core.text import TextField
from registry.models import AnnulmentReason, AreaOfActivity, Certificate
from registry.selectors import REGISTRY_EARLIEST


class CertificateIssueForm(forms.Form):
    areas = forms.ModelMultipleChoiceField(
        label=_("Области деятельности"),
        queryset=AreaOfActivity.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    publish = forms.BooleanField(label=_("Сразу внести сведения в реестр"), required=False, initial=True)


class HandoverForm(forms.Form):
    method = forms.ChoiceField(label=_("Способ передачи"), choices=Certificate.Handover.choices)
    tracking_number = TextField(label=_("Почтовый идентификатор"), required=False, max_length=20)


class AnnulmentRequestForm(forms.Form):
    reason = forms.ModelChoiceField(label=_("Основание"), queryset=AnnulmentReason.objects.filter(active=True))
    basis = TextField(label=_("Документ-основание (реквизиты)"), max_length=500)
    basis_file = forms.FileField(
        label=_("Копия документа-основания"),
        required=False,
        help_text=_("PDF, JPEG или PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    comment = TextField(label=_("Пояснение"), required=False, max_length=2000, multiline=True, rows=2)


class NoteForm(forms.Form):
    note = TextField(label=_("Комментарий"), required=False, max_length=2000, multiline=True, rows=2)


class VerifyForm(forms.Form):
    """A signed record of the registry to verify (the public API; the verification page reads a
    record from its link instead)."""

    record = JSONObjectField(help_text=_("Запись реестра (поле record ответа о сертификате)"))
    signature = TextField(max_length=200)
    key_id = TextField(max_length=40)


def status_date_problem(value: date | None) -> str | None:
    """A day the registry is asked about (was the certificate valid on it?): not before the registry
    could hold a certificate (REGISTRY_EARLIEST), and not after today: the future is no fact yet
    (an annulment may come before it)."""
    if value is None:
        return None
    today = calendar.today()
    if value > today:
        return gettext("Дата не может быть позже сегодняшнего дня (%(d)s).") % {"d": today.strftime("%d.%m.%Y")}
    if value < REGISTRY_EARLIEST:
        return gettext("Дата не может быть раньше %(d)s (вступления в силу Федерального закона № 426-ФЗ).") % {
            "d": REGISTRY_EARLIEST.strftime("%d.%m.%Y")
        }
    return None


class StatusOnForm(forms.Form):
    """The question of the entry page and the public API: was the certificate valid on this day?"""

    date = dates.date_field(_("Дата"), status_date_problem)
