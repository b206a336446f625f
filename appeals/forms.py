"""Forms of appeals and complaints: they validate what people type (the services take the cleaned
values and check the rules of the procedure)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from appeals.models import AppealVote, Complaint
from appeals.services import CorrectedDocument
from core import dates
from core.forms import LetterCorrectionForm
from core.idempotency import OnceForm
from core.models import LetterEdition
from core.text import TextField
from registry.forms import CertificateCorrectForm
from registry.services import CORRECTABLE_FIELDS


class AppealForm(OnceForm):
    reasons = TextField(label=_("Доводы апелляции"), max_length=5000, multiline=True, rows=6)


class VoteForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Голос"), choices=AppealVote.Outcome.choices, widget=forms.RadioSelect)
    rescore = TextField(label=_("Засчитать вопросы (номера через запятую)"), required=False, max_length=200)
    void = TextField(label=_("Аннулировать вопросы (номера через запятую)"), required=False, max_length=200)
    opinion = TextField(label=_("Мнение"), required=False, max_length=5000, multiline=True)

    def _numbers(self, name: str) -> list[int]:
        raw = self.cleaned_data.get(name, "")
        parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
        if any(not (p.isascii() and p.isdigit()) for p in parts):  # "²".isdigit() is true
            raise forms.ValidationError(_("Укажите номера вопросов числами через запятую."))
        return [int(p) for p in parts]

    def clean_rescore(self) -> list[int]:
        return self._numbers("rescore")

    def clean_void(self) -> list[int]:
        return self._numbers("void")


class AppealDecisionForm(forms.Form):
    reasons = TextField(label=_("Мотивы решения"), max_length=5000, multiline=True)


class ComplaintForm(OnceForm):
    subject = forms.ChoiceField(label=_("Предмет жалобы (п. 78)"), choices=Complaint.Subject.choices)
    official = TextField(
        label=_("Должностное лицо Министерства, решения или действия которого обжалуются"), max_length=300
    )
    last_name = TextField(label=_("Фамилия"), max_length=100)
    first_name = TextField(label=_("Имя"), max_length=100)
    patronymic = TextField(label=_("Отчество (при наличии)"), max_length=100, required=False)
    residence = TextField(label=_("Место жительства"), max_length=500)
    postal_address = TextField(label=_("Почтовый адрес для ответа"), max_length=500, required=False)
    email = forms.EmailField(label=_("Электронная почта"), required=False, max_length=254)
    phone = TextField(label=_("Телефон"), max_length=30, required=False)
    decision_complained = TextField(
        label=_("Обжалуемые решения и действия (бездействие)"), max_length=5000, multiline=True
    )
    arguments = TextField(label=_("Доводы"), max_length=5000, multiline=True, rows=5)
    by_representative = forms.BooleanField(label=_("Жалобу подаёт представитель"), required=False)
    representative_name = TextField(label=_("Ф. И. О. представителя"), max_length=300, required=False)


class PublicComplaintForm(ComplaintForm):
    """The complaint of p.79 without a cabinet account: the e-mail address is required (the
    confirmation link goes to it, and the answer may); a representative attaches the power of
    attorney (p.83) to it, as from the cabinet."""

    email = forms.EmailField(
        label=_("Электронная почта"),
        max_length=254,
        help_text=_("На этот адрес придёт ссылка: жалоба подаётся, когда вы её откроете и подтвердите."),
    )


class PaperComplaintForm(ComplaintForm):
    channel = forms.ChoiceField(
        label=_("Способ поступления"),
        choices=[(c.value, c.label) for c in Complaint.Channel if c != Complaint.Channel.PORTAL],
    )
    # p.86: as for a paper application, when it arrived: not in the future nor long ago.
    received_at = dates.moment_field(_("Дата и время поступления"), dates.paper_receipt_problem)


class ComplaintDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Решение"),
        choices=[
            ("uphold", _("Удовлетворить (п. 88 «а»)")),
            ("refuse", _("Отказать (п. 88 «б»)")),
            ("unanswered", _("Оставить без ответа (п. 92)")),
        ],
        widget=forms.RadioSelect,
    )
    remedy = forms.ChoiceField(
        label=_("Меры (при удовлетворении)"),
        choices=[("", "—"), *[(r.value, r.label) for r in Complaint.REMEDIES_OFFERED]],
        required=False,
    )
    refusal_ground = forms.ChoiceField(
        label=_("Основание отказа"), choices=[("", "—"), *Complaint.RefusalGround.choices], required=False
    )
    silence_ground = forms.ChoiceField(
        label=_("Основание оставить без ответа"), choices=[("", "—"), *Complaint.SilenceGround.choices], required=False
    )
    address_readable = forms.BooleanField(
        label=_("Почтовый адрес читается (сообщить заявителю)"), required=False, initial=True
    )
    text = TextField(label=_("Основания принятого решения"), max_length=5000, multiline=True, rows=4)
    # p.94(a): printed on the answer; p.80 names the deputy minister.
    handler_position = TextField(
        label=_("Должность подписывающего ответ"),
        max_length=300,
        initial=_("Заместитель Министра труда и социальной защиты Российской Федерации"),
    )


class ComplaintAnswerDispatchForm(forms.Form):
    """p.93: staff record that the signed answer went out on paper."""

    channel = forms.ChoiceField(
        label=_("Способ отправки"),
        choices=[(c.value, c.label) for c in Complaint.STAFF_ANSWER_CHANNELS],
        initial=Complaint.AnswerChannel.POST,
    )
    reference = TextField(label=_("Номер почтового отправления или отметка о вручении"), max_length=200)


class ComplaintRemedyDoneForm(forms.Form):
    note = TextField(label=_("Что сделано"), max_length=1000, multiline=True)


class ComplaintRemedyCarryOutForm(forms.Form):
    """The remedy carried out by its service (a cancellation cannot be taken back): confirmed."""

    confirm = forms.BooleanField(label=_("Подтверждаю: решение отменяется по удовлетворённой жалобе"), required=True)


class _ErrorCorrectionForm(forms.Form):
    """The correction of errors carried out on an upheld complaint (p.78(g), p.88(a)): the document
    (appeals.services.CorrectedDocument) and its values as they should read, confirmed; the reason
    and the basis are the complaint's. The fields are those of the document's own correction form."""

    CORRECTED: tuple[str, ...] = ()

    document = forms.ChoiceField(choices=CorrectedDocument.choices, widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("Подтверждаю: выдаётся исправленный экземпляр документа по удовлетворённой жалобе"), required=True
    )

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.CORRECTED}


class ComplaintCertificateCorrectionForm(_ErrorCorrectionForm):
    """The holder's names and areas of activity on the certificate (registry.services.certificate_correct)."""

    CORRECTED = CORRECTABLE_FIELDS
    last_name = CertificateCorrectForm.base_fields["last_name"]
    first_name = CertificateCorrectForm.base_fields["first_name"]
    patronymic = CertificateCorrectForm.base_fields["patronymic"]
    areas = CertificateCorrectForm.base_fields["areas"]
    field_order = ["document", *CORRECTABLE_FIELDS, "confirm"]


class ComplaintLetterCorrectionForm(_ErrorCorrectionForm):
    """The addressee's particulars printed on a letter (core.letters.letter_correct)."""

    CORRECTED = LetterEdition.PARTICULARS
    last_name = LetterCorrectionForm.base_fields["last_name"]
    first_name = LetterCorrectionForm.base_fields["first_name"]
    patronymic = LetterCorrectionForm.base_fields["patronymic"]
    postal_address = LetterCorrectionForm.base_fields["postal_address"]
    email = LetterCorrectionForm.base_fields["email"]
    field_order = ["document", *LetterEdition.PARTICULARS, "confirm"]
