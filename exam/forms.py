"""Validation of what candidates and staff type in: one set of rules for the pages and the API.

Each form checks one part of the application (p.15(a)); the API feeds the same forms with JSON and
answers their errors as a structured 400. A draft may leave fields empty (completeness is checked on
submission, p.19), but whatever is filled in must be valid.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import dates
from core.api import JSONObjectField, YesNoField, validate_form_json
from core.errors import DomainError
from core.idempotency import OnceForm
from core.text import TextField, name_validator
from core.uploads import read_upload
from exam.models import Attachment, AttemptEvent, AttemptInterruption, Channel, Decision, EntryCorrection

MAX_ENTRIES = 20

document_number_validator = RegexValidator(
    r"^[0-9A-Za-zА-Яа-яЁё№ ./\-]+$",
    _("Допустимы буквы, цифры, пробел, точка, дефис, косая черта и знак №."),
)
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{5,18}[0-9]$",
    _("Укажите телефон цифрами, например +7 495 123-45-67."),
)


def _date_field(label: Any, *, required: bool) -> forms.DateField:
    """An issue date of a document or a date of experience: within the last 80 years, not ahead."""
    return dates.date_field(label, dates.document_date_problem, required=required)


LONG_TEXT = 200


def _text(label: Any, *, max_length: int, required: bool = True, **kwargs: Any) -> TextField:
    # A long value (a name of an institution, an address) wraps instead of being cut (core.text.TextField).
    kwargs.setdefault("wrap", max_length >= LONG_TEXT)
    return TextField(label=label, max_length=max_length, required=required, **kwargs)


class ApplicantForm(forms.Form):
    """p.15(a): name, identity document, contacts, consent."""

    last_name = _text(_("Фамилия"), max_length=100, required=False, validators=[name_validator])
    first_name = _text(_("Имя"), max_length=100, required=False, validators=[name_validator])
    patronymic = _text(_("Отчество (при наличии)"), max_length=100, required=False, validators=[name_validator])
    id_document_name = _text(
        _("Наименование документа, удостоверяющего личность"),
        max_length=200,
        required=False,
        help_text=_("Например: паспорт гражданина Российской Федерации"),
    )
    id_document_number = _text(
        _("Серия и номер"), max_length=50, required=False, validators=[document_number_validator]
    )
    id_document_issuer = _text(_("Кем выдан"), max_length=300, required=False)
    id_document_issued_on = _date_field(_("Дата выдачи"), required=False)
    postal_address = _text(_("Почтовый адрес"), max_length=500, required=False, multiline=True, rows=2)
    email = forms.EmailField(label=_("Адрес электронной почты (при наличии)"), required=False, max_length=254)
    phone = _text(
        _("Номер контактного телефона (при наличии)"), max_length=30, required=False, validators=[phone_validator]
    )
    personal_data_consent = forms.BooleanField(
        label=_(
            "Даю согласие на обработку моих персональных данных в соответствии с Федеральным законом "
            "от 27 июля 2006 г. № 152-ФЗ «О персональных данных» в целях аттестации"
        ),
        required=False,
    )

    def clean_postal_address(self) -> str:
        value: str = self.cleaned_data["postal_address"]
        if value and len(value) < 10:
            raise forms.ValidationError(_("Укажите почтовый адрес полностью, с индексом."))
        return value


class HigherEducationForm(forms.Form):
    institution = _text(_("Образовательная организация"), max_length=300)
    specialty = _text(_("Направление подготовки (специальность)"), max_length=300)
    document_name = _text(_("Наименование документа"), max_length=200, help_text=_("Например: диплом специалиста"))
    document_number = _text(_("Номер документа"), max_length=50, validators=[document_number_validator])
    document_date = _date_field(_("Дата выдачи"), required=True)


class AdditionalEducationForm(forms.Form):
    organisation = _text(_("Организация, проводившая обучение"), max_length=300)
    programme = _text(_("Наименование программы"), max_length=300)
    assessment_hours = forms.IntegerField(
        label=_("Часов на изучение вопросов оценки условий труда"),
        min_value=1,
        max_value=2000,
        error_messages={"invalid": _("Укажите целое число часов.")},
    )
    document_number = _text(_("Номер документа о квалификации"), max_length=50, validators=[document_number_validator])
    document_date = _date_field(_("Дата выдачи"), required=True)


class ExperienceForm(forms.Form):
    employer = _text(_("Наименование работодателя"), max_length=300)
    works = _text(_("Перечень работ в области оценки условий труда"), max_length=4000, multiline=True, rows=2)
    date_from = _date_field(_("Работал(а) с"), required=True)
    date_to = _date_field(_("по (пусто — по настоящее время)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Дата окончания раньше даты начала."))
        return data


ENTRY_FORMS: dict[str, type[forms.Form]] = {
    "higher_education": HigherEducationForm,
    "additional_education": AdditionalEducationForm,
    "experience": ExperienceForm,
}

EntryFormSets = {
    name: forms.formset_factory(form, extra=0, max_num=MAX_ENTRIES, validate_max=True, can_delete=True)
    for name, form in ENTRY_FORMS.items()
}


def validate_application_payload(data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate a JSON payload of the whole draft: applicant fields at the top level and a list for
    each kind of entry. Returns (cleaned, errors); error keys are ``field`` or ``section.N.field``."""
    if not isinstance(data, dict):
        return {}, {"non_field_errors": [str(_("Ожидается объект JSON."))]}
    applicant, errors = validate_form_json(ApplicantForm, {k: v for k, v in data.items() if k not in ENTRY_FORMS})
    cleaned: dict[str, Any] = {"applicant": applicant} if not errors else {}
    for section, form_class in ENTRY_FORMS.items():
        rows = data.get(section, [])
        if not isinstance(rows, list):
            errors[section] = [str(_("Ожидается список."))]
            continue
        if len(rows) > MAX_ENTRIES:
            errors[section] = [
                ngettext("Не более %(n)d записи.", "Не более %(n)d записей.", MAX_ENTRIES) % {"n": MAX_ENTRIES}
            ]
            continue
        cleaned[section] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors[f"{section}.{index}"] = [str(_("Ожидается объект."))]
                continue
            row_cleaned, row_errors = validate_form_json(form_class, row)
            if row_errors:
                for field, messages in row_errors.items():
                    key = f"{section}.{index}" if field == "non_field_errors" else f"{section}.{index}.{field}"
                    errors[key] = messages
            else:
                cleaned[section].append(row_cleaned)
    return cleaned, errors


class PaperReceiptForm(OnceForm):
    """What the registrar records about an application received on paper (p.16, p.25-27)."""

    channel = forms.ChoiceField(label=_("Способ поступления"), choices=[(c.value, c.label) for c in Channel.paper()])
    received_at = dates.moment_field(_("Дата и время поступления"), dates.paper_receipt_problem)
    candidate_email = forms.EmailField(
        label=_("Электронная почта заявителя (если есть учётная запись)"), required=False
    )
    paper_documents = forms.MultipleChoiceField(
        label=_("Представленные документы (п. 15 «б»—«г»)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Attachment.Kind.choices,
    )


class DecisionForm(forms.Form):
    """The reviewer's draft decision (p.48)."""

    kind = forms.ChoiceField(label=_("Решение"), choices=Decision.Kind.choices, widget=forms.RadioSelect)
    sitting = forms.IntegerField(label=_("Сеанс тестирования"), required=False)
    grounds = forms.MultipleChoiceField(
        label=_("Основания отказа (п. 21)"),
        choices=Decision.Ground.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    explanation = TextField(label=_("Пояснение"), required=False, max_length=4000, multiline=True, rows=4)


class EntryCorrectionForm(forms.Form):
    """The reviewer's correction of an entry from the attached document: which entry and field
    (``kind:id:field``, the choices the page offers), the value, the reason. The value is read as the
    field needs it: whole hours; a date (empty for a period of work "to date"); "да" or "нет" for
    whether the entry counts."""

    target = forms.ChoiceField(label=_("Что исправить"))
    value = TextField(
        label=_("Значение по документу"),
        max_length=20,
        required=False,
        help_text=_("Часы — целым числом; дата — ДД.ММ.ГГГГ (пусто — по настоящее время); учёт — «да» или «нет»."),
    )
    reason = TextField(label=_("Причина исправления"), max_length=2000, multiline=True, rows=2)

    YES = ("да", "yes")
    NO = ("нет", "no")

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target, raw = data.get("target"), data.get("value", "")
        if not target or "value" not in data:
            return data
        kind, entry_id, field = target.split(":")
        data.update(kind=kind, entry_id=int(entry_id), field=field)
        fields = EntryCorrection.Field
        if field == fields.COUNTED:
            if raw.lower() not in (*self.YES, *self.NO):
                self.add_error("value", _("Укажите «да» или «нет»."))
            data["value"] = raw.lower() in self.YES
        elif field == fields.ASSESSMENT_HOURS:
            try:
                data["value"] = int(raw)
            except ValueError:
                self.add_error("value", _("Укажите целое число часов."))
        elif not raw and field == fields.DATE_TO:
            data["value"] = None
        else:
            date_field = _date_field(fields(field).label, required=True)
            try:
                data["value"] = date_field.clean(raw)
            except forms.ValidationError as exc:
                self.add_error("value", exc)
        return data


class ReasonForm(forms.Form):
    reason = TextField(label=_("Что нужно исправить"), max_length=2000, multiline=True)


class SignatureCodeForm(forms.Form):
    code = TextField(
        label=_("Код из письма"),
        max_length=6,
        min_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("Код состоит из 6 цифр."))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


# The file types signing tools save a detached signature as.
SIGNATURE_FILE_TYPES = ".sig,.p7s,.sgn,.pem,.p7b,.txt"


class QualifiedSignatureUploadForm(forms.Form):
    """The page's upload of a detached qualified electronic signature file (DER, PEM or Base64)."""

    signature = forms.FileField(
        label=_("Файл подписи (.sig или .p7s)"),
        widget=forms.FileInput(attrs={"accept": SIGNATURE_FILE_TYPES}),
    )

    def clean_signature(self) -> bytes:
        upload = self.cleaned_data["signature"]
        try:
            return read_upload(
                upload,
                name=(upload.name or "signature")[:255],
                limit=settings.QES_VERIFY_SIGNATURE_MAX_BYTES,
                field="signature",
            )
        except DomainError as exc:  # too large, empty
            raise forms.ValidationError(exc.message) from exc


class QualifiedSignatureForm(forms.Form):
    """The API's qualified signature: the detached signature file as Base64 or PEM text."""

    # Not free text (tests/core/test_text.py): Base64 data, or PEM with its BEGIN/END lines.
    signature = forms.CharField(
        label=_("Открепленная подпись (Base64 или PEM)"),
        max_length=settings.QES_VERIFY_SIGNATURE_MAX_BYTES * 2,
        strip=True,
        validators=[RegexValidator(r"^[A-Za-z0-9+/=\s-]+$", _("Подпись передаётся в кодировке Base64 или PEM."))],
    )

    def clean_signature(self) -> bytes:
        return str(self.cleaned_data["signature"]).encode("ascii", errors="replace")


class SittingForm(OnceForm):
    # Bounded by sitting_create (dates.sitting_start_problem), with the other checks of the sitting.
    starts_at = dates.moment_field(_("Дата и время начала"))
    entry_window_minutes = forms.IntegerField(label=_("Окно входа, минут"), initial=60, min_value=5, max_value=1440)
    is_remote = forms.BooleanField(label=_("Дистанционно"), required=False, initial=True)
    place = TextField(label=_("Место проведения"), required=False, max_length=300)
    capacity = forms.IntegerField(label=_("Мест"), initial=100, min_value=1, max_value=10000)


class QuestionForm(forms.Form):
    """The exam administrator's editor: 3 to 6 options, the correct ones ticked."""

    code = TextField(label=_("Код"), max_length=20)
    topic = TextField(label=_("Тема (код)"), max_length=20)
    text = TextField(label=_("Текст вопроса"), max_length=4000, multiline=True)
    option_1 = TextField(label=_("Вариант 1"), max_length=1000, required=False)
    option_2 = TextField(label=_("Вариант 2"), max_length=1000, required=False)
    option_3 = TextField(label=_("Вариант 3"), max_length=1000, required=False)
    option_4 = TextField(label=_("Вариант 4"), max_length=1000, required=False)
    option_5 = TextField(label=_("Вариант 5"), max_length=1000, required=False)
    option_6 = TextField(label=_("Вариант 6"), max_length=1000, required=False)
    correct = forms.MultipleChoiceField(
        label=_("Правильные варианты"),
        choices=[(str(i), str(i)) for i in range(1, 7)],
        widget=forms.CheckboxSelectMultiple,
    )
    retired = forms.BooleanField(label=_("Выведен из банка (не попадает в новые тесты)"), required=False)
    practice = forms.BooleanField(
        label=_("Тренировочный (только для тренировочного теста, ответы открыты; в испытание не попадает)"),
        help_text=_("Задаётся при создании вопроса и потом не меняется."),
        required=False,
    )

    def raw(self) -> dict[str, Any]:
        """The question in the shape of the import (validated by exam.testing.services.bank)."""
        data = self.cleaned_data
        options = [data[f"option_{i}"] for i in range(1, 7)]
        numbered = [(i + 1, o) for i, o in enumerate(options) if o]
        renumber = {old: new for new, (old, _o) in enumerate(numbered, start=1)}
        return {
            "code": data["code"],
            "topic": data["topic"],
            "text": data["text"],
            "options": [o for _i, o in numbered],
            # A ticked option left empty maps to 0, which the validation reports.
            "correct": [renumber.get(int(c), 0) for c in data["correct"]],
            "retired": data["retired"],
            "practice": data["practice"],
        }


class InterruptionForm(forms.Form):
    """p.12(g): time the candidate lost to the ministry's side, as the exam administrator records it."""

    cause = forms.ChoiceField(label=_("Причина перерыва"), choices=AttemptInterruption.Cause.choices)
    started_at = dates.moment_field(_("Начало перерыва"))
    ended_at = dates.moment_field(_("Окончание перерыва"))
    reason = TextField(label=_("Обстоятельства"), max_length=500)


class ExtraTimeForm(forms.Form):
    """p.12(g): extra time restoring the time lost to one recorded interruption."""

    interruption = forms.IntegerField(label=_("Перерыв"))
    minutes = forms.IntegerField(label=_("Минут"), min_value=1, max_value=600)


# --- The exam room's API (its page posts no form: exam.testing.api.views) ----------------------------


class ExamLoginForm(forms.Form):
    """The login and password of the admission notice (p.53)."""

    login = TextField(max_length=40)
    password = forms.CharField(max_length=100, strip=False)  # as typed


class AttemptStartForm(forms.Form):
    # Given as true or false: that it must be true is the rule of attempt_start (p.55), with its message.
    personally = YesNoField(help_text=_("Подтверждение: испытание проходится лично, правила прочитаны"))


class AttemptEventForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind, kind) for kind in AttemptEvent.CLIENT_KINDS])
    data = JSONObjectField(  # type: ignore[assignment]  # a field, not the form's data (the metaclass takes it)
        required=False,
        scalars=True,
        help_text=_("Подробности: хранятся первые 10 значений, ключи до 30 и значения до 200 символов"),
    )
