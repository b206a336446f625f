"""Who the person is, across their applications (p.58: the last test the person took decides; one
case at a time). An account holder is "user:<id>". An applicant on paper without an account is
known by the identity document and name they wrote: their application shares the person key of the
earlier applications with the same document number and name, and an account holder's later
application takes the paper ones of the same document and name into their own key."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.db import transaction

from core.db import advisory_lock
from exam.models import Application

_NOT_DOCUMENT = re.compile(r"[^0-9A-ZА-Я]")


def identity_key(application: Application) -> str:
    """SHA-256 of the normalised document number and name ("" without a document number): spaces,
    dashes and "№" do not make another person, nor do case and "ё"."""
    written = application.id_document_number.replace("№", " ")  # NFKC would make it "No"
    number = _NOT_DOCUMENT.sub("", unicodedata.normalize("NFKC", written).upper())
    if not number:
        return ""
    name = " ".join(f"{application.last_name} {application.first_name}".split()).casefold().replace("ё", "е")
    return hashlib.sha256(f"{number}|{name}".encode()).hexdigest()


def person_lock(key: str) -> None:
    """The lock on one person, held to the end of the transaction: registering a case and drafting
    and superseding decisions take turns on it. A transaction takes at most one person's lock."""
    advisory_lock(f"person:{key}")


def person_key_assign(application: Application) -> str:
    """At registration: fix the application's identity and person key, merging the keys of earlier
    applications on paper with the same identity into this one (an account's key is never merged
    away). Runs in the registering transaction; returns the key, already locked."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("person_key_assign must run inside the registering transaction")
    identity = identity_key(application)
    related: set[str] = set()
    if identity:
        related = set(
            Application.objects.filter(identity_key=identity)
            .exclude(pk=application.pk)
            .values_list("person_key", flat=True)
        )
    accounts = sorted(key for key in related if key.startswith("user:"))
    if application.candidate_id:
        key = f"user:{application.candidate_id}"
    elif accounts:
        key = accounts[0]
    elif identity:
        key = "doc:" + identity[:32]
    else:
        key = application.person_key
    merged = {k for k in (related | {application.person_key}) if k and k != key and not k.startswith("user:")}
    person_lock(key)  # the merged keys' rows are locked by the update itself
    if merged:
        Application.objects.filter(person_key__in=merged).update(person_key=key)
    application.person_key, application.identity_key = key, identity
    Application.objects.filter(pk=application.pk).update(person_key=key, identity_key=identity)
    return key
