"""Corrected editions of the letters the ministry sent (p.78(g), p.88(a)): the admission notice, the
refusal letter and the decision on attestation are corrected by one path, here; the procedures
(exam.admission.services.notices.notice_correct, registry.services.attestation_decision_correct)
say who may sign the corrected letter, how it is rendered and whom it goes to.

Only the addressee's particulars printed on the letter (the name, the postal and e-mail address,
``LetterEdition.PARTICULARS``) may be corrected: the decision the letter states (admitted or
refused, its grounds, the score) is never "corrected", it is cancelled and decided again. The
corrected edition is a new outgoing letter: its own outgoing number in the journal (the letter as
first sent keeps its number), signed by the one who corrected it, marked «Исправленный экземпляр»,
sent by the one outbound path (core.dispatch: the cabinet, the e-mail, or the post recorded by the
registrar); the PDF it replaces is kept, and a copy of it marked as replaced is stored beside it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import NotRequired, TypedDict, TypeVar, Unpack

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dispatch import (
    dispatch_by_email,
    dispatch_can_record,
    dispatch_check,
    dispatch_record,
    dispatch_refuse_twice,
    dispatch_to_cabinet,
)
from core.errors import DomainError
from core.files import file_store
from core.models import Dispatched, LetterEdition, OutgoingLetter, PersonName, User
from core.qes.documents import Stamp, document_record, document_sign
from core.selectors import letter_editions
from core.services import audit_record, outgoing_number_assign
from core.text import TextError, clean_text, field_refusal, name_validator, text_required

L = TypeVar("L", bound=Dispatched)


class Correction(TypedDict):
    """What a corrected edition changes and why: the particulars (LetterEdition.PARTICULARS) with
    their new values, the reason, its basis (LetterEdition.Basis) and, for a complaint, its number
    and date."""

    changes: Mapping[str, object]
    reason: str
    basis: str
    basis_reference: NotRequired[str]


@dataclass(frozen=True)
class Addressee(PersonName):
    """The addressee's particulars as a letter prints them."""

    last_name: str
    first_name: str
    patronymic: str
    postal_address: str
    email: str


def addressee_of(source: object) -> Addressee:
    """The particulars of ``source`` (an application), as the letter first printed them."""
    return Addressee(**{name: getattr(source, name) or "" for name in LetterEdition.PARTICULARS})


@dataclass(frozen=True)
class LetterPrint:
    """What the heading, the marks and the signature of one printed letter say (core/pdf/letter.html):
    the letter as first sent, or a corrected edition (``edition``, replacing ``replaces``), and
    when a later edition replaced it, ``replaced_by``."""

    addressee: Addressee
    outgoing_number: str | None
    issued_at: datetime
    signer: User | None
    signed_at: datetime | None
    edition: LetterEdition | None = None
    replaces: LetterPrint | None = None
    replaced_by: LetterEdition | None = None


def _edition_print(edition: LetterEdition) -> LetterPrint:
    return LetterPrint(
        addressee=Addressee(**edition.particulars),
        outgoing_number=edition.outgoing_number,
        issued_at=edition.issued_at,
        signer=edition.issued_by,
        signed_at=edition.issued_at,
        edition=edition,
    )


def letter_correct_check(letter: Dispatched) -> None:
    """A letter is corrected once it was issued to its addressee (sent): what was not sent yet is
    not an issued document (p.78(g))."""
    if letter.dispatched_at is None:
        raise DomainError(
            _("Исправляется направленный документ: письмо ещё не направлено заявителю."),
            code="not_dispatched",
            status=409,
        )


def _clean_particular(name: str, value: object) -> str:
    label = LetterEdition.PARTICULAR_LABELS[name]
    max_length = 500 if name == "postal_address" else 254 if name == "email" else 100
    try:
        text = clean_text(value, max_length=max_length)
        if text and name in ("last_name", "first_name", "patronymic"):
            name_validator(text)
        if text and name == "email":
            text = text.lower()
            validate_email(text)
    except TextError as exc:
        raise field_refusal(field=name, label=label, problem=exc.message, code=exc.code) from None
    except ValidationError as exc:
        raise field_refusal(field=name, label=label, problem=str(exc.messages[0])) from None
    if name in ("last_name", "first_name"):
        text_required(text, field=name, label=label)
    return text


def _changes(current: Addressee, changes: Mapping[str, object]) -> dict[str, list[str]]:
    unknown = sorted(set(changes) - set(LetterEdition.PARTICULARS))
    if unknown:
        raise DomainError(
            _(
                "В письме исправляются только сведения об адресате: фамилия, имя, отчество, почтовый адрес и адрес электронной почты."
            ),
            code="not_correctable",
            fields={name: [_("Это поле не исправляется.")] for name in unknown},
        )
    found: dict[str, list[str]] = {}
    for name, value in changes.items():
        new, old = _clean_particular(name, value), getattr(current, name)
        if new != old:
            found[name] = [old, new]
    if not found:
        raise DomainError(
            _("Исправления не указаны: сведения совпадают с напечатанными в письме."), code="nothing_to_correct"
        )
    return found


def letter_correct(
    *,
    letter: L,
    case: models.Model,
    kind: OutgoingLetter.Kind,
    by: User,
    original: LetterPrint,
    render: Callable[[LetterPrint, Stamp | None], bytes],
    check: Callable[[L], None],
    recipient: User | None,
    link: str,
    **correction: Unpack[Correction],
) -> LetterEdition:
    """Issue a corrected edition of ``letter`` (p.78(g), p.88(a)) for the procedure's service: on the
    locked letter, ``check`` (who may sign it; the procedure's rule) and letter_correct_check; the
    particulars changed (only those of LetterEdition.PARTICULARS, old -> new), the reason and its
    basis recorded; a new outgoing number; the PDF of the edition (``render`` of its LetterPrint,
    marked as corrected) and a copy of the one it replaces (``original``, or the previous edition)
    marked as replaced; the audit record; and the dispatch: the cabinet for ``recipient``, otherwise
    the e-mail after the commit when the particulars give an address, otherwise the registrar posts
    it (letter_edition_dispatch).

    Plain atomic, not durable: an upper service (a complaint's remedy) may call it inside its own
    transaction. The PDFs are rendered under the lock of the outgoing counter, so that they print the
    number the journal gives."""
    from core.tasks import enqueue
    from core.tasks import letter_edition_email as email_task

    reason = text_required(correction["reason"], field="reason", label=_("Причина исправления"))
    basis, basis_reference = correction["basis"], correction.get("basis_reference", "")
    if basis not in LetterEdition.Basis.values:
        raise DomainError(_("Выберите основание исправления."), fields={"basis": [_("Неверное значение.")]})
    if basis == LetterEdition.Basis.COMPLAINT:
        text_required(basis_reference, field="basis_reference", label=_("Номер и дата жалобы или заявления"))
    with transaction.atomic():
        locked = type(letter)._default_manager.select_for_update().get(pk=letter.pk)
        check(locked)
        letter_correct_check(locked)
        editions = list(letter_editions(locked).order_by("number"))
        previous = editions[-1] if editions else None
        before = _edition_print(previous) if previous is not None else original
        found = _changes(before.addressee, correction["changes"])
        addressee = replace(before.addressee, **{name: new for name, (_old, new) in found.items()})
        now = timezone.now()
        edition = LetterEdition.objects.create(
            letter_type=ContentType.objects.get_for_model(locked),
            letter_id=locked.pk,
            case_type=ContentType.objects.get_for_model(case),
            case_id=case.pk,
            number=len(editions) + 2,
            kind=kind,
            particulars=asdict(addressee),
            changes=found,
            reason=reason,
            basis=basis,
            basis_reference=basis_reference,
            issued_at=now,
            issued_by=by,
        )
        outgoing_number_assign(letter=edition, kind=kind, signed_at=now)
        printed = LetterPrint(
            addressee=addressee,
            outgoing_number=edition.outgoing_number,
            issued_at=now,
            signer=by,
            signed_at=now,
            edition=edition,
            replaces=before,
        )
        # The edition is signed with the key of the one who corrected it; the copy marked as replaced
        # is the ministry's record, not a document issued to anyone: it is not signed.
        issued = document_sign(official=by, render=lambda stamp: render(printed, stamp))
        pdf = issued.content
        name = f"{kind}-{locked.pk}"
        file_store(file=edition.pdf, name=f"{name}-{edition.number}.pdf", content=pdf)
        file_store(
            file=edition.previous_pdf,
            name=f"{name}-{edition.number - 1}-replaced.pdf",
            content=render(replace(before, replaced_by=edition), None),
        )
        document_record(
            issued=issued,
            file_name=edition.pdf.name,
            title=_("Исправленный экземпляр: %(kind)s, исх. № %(n)s")
            % {"kind": edition.get_kind_display(), "n": edition.outgoing_number},
        )
        edition.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        edition.save(update_fields=["pdf", "pdf_sha256", "previous_pdf"])
        if previous is not None:
            LetterEdition.objects.filter(pk=previous.pk).update(replaced_at=now)
        audit_record(
            case=case,
            actor=by,
            verb="letter_corrected",
            action="event",
            reason=reason,
            data={
                "edition": edition.pk,
                "number": edition.number,
                "kind": kind,
                "outgoing_number": edition.outgoing_number,
                "replaces": before.outgoing_number,
                "changes": found,
                "basis": basis,
                "basis_reference": basis_reference,
                "sha256": edition.pdf_sha256,
            },
        )
        if recipient is not None:
            dispatch_to_cabinet(
                letter=edition,
                case=case,
                recipient=recipient,
                subject=lambda: _("Исправленный экземпляр: %(kind)s") % {"kind": edition.get_kind_display()},
                body=lambda: (
                    _(
                        "Направлен исправленный экземпляр документа (исх. № %(n)s) взамен ранее направленного "
                        "(исх. № %(old)s). Документ доступен в личном кабинете."
                    )
                    % {"n": edition.outgoing_number, "old": before.outgoing_number}
                ),
                link=link,
                deadline_kind=None,
                verb="letter_edition_dispatch",
            )
        elif addressee.email:
            edition_id = edition.pk
            transaction.on_commit(lambda: enqueue(email_task, edition_id))
    return edition


def _case_of(edition: LetterEdition) -> models.Model:
    case = edition.case
    assert isinstance(case, models.Model)  # protected: a case is never deleted
    return case


def letter_edition_emailable(edition: LetterEdition) -> bool:
    """Sent by e-mail: not sent yet, and the addressee has no cabinet (the cabinet dispatch is done
    at the issue) but an address."""
    return edition.dispatched_at is None and bool(edition.particulars.get("email"))


def letter_edition_email(*, edition: LetterEdition) -> LetterEdition:
    """E-mail the corrected edition with its PDF to the address it prints (core.dispatch), once;
    OSError from the mail server, for the task to retry."""
    if not letter_edition_emailable(edition):
        return edition
    addressee = Addressee(**edition.particulars)
    return dispatch_by_email(
        letter=edition,
        case=_case_of(edition),
        deadline_kind=None,
        verb="letter_edition_dispatch",
        to=addressee.email,
        subject=_("Исправленный экземпляр: %(kind)s") % {"kind": edition.get_kind_display()},
        body=_(
            "Здравствуйте, %(name)s!\n\nНаправляем исправленный экземпляр документа «%(kind)s» (исх. № %(n)s) "
            "взамен ранее направленного.\n\nДокумент во вложении (PDF)."
        )
        % {"name": addressee.full_name, "kind": edition.get_kind_display(), "n": edition.outgoing_number},
        filename=f"{edition.kind}-{edition.number}.pdf",
        file=edition.pdf,
    )


def letter_edition_dispatch(*, edition: LetterEdition, by: User, channel: str, reference: str) -> LetterEdition:
    """The registrar records that the corrected edition went out on paper to an addressee with
    neither a cabinet nor an e-mail address (core.dispatch), once."""
    reference = dispatch_check(by=by, channel=channel, reference=reference)
    with transaction.atomic():
        locked = LetterEdition.objects.select_for_update().get(pk=edition.pk)
        dispatch_refuse_twice(locked)
        dispatch_record(
            letter=locked,
            case=_case_of(locked),
            deadline_kind=None,
            channel=channel,
            reference=reference,
            by=by,
            verb="letter_edition_dispatch",
        )
    return locked


def letter_edition_can_dispatch(*, edition: LetterEdition, user: User) -> bool:
    """Whether letter_edition_dispatch would record the paper dispatch of the edition by this user."""
    return dispatch_can_record(letter=edition, by=user)
