"""Forms of the certificate officer and the signatory."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.api import JSONObjectField
from core.text import TextField
from registry.models import AnnulmentReason, AreaOfActivity, Certificate


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
