"""One case per intent: a form that creates a case (an appeal, a complaint, a paper application, a
sitting) carries a random token from the moment it is shown. A double click or a retried request
sends the same token again; the service that creates the case claims the token in its own
transaction, and a second submission, however close in time, waits for the first (the key is
unique) and then gets the case the first one created instead of a second one."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.models import IdempotencyKey, User

TOKEN = re.compile(r"[0-9a-f]{32}")
M = TypeVar("M", bound=models.Model)


def new_token() -> str:
    return uuid.uuid4().hex


class FormTokenField(forms.Field):
    """The hidden token of a form: 32 hexadecimal digits (not free text). Required: a post without
    it (replayed, forged, or from a client that strips it) could not be told from its own double
    click, so each such post would create a case of its own."""

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid": gettext_lazy("Форма устарела или повреждена: обновите страницу."),
        "required": gettext_lazy("Форма устарела: обновите страницу и отправьте её снова."),
    }

    def to_python(self, value: object) -> str:
        token = value.strip() if isinstance(value, str) else ""
        if token and not TOKEN.fullmatch(token):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return token

    def bound_data(self, data: object, initial: object) -> object:
        """A refused form is shown again with a fresh token, so that sending it again works."""
        token = data.strip() if isinstance(data, str) else ""
        return token if TOKEN.fullmatch(token) else initial


class OnceForm(forms.Form):
    """A form whose submission creates a case: it carries its token in a hidden field, which pages
    require (services still take ``token=""`` from commands and tests, see ``claim_once``)."""

    form_token = FormTokenField(initial=new_token)


@dataclass
class Claim(Generic[M]):
    """The claim of one submission: ``earlier`` is the case a submission with the same token
    already created (return it), otherwise the caller creates the case and calls ``bind``."""

    row: IdempotencyKey | None
    earlier: M | None = None

    def bind(self, case: M) -> None:
        if self.row is not None:
            self.row.case_type = ContentType.objects.get_for_model(case)
            self.row.case_id = case.pk
            self.row.save(update_fields=["case_type", "case_id"])


def claim_once(*, model: type[M], actor: User | None, token: str) -> Claim[M]:
    """Claim a form's token inside the caller's transaction (which must create the ``model`` case
    and bind it). Without a token nothing is claimed. The key is the kind of case, the person and
    the token, so that nobody can reach another person's case by sending their token."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_once must run inside the transaction that creates the case")
    token = (token or "").strip()
    if not token:
        return Claim(row=None)
    if not TOKEN.fullmatch(token):
        raise DomainError(
            _("Форма устарела или повреждена: обновите страницу и отправьте её снова."),
            code="invalid_form_token",
            fields={"form_token": [_("Неверное значение.")]},
        )
    key = f"{model._meta.label_lower}:{actor.pk if actor is not None else 0}:{token}"
    try:
        with transaction.atomic():
            # Waits on the unique index while a concurrent submission with the same key is open.
            return Claim(row=IdempotencyKey.objects.create(key=key))
    except IntegrityError:
        pass
    row = IdempotencyKey.objects.get(key=key)
    earlier = model._default_manager.filter(pk=row.case_id).first()
    if earlier is None:  # only possible if the case was deleted since
        raise DomainError(_("Эта форма уже отправлена."), code="already_submitted", status=409)
    return Claim(row=None, earlier=earlier)
