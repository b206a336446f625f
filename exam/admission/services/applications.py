"""The application: drafts, documents, the simple electronic signature, acceptance and registration
(p.15-19, 25-27, 38-41)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import calendar, dates
from core.canonical import canonical_json
from core.errors import DomainError, NotFound
from core.files import file_delete_on_commit, file_store
from core.idempotency import claim_once
from core.models import User
from core.qes import verifier
from core.qes.cms import FormatError, signature_load
from core.qes.trust import TrustedListTrust
from core.roles import Role, has_role, require_role
from core.services import (
    MessageText,
    audit_record,
    case_transition,
    counter_next,
    deadline_met_now,
    deadline_open,
    notification_send,
    transition_check,
)
from core.text import text_required
from core.uploads import check_upload
from exam.admission.selectors import (
    DEADLINE_DECISION,
    DEADLINE_REGISTRATION,
    DEADLINE_TRANSFER,
    application_document,
    application_missing_items,
    application_registered_late,
    application_registration_due,
    document_bytes,
    document_digest,
)
from exam.admission.services.persons import person_key_assign, person_lock
from exam.models import (
    AdditionalEducation,
    Application,
    Attachment,
    Channel,
    Experience,
    HigherEducation,
    SignatureChallenge,
    Submission,
)

S = Application.Status
ENTRY_MODELS: dict[str, type[HigherEducation] | type[AdditionalEducation] | type[Experience]] = {
    "higher_education": HigherEducation,
    "additional_education": AdditionalEducation,
    "experience": Experience,
}
MAX_ATTACHMENTS = 20
SIGNATURE_METHOD = "simple-email-otp-sha256"


def _lock(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _own_editable(application: Application, by: User) -> Application:
    """Lock the candidate's own application and check it can still be changed."""
    locked = _lock(application)
    if locked.candidate_id != by.pk:
        raise NotFound(_("Заявление не найдено."))
    if not locked.is_editable:
        raise DomainError(_("Заявление уже подано и не может быть изменено."), code="not_editable", status=409)
    return locked


# --- Drafts ------------------------------------------------------------------------------------

IN_PROGRESS = (S.REGISTERED, S.UNDER_REVIEW, S.DECISION_DRAFTED)


def _refuse_if_case_in_progress(person_key: str, *, exclude: Application | None = None, staff: bool = False) -> None:
    """One case at a time: a registered application of the person (any channel) that is not decided
    yet blocks another one. The caller holds the lock on the person (exam.admission.services.persons)."""
    current = Application.objects.filter(person_key=person_key, status__in=IN_PROGRESS)
    if exclude is not None:
        current = current.exclude(pk=exclude.pk)
    found = current.first()
    if found is None:
        return
    message = (
        _("У заявителя уже есть заявление на рассмотрении: %(n)s.")
        if staff
        else _("У вас уже есть заявление на рассмотрении: %(n)s.")
    )
    raise DomainError(message % {"n": found.registration_number}, code="application_in_progress", status=409)


def application_start(*, candidate: User) -> Application:
    """Open a draft for the candidate, or return the one being prepared. One case at a time: a new
    application is possible only when no earlier one is in progress."""
    if candidate.is_staff:
        raise DomainError(_("Заявление подаёт заявитель, а не сотрудник."), status=403, code="forbidden")
    with transaction.atomic(durable=True):
        person_lock(f"user:{candidate.pk}")
        _refuse_if_case_in_progress(f"user:{candidate.pk}")
        current = candidate.applications.filter(status__in=Application.EDITABLE).first()
        if current is not None:
            return current
        application = Application.objects.create(
            candidate=candidate,
            channel=Channel.PORTAL,
            last_name=candidate.last_name,
            first_name=candidate.first_name,
            patronymic=candidate.patronymic,
            email=candidate.email,
            phone=candidate.phone,
        )
        audit_record(case=application, actor=candidate, verb="create", to_state=application.status)
    return application


def _write_entries(application: Application, cleaned: dict[str, Any]) -> None:
    applicant = cleaned.get("applicant", {})
    for field, value in applicant.items():
        if field == "personal_data_consent":
            continue
        setattr(application, field, value if value is not None else None)
    consent = bool(applicant.get("personal_data_consent"))
    if consent and not application.personal_data_consent:
        application.personal_data_consent_at = timezone.now()
    application.personal_data_consent = consent
    application.save()
    for section, model in ENTRY_MODELS.items():
        if section not in cleaned:
            continue
        model.objects.filter(application=application).delete()
        rows: list[Any] = [model(application=application, **row) for row in cleaned[section]]
        model.objects.bulk_create(rows)


def application_save_draft(*, application: Application, by: User, cleaned: dict[str, Any]) -> Application:
    """Save the draft as a whole (fields validated by ``exam.forms``): all of it or nothing."""
    with transaction.atomic():
        locked = _own_editable(application, by)
        _write_entries(locked, cleaned)
    return locked


# --- Documents ---------------------------------------------------------------------------------


def attachment_add(*, application: Application, by: User, kind: str, upload: UploadedFile) -> Attachment:
    """Attach a copy of a document of p.15(b)-(d), checked by content and size. The same file
    attached again as the same document is kept once (the application's row is locked)."""
    if kind not in Attachment.Kind.values:
        raise DomainError(
            _("Укажите, какой это документ."), code="invalid_kind", fields={"kind": [_("Неизвестный вид документа.")]}
        )
    name = (upload.name or "document")[:255]
    checked = check_upload(upload, name=name)
    with transaction.atomic():
        if by.is_staff:
            # Staff attach scans only to applications received on paper (the registrar).
            locked = _lock(application)
            if not has_role(by, Role.REGISTRAR) or locked.channel not in Channel.paper():
                raise NotFound(_("Заявление не найдено."))
        else:
            locked = _own_editable(application, by)
        same = locked.attachments.filter(kind=kind, sha256=checked.sha256).first()
        if same is not None:  # the same file sent twice (a double click, a retried upload)
            return same
        if locked.attachments.count() >= MAX_ATTACHMENTS:
            raise DomainError(
                ngettext(
                    "Можно приложить не более %(n)d файла.", "Можно приложить не более %(n)d файлов.", MAX_ATTACHMENTS
                )
                % {"n": MAX_ATTACHMENTS},
                code="too_many_files",
            )
        attachment = Attachment(
            application=locked,
            kind=kind,
            original_name=name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=by,
        )
        # Deleted again if this transaction, or the caller's around it, rolls back (core.files).
        file_store(
            file=attachment.file, name=f"{kind}.{checked.content_type.rsplit('/', 1)[-1]}", content=checked.content
        )
        attachment.save()
        audit_record(
            case=locked,
            actor=by,
            verb="attachment_add",
            action="event",
            data={"kind": kind, "name": name, "sha256": checked.sha256},
        )
    return attachment


def attachment_remove(*, attachment: Attachment, by: User) -> None:
    """Remove a document from the draft. A document an earlier submission signed stays stored (only
    detached from the draft): that submission must remain verifiable against its files (p.39)."""
    with transaction.atomic():
        locked = _own_editable(attachment.application, by)
        name, sha = attachment.original_name, attachment.sha256
        signed = any(
            item.get("id") == attachment.pk
            for document in locked.submissions.values_list("document", flat=True)
            for item in (document or {}).get("attachments", [])
        )
        if signed:
            Attachment.all_objects.filter(pk=attachment.pk).update(detached_at=timezone.now())
        else:
            file_delete_on_commit(file=attachment.file)
            attachment.delete()
        audit_record(
            case=locked,
            actor=by,
            verb="attachment_remove",
            action="event",
            data={"name": name, "sha256": sha, "kept_for_submission": signed},
        )


# --- Simple electronic signature (p.39) --------------------------------------------------------


def _code_hash(code: str, salt: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{salt}${mac}"


def _code_matches(code: str, stored: str) -> bool:
    salt, _sep, _mac = stored.partition("$")
    return hmac.compare_digest(_code_hash(code, salt), stored)


def signature_request(*, application: Application, by: User) -> SignatureChallenge:
    """E-mail the candidate a one-time code that signs exactly the current content of the draft.
    A new request replaces the previous code; at most one per minute."""
    from core.tasks import enqueue
    from exam.admission.tasks import signature_code_email

    with transaction.atomic(durable=True):
        locked = _own_editable(application, by)
        last = locked.challenges.filter(signer=by).first()
        if last and last.used_at is None and (timezone.now() - last.created_at).total_seconds() < 60:
            raise DomainError(
                _("Код уже отправлен. Новый код можно запросить через минуту."), code="code_recently_sent", status=429
            )
        locked.challenges.filter(used_at__isnull=True).update(expires_at=timezone.now())
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = SignatureChallenge.objects.create(
            application=locked,
            signer=by,
            code_hash=_code_hash(code, secrets.token_hex(8)),
            digest=document_digest(application_document(locked)),
            expires_at=timezone.now() + settings.SIGNATURE_CODE_TTL,
        )
        audit_record(
            case=locked, actor=by, verb="signature_code_sent", action="event", data={"digest": challenge.digest}
        )
        transaction.on_commit(lambda: enqueue(signature_code_email, challenge.pk, code))
    return challenge


def _check_code(*, application: Application, by: User, code: str) -> SignatureChallenge:
    """Verify the code in its own transaction, so that a wrong attempt is counted even though the
    submission fails."""
    with transaction.atomic():
        challenge = (
            SignatureChallenge.objects.select_for_update()
            .filter(application=application, signer=by, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if challenge is None or challenge.expires_at <= timezone.now():
            error = DomainError(
                _("Код недействителен или устарел. Запросите новый код."),
                code="code_expired",
                fields={"code": [_("Запросите новый код.")]},
            )
        elif challenge.attempts >= settings.SIGNATURE_CODE_MAX_ATTEMPTS:
            error = DomainError(
                _("Слишком много неверных попыток. Запросите новый код."),
                code="code_attempts",
                fields={"code": [_("Запросите новый код.")]},
            )
        elif not _code_matches(code.strip(), challenge.code_hash):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            error = DomainError(_("Неверный код."), code="code_invalid", fields={"code": [_("Неверный код.")]})
        else:
            return challenge
    raise error


def application_submit(*, application: Application, by: User, code: str, ip: str | None = None) -> Submission:
    """Sign the application with the e-mailed code and submit it (p.39). The signature binds the
    candidate, the time and the SHA-256 digest of the content with its attachments. A complete set is
    registered at once (p.26); an incomplete one is refused acceptance with the list of what is
    missing (p.19), and the candidate may correct it and submit again."""
    if not isinstance(code, str) or not code.strip():
        raise DomainError(_("Введите код из письма."), fields={"code": [_("Обязательное поле.")]})
    own = Application.objects.filter(pk=application.pk, candidate=by).first()
    if own is None:
        raise NotFound(_("Заявление не найдено."))
    challenge = _check_code(application=own, by=by, code=code)
    with transaction.atomic(durable=True):
        locked = _own_editable(application, by)
        challenge = SignatureChallenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.used_at is not None:
            raise DomainError(_("Этот код уже использован."), code="code_used", status=409)
        person_lock(locked.person_key)
        _refuse_if_case_in_progress(locked.person_key, exclude=locked)
        document = application_document(locked)
        digest = document_digest(document)
        if digest != challenge.digest:
            raise DomainError(
                _("Заявление изменилось после отправки кода. Запросите новый код, чтобы подписать текущую версию."),
                code="document_changed",
                status=409,
            )
        now = timezone.now()
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
        submission = _portal_submission(
            locked, by=by, at=now, document=document, digest=digest,
            challenge=challenge, signature_method=SIGNATURE_METHOD,
        )  # fmt: skip
        submission.signature_mac = signature_mac(submission)
        _accept_or_refuse(locked, submission, by=by, missing=application_missing_items(locked), ip=ip)
    return submission


def _portal_submission(
    application: Application, *, by: User, at: datetime, document: dict[str, Any], digest: str, **signature: Any
) -> Submission:
    """A submission from the candidate's cabinet, signed by the candidate at ``at``: by the e-mailed
    code or by a qualified signature (``signature``: the fields of the one or the other)."""
    return Submission(
        application=application,
        channel=Channel.PORTAL,
        received_at=at,
        submitted_by=by,
        signer=by,
        signer_email=by.email,
        signed_at=at,
        digest=digest,
        document=document,
        **signature,
    )


def application_submit_qualified(
    *, application: Application, by: User, signature: bytes, ip: str | None = None
) -> Submission:
    """Submit the application signed with a qualified electronic signature instead of the e-mailed
    code: a detached CAdES-BES signature over the canonical document of the current draft, its
    attachments named by their SHA-256 (``selectors.document_bytes``). The one verifier checks it at
    the moment of receipt against art. 11 of 63-FZ and p.16(1) of seed 003 (the signer is the
    applicant), and the protocol is kept with the submission whatever its outcome. Every check
    passed: the application is accepted or refused as a simple-signature one is (p.19, p.25-27); a
    failed check refuses acceptance (p.19; seed 003 p.16(4), p.27.1) naming the failed checks with
    the points of art. 11, and the draft stays as it was, so the candidate can sign it again."""
    own = Application.objects.filter(pk=application.pk, candidate=by).first()
    if own is None:
        raise NotFound(_("Заявление не найдено."))
    try:
        signature_load(signature)
    except FormatError as exc:  # not a signature at all (a wrong file chosen): nothing was submitted
        raise DomainError(exc.message, code=exc.code, fields={"signature": [exc.message]}) from exc
    with transaction.atomic(durable=True):
        locked = _own_editable(application, by)
        person_lock(locked.person_key)
        _refuse_if_case_in_progress(locked.person_key, exclude=locked)
        document = application_document(locked)
        now = timezone.now()
        protocol = verifier.verify(
            content=document_bytes(document),
            signature=signature,
            trust=TrustedListTrust(),
            at=now,
            signer=_applicant_check(document),
        )
        submission = _portal_submission(
            locked, by=by, at=now, document=document, digest=document_digest(document),
            signature_method=Submission.QES, signature=signature, protocol=protocol.as_json(),
        )  # fmt: skip
        _accept_or_refuse(
            locked, submission, by=by, missing=application_missing_items(locked), ip=ip, protocol=protocol
        )
    return submission


def _applicant_check(document: dict[str, Any]) -> verifier.SignerCheck:
    """p.16(1) of seed 003: the certificate is the applicant's, by the names the signed document gives."""
    names = document.get("applicant", {})
    return verifier.person_check(
        snils="",
        last_name=names.get("last_name", ""),
        first_name=names.get("first_name", ""),
        patronymic=names.get("patronymic") or "",
    )


def _accept_or_refuse(
    application: Application,
    submission: Submission,
    *,
    by: User,
    missing: list[str],
    ip: str | None,
    protocol: verifier.Protocol | None = None,
) -> None:
    """Register a complete set (p.25-27) or refuse to accept an incomplete one, or one whose
    qualified signature failed a check of its ``protocol`` (p.19)."""
    received_at = submission.received_at
    application.received_at = received_at
    failed = protocol if protocol is not None and not protocol.ok else None
    if missing or failed:
        reasons = (
            [_("Электронная подпись недействительна: %(grounds)s") % {"grounds": failed.grounds()}] if failed else []
        )
        reasons += missing
        submission.outcome = Submission.Outcome.NOT_ACCEPTED
        submission.missing = missing
        submission.save()
        application.not_accepted_reasons = reasons
        data: dict[str, Any] = {"submission": submission.pk, "digest": submission.digest}
        if protocol is not None:
            data["failed_checks"] = [check.code for check in protocol.failed]
        case_transition(
            case=application,
            name="refuse_acceptance",
            by=by,
            reason="; ".join(reasons),
            fields=("received_at", "not_accepted_reasons"),
            data=data,
            ip=ip,
        )
        if application.candidate:
            notification_send(
                recipient=application.candidate,
                subject=lambda: _("Отказ в приёме документов к рассмотрению"),
                body=lambda: _refusal_body(failed=failed, missing=missing),
                link=application.cabinet_url(),
            )
        return
    _register(application, submission, by=by, ip=ip)


def _refusal_body(*, failed: verifier.Protocol | None, missing: list[str]) -> str:
    """The notice of a refusal to accept (p.19): an invalid qualified signature names the failed
    checks with the points of art. 11 of 63-FZ (seed 003 p.27.1); an incomplete set what it lacks."""
    parts = []
    if failed is not None:
        parts.append(
            _(
                "Заявление не принято к рассмотрению: по результатам проверки квалифицированной электронной "
                "подписи не соблюдены условия признания её действительности (п. 19 Регламента, ст. 11 "
                "Федерального закона от 06.04.2011 № 63-ФЗ):\n%(grounds)s\n\nСведения и документы заявления "
                "сохранены. Устраните причины и подпишите заявление снова."
            )
            % {"grounds": failed.grounds()}
        )
    if missing:
        parts.append(
            _(
                "Заявление не принято к рассмотрению: комплект документов неполный (п. 19 Регламента).\n"
                "Не хватает:\n%(items)s\n\nИсправьте заявление и подайте его снова."
            )
            % {"items": "\n".join(f"— {m}" for m in missing)}
        )
    return "\n\n".join(parts)


def _register(
    application: Application,
    submission: Submission,
    *,
    by: User,
    ip: str | None,
    name: str = "register",
    reason: str = "",
    terms_from_arrival: bool = False,
    receipt_note: MessageText = "",
) -> None:
    """Register the application on its submission (p.25-27, p.41), in the caller's transaction on the
    locked row: the number from the counter, the registration date the submission's arrival (p.26),
    the terms of p.25, p.46 and p.12(b), the receipt. The transfer (p.46) runs from the moment of
    registration, or with ``terms_from_arrival`` (a refusal cancelled on complaint) from the
    arrival, as every other term."""
    received_at = submission.received_at
    application.received_at = received_at
    person = person_key_assign(application)
    _refuse_if_case_in_progress(person, exclude=application, staff=by.is_staff)
    # p.26: registered on the day it arrives (Moscow date), after office hours and on a day off too;
    # the review term counts from the next day. (The next-working-day rule of seed 003 belongs to
    # another service; here it is the complaints' of p.86 only.)
    registration_date = calendar.moscow_date(received_at)
    # A yearly series restarts each year; a format without {year} needs one series for all years, or
    # the numbers of the new year would repeat the old ones.
    year_series = "{year" in settings.APPLICATION_NUMBER_FORMAT
    seq = counter_next(scope="application", year=registration_date.year if year_series else 0)
    application.registration_number = settings.APPLICATION_NUMBER_FORMAT.format(year=registration_date.year, seq=seq)
    application.registered_at = timezone.now()
    application.registration_date = registration_date
    application.not_accepted_reasons = []
    if by.is_staff:
        application.registered_by = by
    submission.outcome = Submission.Outcome.ACCEPTED
    submission.missing = []
    submission.save()
    registration_due = application_registration_due(application)
    data: dict[str, Any] = {"submission": submission.pk, "digest": submission.digest, "channel": submission.channel}
    if registration_due is not None:
        data.update(
            registration_due_on=registration_due.isoformat(), registered_late=application_registered_late(application)
        )
    case_transition(
        case=application,
        name=name,
        by=by,
        reason=reason or _("Комплект документов полный"),
        fields=(
            "received_at",
            "registration_number",
            "registered_at",
            "registration_date",
            "registered_by",
            "not_accepted_reasons",
        ),
        data=data,
        ip=ip,
    )
    if registration_due is not None:
        # p.25 as a term of its own, met or missed at this moment (the oversight report counts it).
        deadline_met_now(
            case=application,
            kind=DEADLINE_REGISTRATION,
            role=Role.REGISTRAR,
            started_on=calendar.moscow_date(received_at),
            working_days=1,
        )
    # p.46: the registered file goes to the department within a working day; a reviewer taking it
    # from the pool (review.application_start_review) is that step.
    deadline_open(
        case=application,
        kind=DEADLINE_TRANSFER,
        role=Role.REVIEWER,
        started_on=registration_date if terms_from_arrival else calendar.moscow_date(application.registered_at),
        working_days=1,
    )
    deadline_open(
        case=application,
        kind=DEADLINE_DECISION,
        role=Role.REVIEWER,
        started_on=registration_date,
        working_days=settings.REVIEW_DEADLINE_WORKING_DAYS,
    )
    if application.candidate:
        attachments = list(application.attachments.in_paragraph_order())

        def documents() -> str:
            return "\n".join(f"— {a.original_name} ({a.get_kind_display()})" for a in attachments)

        notification_send(
            recipient=application.candidate,
            subject=lambda: _("Заявление зарегистрировано: № %(n)s") % {"n": application.registration_number},
            body=lambda: (
                (receipt_note() if callable(receipt_note) else receipt_note)
                + _(
                    "Электронная расписка (п. 41 Регламента).\n"
                    "Регистрационный номер: %(n)s\nДата и время поступления: %(at)s\n"
                    "Дата регистрации: %(date)s\nПредставленные документы:\n%(docs)s"
                )
                % {
                    "n": application.registration_number,
                    "at": timezone.localtime(received_at).strftime("%d.%m.%Y %H:%M"),
                    "date": registration_date.strftime("%d.%m.%Y"),
                    "docs": documents() or "—",
                }
            ),
            link=application.cabinet_url(),
        )


# --- Paper applications ------------------------------------------------------------------------


def application_register_paper(
    *,
    by: User,
    channel: str,
    received_at: datetime,
    cleaned: dict[str, Any],
    paper_documents: list[str],
    candidate_email: str = "",
    ip: str | None = None,
    token: str = "",
) -> Application:
    """The registrar records an application received on paper, in person, through a representative
    or by registered mail (p.16, p.27): registered if the set is complete, otherwise refused
    acceptance (p.19) with the list of what is missing. The same form sent twice (``token``,
    core.idempotency) gets the application the first sending registered."""
    require_role(by, Role.REGISTRAR, message=_("Регистрировать заявления может только регистратор."))
    if channel not in Channel.paper():
        raise DomainError(
            _("Укажите способ поступления бумажного заявления."), fields={"channel": [_("Неверное значение.")]}
        )
    dates.date_argument(received_at, field="received_at", problem=dates.paper_receipt_problem)
    candidate = None
    if candidate_email:
        candidate = User.objects.filter(email__iexact=candidate_email, is_staff=False).first()
        if candidate is None:
            raise DomainError(
                _("Заявитель с такой электронной почтой не зарегистрирован."),
                fields={"candidate_email": [_("Учётная запись не найдена.")]},
            )
    with transaction.atomic(durable=True):
        claim = claim_once(model=Application, actor=by, token=token)
        if claim.earlier is not None:
            return claim.earlier
        if candidate is not None:
            person_lock(f"user:{candidate.pk}")
            _refuse_if_case_in_progress(f"user:{candidate.pk}", staff=True)
        application = Application.objects.create(candidate=candidate, channel=channel)
        claim.bind(application)
        audit_record(
            case=application, actor=by, verb="create", to_state=application.status, ip=ip, data={"channel": channel}
        )
        _write_entries(application, cleaned)
        submission = Submission(
            application=application,
            channel=channel,
            received_at=received_at,
            submitted_by=by,
            document=application_document(application),
            paper_documents=sorted(set(paper_documents)),
        )
        missing = application_missing_items(application, paper_documents=paper_documents)
        _accept_or_refuse(application, submission, by=by, missing=missing, ip=ip)
    return application


# --- A refusal to accept cancelled on an upheld complaint (p.88-89) ------------------------------


def refusal_to_accept_cancel_check(application: Application) -> Submission:
    """What application_refusal_to_accept_cancel needs, as a domain error when it is missing: the
    application is refused acceptance (p.19) and has the submission that was refused, which it
    returns (the latest one: the refusal in force)."""
    transition_check(case=application, name="accept_on_complaint")
    refused = (
        application.submissions.filter(outcome=Submission.Outcome.NOT_ACCEPTED).order_by("-received_at", "-id").first()
    )
    if refused is None:
        raise DomainError(
            _("Нет подачи заявления, в приёме которой было отказано."), code="no_refused_submission", status=409
        )
    return refused


def application_refusal_to_accept_cancel(*, application: Application, by: User, reason: str) -> Application:
    """p.88-89: the refusal to accept the documents (p.19) is cancelled on an upheld complaint. The
    application is registered on the submission that was refused, as of its arrival (p.26), by the
    one registration of _accept_or_refuse: the number from the counter, the registration date of that
    day, the terms of p.25, p.46 and p.12(b) counted from it (they may already be due: the staff see
    them flagged), and it goes to the reviewers' pool. The receipt (p.41) tells the candidate why.

    Who may carry it out is the caller's rule (the remedy of a complaint). Runs inside the caller's
    transaction: a plain atomic block, never a durable one, so the remedy commits with it or not at
    all."""
    reason = text_required(reason, field="reason", label=_("Основание отмены"))
    with transaction.atomic():
        locked = _lock(application)
        person_lock(locked.person_key)
        submission = refusal_to_accept_cancel_check(locked)
        received_on = calendar.moscow_date(submission.received_at).strftime("%d.%m.%Y")

        def note() -> str:
            return _(
                "Отказ в приёме документов от %(date)s отменён: %(reason)s\nЗаявление зарегистрировано днём его "
                "поступления.\n\n"
            ) % {"date": received_on, "reason": reason}

        _register(
            locked,
            submission,
            by=by,
            ip=None,
            name="accept_on_complaint",
            reason=reason,
            terms_from_arrival=True,
            receipt_note=note,
        )
    return locked


# --- Verifying a signature later ---------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    problems: list[str]
    protocol: verifier.Protocol | None = None  # the qualified signature checked again


def signature_mac(submission: Submission) -> str:
    """HMAC-SHA256 over what the simple electronic signature binds: the digest of the document, the
    signer (id and e-mail), the time of signing and the code's challenge (p.39)."""
    signed_at = submission.signed_at.astimezone(UTC).isoformat() if submission.signed_at else ""
    record = {
        "application": submission.application_id,
        "digest": submission.digest,
        "signer": submission.signer_id,
        "signer_email": submission.signer_email,
        "signed_at": signed_at,
        "challenge": submission.challenge_id,
        "method": submission.signature_method,
    }
    # ASCII-escaped, as when the stored MACs were made (and as migration 0006 recomputes them): the
    # non-ASCII e-mail of a signer must keep its \uXXXX bytes or every stored MAC stops matching.
    message = canonical_json(record, ascii_only=True)
    return salted_hmac(
        "exam.submission-signature", message, secret=settings.SIGNATURE_MAC_KEY, algorithm="sha256"
    ).hexdigest()


def signature_verify(*, submission: Submission) -> SignatureCheck:
    """Check a signed submission against what is stored now: the signature record (signer, time and
    digest under their HMAC), the digest of the signed document, and each attachment's bytes against
    the SHA-256 the document names. A qualified signature is verified again over the stored
    document, as of the moment of receipt, by the one verifier (with the trusted lists as loaded now)."""
    if not submission.is_signed:
        return SignatureCheck(valid=False, problems=[_("Подача не подписана электронной подписью.")])
    problems: list[str] = []
    protocol = None
    if submission.is_qualified:
        protocol = verifier.verify(
            content=document_bytes(submission.document),
            signature=bytes(submission.signature),
            trust=TrustedListTrust(),
            at=submission.received_at,
            signer=_applicant_check(submission.document),
        )
        problems += [f"{check.title}: {check.detail}" for check in protocol.failed]
    elif not submission.signature_mac:
        problems.append(
            _("Запись о подписи не заверена (создана до введения кода проверки): подписавший и время не подтверждены.")
        )
    elif not hmac.compare_digest(signature_mac(submission), submission.signature_mac):
        problems.append(_("Запись о подписи изменена: подписавший, время или отпечаток не совпадают с подписанными."))
    if document_digest(submission.document) != submission.digest:
        problems.append(_("Содержимое подписанного документа изменено."))
    # Documents removed from the draft since are kept for this check (attachment_remove).
    current = {a.pk: a for a in Attachment.all_objects.filter(application_id=submission.application_id)}
    for item in submission.document.get("attachments", []):
        attachment = current.get(item["id"])
        if attachment is None:
            problems.append(_("Нет файла «%(name)s», указанного в подписанном документе.") % {"name": item["name"]})
            continue
        with attachment.file.open("rb") as fh:
            actual = hashlib.sha256(fh.read()).hexdigest()
        if actual != item["sha256"]:
            problems.append(_("Файл «%(name)s» изменён после подписания.") % {"name": item["name"]})
    return SignatureCheck(valid=not problems, problems=problems, protocol=protocol)
