"""Forms of the certificate officer and the signatory."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import calendar, dates
from core.api import JSONObjectField
from core.text import TextField, field_refusal
from exam.models import Channel
from registry.models import AnnulmentReason, AreaOfActivity, Certificate, CertificateEdition
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


class EditionRequestForm(forms.Form):
    """The expert's request for a new edition of the certificate: its date and how it came."""

    request_date = dates.date_field(_("Дата заявления эксперта"), dates.document_date_problem, required=False)
    request_channel = forms.ChoiceField(
        label=_("Способ подачи заявления"), choices=[("", "—"), *Channel.choices], required=False
    )
    reason = TextField(label=_("Причина"), max_length=1000, multiline=True, rows=2)


class CertificateCorrectForm(EditionRequestForm):
    """A corrected edition (p.78(g)): the holder's names and the areas of activity as they should
    read, the reason and the basis; the number and the dates are not among the fields."""

    last_name = TextField(label=_("Фамилия"), max_length=100)
    first_name = TextField(label=_("Имя"), max_length=100)
    patronymic = TextField(label=_("Отчество"), max_length=100, required=False)
    areas = forms.ModelMultipleChoiceField(
        label=_("Области деятельности"),
        queryset=AreaOfActivity.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    basis = forms.ChoiceField(
        label=_("Основание исправления"),
        choices=[c for c in CertificateEdition.Basis.choices if c[0] != CertificateEdition.Basis.ISSUE],
    )
    basis_reference = TextField(
        label=_("Реквизиты жалобы"), max_length=300, required=False, help_text=_("При исправлении по жалобе.")
    )

    field_order = [
        "last_name",
        "first_name",
        "patronymic",
        "areas",
        "reason",
        "basis",
        "basis_reference",
        "request_date",
        "request_channel",
    ]

    @classmethod
    def for_certificate(cls, certificate: Certificate) -> CertificateCorrectForm:
        return cls(
            initial={
                "last_name": certificate.last_name,
                "first_name": certificate.first_name,
                "patronymic": certificate.patronymic,
                "areas": list(certificate.areas.all()),
            },
            prefix="correct",
        )

    def changes(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in ("last_name", "first_name", "patronymic", "areas")}


class CertificateDuplicateForm(EditionRequestForm):
    """A duplicate of a lost or damaged certificate, at the expert's request."""

    request_date = dates.date_field(_("Дата заявления эксперта"), dates.document_date_problem)
    request_channel = forms.ChoiceField(label=_("Способ подачи заявления"), choices=Channel.choices)


def _document_field(label: Any, *, required: bool) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        help_text=_("PDF, JPEG или PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class ExpertiseFindingForm(forms.Form):
    """The particulars of a conclusion of a state expertise of working conditions (seeds 002, 003)
    that an annulment on the reason «state expertise» rests on (registry.models.ExpertiseFinding)."""

    authority = TextField(label=_("Орган, проводивший экспертизу"), max_length=300)
    region = TextField(label=_("Субъект Российской Федерации"), max_length=100)
    number = TextField(label=_("Номер заключения"), max_length=60)
    issued_on = dates.date_field(_("Дата заключения"), dates.document_date_problem)
    employer = TextField(label=_("Работодатель, у которого проводилась СОУТ"), max_length=300)
    report = TextField(
        label=_("Отчёт о проведении СОУТ (реквизиты)"),
        max_length=300,
        help_text=_("Дата утверждения и идентификационный номер отчёта во ФГИС СОУТ."),
    )
    experts = TextField(
        label=_("Эксперты, названные в заключении"),
        max_length=2000,
        multiline=True,
        rows=2,
        help_text=_("Ф. И. О. и номера сертификатов."),
    )
    findings = TextField(label=_("Выводы заключения"), max_length=4000, multiline=True, rows=4)
    document = _document_field(_("Копия заключения"), required=True)


class AnnulmentRequestForm(forms.Form):
    """The request to annul; on the reason «state expertise» with the conclusion's particulars
    (``finding``, the fields prefixed "finding-"), from which the basis is composed."""

    reason = forms.ModelChoiceField(label=_("Основание"), queryset=AnnulmentReason.objects.filter(active=True))
    basis = TextField(
        label=_("Документ-основание (реквизиты)"),
        max_length=500,
        required=False,
        help_text=_(
            "При основании «заключение государственной экспертизы условий труда» не заполняется: реквизиты "
            "составляются из сведений заключения."
        ),
    )
    basis_file = _document_field(_("Копия документа-основания"), required=False)
    comment = TextField(label=_("Пояснение"), required=False, max_length=2000, multiline=True, rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required only on the state expertise reason (clean): the browser must not ask for them on another.
        self.finding = ExpertiseFindingForm(
            self.data if self.is_bound else None,
            self.files if self.is_bound else None,
            prefix="finding",
            use_required_attribute=False,
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reason = cleaned.get("reason")
        cleaned["finding"] = None
        if reason is None:
            return cleaned
        if not reason.is_state_expertise:
            if not cleaned.get("basis") and "basis" not in self.errors:
                self.add_error("basis", forms.ValidationError(_("Обязательное поле."), code="required"))
            return cleaned
        if cleaned.get("basis"):
            self.add_error("basis", gettext("При этом основании реквизиты составляются из сведений заключения."))
        if self.finding.is_valid():
            cleaned["finding"] = self.finding.cleaned_data
        else:
            # The first refused field of the conclusion, worded as a page words a refused field.
            name, errors = next(iter(self.finding.errors.as_data().items()))
            error = errors[0]
            self.add_error(
                None,
                field_refusal(
                    field=name,
                    label=self.finding.fields[name].label or name,
                    problem=None if error.code == "required" else error.messages[0],
                ).message,
            )
        return cleaned


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
