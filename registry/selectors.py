"""Reads of the registry: search, filters, the signed record, open data and the changes feed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import calendar
from core.db import fetch_prepared, read_alias
from core.models import Deadline
from exam.admission.selectors import Step
from exam.admission.stages import Stage
from exam.models import Application
from registry import signing
from registry.models import Annulment, AttestationDecision, Certificate, CertificateEdition, Surname
from registry.translit import is_latin, latin_pattern, latin_to_cyrillic

if TYPE_CHECKING:
    from exam.models import Attempt

DEADLINE_DECISION = "attestation.decision"  # p.12(v): 15 working days from the test
DEADLINE_CERTIFICATE = "certificate.issue"  # p.12(v): the same term, for the certificate
DEADLINE_DECISION_DISPATCH = "attestation.dispatch"  # p.12(v), p.64: the same term, for the letter to a paper applicant
DEADLINE_PUBLISH = "registry.publish"  # p.63: 10 working days from issue

NUMBER_LIKE = re.compile(r"^[0-9A-Za-zА-Яа-я]*\d[0-9A-Za-zА-Яа-я\-]*$")


def search_key(text: str) -> str:
    """Lower case, ё as е, single spaces: the form names are searched in."""
    return re.sub(r"\s+", " ", text.lower().replace("ё", "е")).strip()


def certificate_record(certificate: Certificate) -> dict[str, Any]:
    """The record the ministry signs (p.63 fields and the signing time; the status is derived by
    whoever reads it, from the dates and the annulment)."""
    record: dict[str, Any] = {
        "v": 1,
        "number": certificate.number,
        "name": certificate.full_name,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "areas": [a for a in certificate.areas_text.split("; ") if a],
        "annulled_on": certificate.annulled_on.isoformat() if certificate.annulled_on else None,
        "annulment_reason": (
            f"{certificate.annulment_reason_title}. {certificate.annulment_basis}"
            if certificate.annulment_reason_id is not None
            else None
        ),
    }
    if certificate.signed_at is not None:
        record["signed_at"] = certificate.signed_at.isoformat()
    return record


# --- Verification -------------------------------------------------------------------------------------

# The fields of the signed record fixed at issue; the annulment and the signing time change after.
QR_FIXED_FIELDS = ("number", "name", "issued_on", "expires_on", "areas")


def record_fixed_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of a signed record fixed at issue (QR_FIXED_FIELDS): what an edition carries."""
    return {field: record.get(field) for field in QR_FIXED_FIELDS}


def replaced_edition(certificate: Certificate, record: dict[str, Any]) -> CertificateEdition | None:
    """The replaced edition of the certificate whose QR code carries the record (its fixed fields),
    if one does: a genuine record of a paper since corrected, not the current one."""
    fixed = record_fixed_fields(record)
    for edition in certificate.editions.filter(replaced_at__isnull=False).order_by("-number"):
        if edition.record == fixed:
            return edition
    return None


def certificate_editions(certificate: Certificate) -> list[CertificateEdition]:
    """The editions of the certificate, the original first (the staff page, the cabinet)."""
    return list(certificate.editions.select_related("issued_by").order_by("number"))


# What the verify API answers for a record a verifier holds, with the words for people: for a
# genuine record of a certificate, its status today (valid, expired, annulled).
VERDICTS = {
    "valid": _("Запись подписана Минтрудом России, сертификат действителен на сегодня."),
    "expired": _("Запись подписана Минтрудом России, но срок действия сертификата истёк."),
    "annulled": _("Запись подписана Минтрудом России, но сертификат аннулирован."),
    "invalid_signature": _("Подпись не прошла проверку: запись изменена или подписана не ключом Минтруда России."),
    "not_found": _("Сертификата с таким номером в реестре нет."),
    "record_invalid": _(
        "Запись реестра об этом сертификате не прошла проверку подписи Минтруда России: сведения не подтверждены."
    ),
    "mismatch": _("Запись подписана, но не совпадает с записью реестра: документ мог быть подделан."),
}
NOT_CURRENT = _("Это не последняя запись реестра об этом сертификате: статус указан по действующей записи реестра.")
REPLACED = _(
    "Это запись заменённого экземпляра сертификата (выдан исправленный экземпляр): действуют сведения "
    "действующей записи реестра."
)


# The status of an entry whose record does not verify against its stored signature (a row changed
# in the database, or never signed): what its dates say is not confirmed, so nothing public says it.
UNCONFIRMED = "invalid"
STATUS_LABELS = {
    **{status.value: status.label for status in Certificate.Status},
    UNCONFIRMED: _("Не подтверждено"),
}
PUBLIC_STATUSES = [*Certificate.Status.values, UNCONFIRMED]


def certificate_verified_status(
    certificate: Certificate, *, keys: signing.PublishedKeys | None = None, today: date | None = None
) -> str:
    """The status of a certificate as its verified record states it (valid, expired, annulled), or
    UNCONFIRMED when the row, made into the record the ministry signs, does not verify with the
    stored signature under a key published and valid at its signing time. Everything public (the
    search, the entry and verification pages, the API, the open data) shows this status, never the
    one the row's dates alone give. ``keys``: the published keys read once for a page of entries."""
    if not record_verifies(certificate, keys=keys):
        return UNCONFIRMED
    # Verified: the row holds exactly the record's dates and annulment.
    return certificate.status_on(today or calendar.today())


def record_verifies(certificate: Certificate, *, keys: signing.PublishedKeys | None = None) -> bool:
    """Whether the row, made into the record the ministry signs, verifies with the stored signature
    under a key published and valid at its signing time."""
    if not certificate.signature or not certificate.key_id or certificate.signed_at is None:
        return False
    keys = keys or signing.PublishedKeys([certificate.key_id])
    return keys.verify(
        certificate_record(certificate), certificate.signature, certificate.key_id, sealed=certificate.record_seal
    )


# --- Valid on a date (seed 002, p.3.6.2.4) -------------------------------------------------------------

# The first day a certificate of an expert could be valid: Federal Law No. 426-FZ came into force
# (1 January 2014); the registry is not asked about an earlier day.
REGISTRY_EARLIEST = date(2014, 1, 1)
# The status on a day before the issue date (not a status of Certificate: a certificate never has
# it today, and the search does not filter by it).
NOT_ISSUED = "not_issued"
STATUSES_ON = [NOT_ISSUED, *Certificate.Status.values, UNCONFIRMED]
STATUS_ON_LABELS = {
    NOT_ISSUED: _("Ещё не выдан"),
    Certificate.Status.VALID.value: _("Действовал"),
    Certificate.Status.EXPIRED.value: _("Срок действия истёк"),
    Certificate.Status.ANNULLED.value: _("Аннулирован"),
    UNCONFIRMED: _("Не подтверждено"),
}


@dataclass(frozen=True)
class StatusOn:
    """Whether a certificate was valid on a day, as its verified record states it."""

    certificate: Certificate
    on: date
    status: str  # a value of STATUSES_ON

    @property
    def valid(self) -> bool:
        return self.status == Certificate.Status.VALID

    @property
    def record_valid(self) -> bool:
        return self.status != UNCONFIRMED

    @property
    def status_display(self) -> str:
        return str(STATUS_ON_LABELS[self.status])

    @property
    def message(self) -> str:
        """The answer in words, with the dates it rests on."""
        certificate = self.certificate
        words = {
            "d": self.on.strftime("%d.%m.%Y"),
            "issued": certificate.issued_on.strftime("%d.%m.%Y"),
            "expires": certificate.expires_on.strftime("%d.%m.%Y"),
            "annulled": certificate.annulled_on.strftime("%d.%m.%Y") if certificate.annulled_on else "",
        }
        if self.status == UNCONFIRMED:
            return str(VERDICTS["record_invalid"])
        if self.status == NOT_ISSUED:
            return gettext("На %(d)s сертификат ещё не был выдан: он выдан %(issued)s.") % words
        if self.status == Certificate.Status.ANNULLED:
            return gettext("На %(d)s сертификат не действовал: он аннулирован %(annulled)s.") % words
        if self.status == Certificate.Status.EXPIRED:
            return (
                gettext(
                    "На %(d)s сертификат не действовал: срок его действия истёк, он действовал по %(expires)s включительно."
                )
                % words
            )
        return (
            gettext("На %(d)s сертификат действовал (выдан %(issued)s, действителен до %(expires)s включительно).")
            % words
        )


def certificate_status_on(certificate: Certificate, *, on: date) -> StatusOn:
    """Whether the certificate was valid on the day ``on`` (seed 002, p.3.6.2.4: a state expertise
    checks that the expert held a valid certificate on the day of the assessment), from the dates
    of its verified record, which are the dates of its history: not yet issued before the issue
    date; valid from the issue date through the expiry date, both included; expired after it;
    annulled from the day of the confirmed annulment (annulled_on), that day included. The record
    carries the day of the annulment, not its hour, and on that day the registry already gives the
    certificate as annulled: asked about today, the answer is the status the entry shows. A record
    that does not verify answers UNCONFIRMED, as the verification does, whatever its dates."""
    if not record_verifies(certificate):
        return StatusOn(certificate, on, UNCONFIRMED)
    if on < certificate.issued_on:
        return StatusOn(certificate, on, NOT_ISSUED)
    return StatusOn(certificate, on, certificate.status_on(on))


def status_label(status: str) -> str:
    """The words for people of a public status (a key of STATUS_LABELS)."""
    return str(STATUS_LABELS[status])


@dataclass(frozen=True)
class RegistryEntry:
    """A certificate as the public sees it: with the status its verified record states."""

    certificate: Certificate
    status: str

    @property
    def status_display(self) -> str:
        return status_label(self.status)


def registry_entry(certificate: Certificate) -> RegistryEntry:
    return RegistryEntry(certificate, certificate_verified_status(certificate))


def qr_check(payload: str, signature: str, key_id: str, *, certificate: Certificate) -> str:
    """The data of a QR code against its certificate: '' without data; 'invalid' when the data is
    not signed by a published key; 'replaced' when it is the record of an edition of this certificate
    replaced by a corrected one (genuine, not current); 'mismatch' when it is signed but is not this
    certificate's record (another certificate's code, or fixed fields that differ from the registry's
    and from every edition's); else 'valid'."""
    if not payload:
        return ""
    try:
        record = json.loads(signing.b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return "invalid"
    if not isinstance(record, dict) or not signing.verify(record, signature, key_id):
        return "invalid"
    current = certificate_record(certificate)
    if any(record.get(field) != current[field] for field in QR_FIXED_FIELDS):
        return "replaced" if replaced_edition(certificate, record) is not None else "mismatch"
    return "valid"


@dataclass(frozen=True)
class Verification:
    """The verdict of the verification page: the registry's own record checked against its
    signature (the status it states, or UNCONFIRMED), and the QR data (if any) against the record."""

    status: str
    qr: str

    @property
    def record_valid(self) -> bool:
        return self.status != UNCONFIRMED

    @property
    def is_valid(self) -> bool:
        return self.status == Certificate.Status.VALID

    @property
    def is_annulled(self) -> bool:
        return self.status == Certificate.Status.ANNULLED

    @property
    def status_display(self) -> str:
        return status_label(self.status)

    @property
    def trusted(self) -> bool:
        """Only then may a page say what the record says (valid, expired, annulled): the code of a
        replaced edition is genuine, and the page says what the current record says beside it."""
        return self.record_valid and self.qr in ("", "valid", "replaced")


def certificate_verification(
    certificate: Certificate, *, payload: str = "", signature: str = "", key_id: str = ""
) -> Verification:
    return Verification(
        status=certificate_verified_status(certificate),
        qr=qr_check(payload, signature, key_id, certificate=certificate),
    )


@dataclass(frozen=True)
class RecordCheck:
    """The verify API's answer about a record a verifier holds (decoded from a QR code)."""

    verdict: str  # a key of VERDICTS
    found: bool  # the registry has a certificate of the record's number
    status: str | None = None  # that certificate's status today, for a genuine record of it
    current: bool = False  # the record is the registry's current record, not an earlier one
    current_signed_at: datetime | None = None
    replaced: bool = False  # the record of an edition replaced by a corrected one

    @property
    def valid(self) -> bool:
        """Genuine and valid today: an earlier record of a certificate annulled since is not."""
        return self.verdict == Certificate.Status.VALID

    @property
    def message(self) -> str:
        words = str(VERDICTS[self.verdict])
        if self.status in Certificate.Status.values and not self.current:
            words = f"{words} {REPLACED if self.replaced else NOT_CURRENT}"
        return words


def record_check(record: dict[str, Any], signature: str, key_id: str) -> RecordCheck:
    """A record with its signature: genuine when the signature verifies under a published key, the
    registry's current record of that certificate verifies too, and the record's fixed fields are
    the certificate's. A genuine record answers with the certificate's status TODAY, as its current
    verified record states it: an earlier record (signed before an annulment) still verifies, and
    must not pass for the current one; nor may the record of an edition replaced by a corrected one.
    """
    certificate = Certificate.objects.filter(number=str(record.get("number"))[:40]).first()
    found = certificate is not None
    if not signing.verify(record, signature, key_id):
        return RecordCheck("invalid_signature", found)
    if certificate is None:
        return RecordCheck("not_found", found)
    status = certificate_verified_status(certificate)
    if status == UNCONFIRMED:
        return RecordCheck("record_invalid", found, status=status)
    current = certificate_record(certificate)
    replaced = False
    if any(record.get(field) != current[field] for field in QR_FIXED_FIELDS):
        if replaced_edition(certificate, record) is None:
            return RecordCheck("mismatch", found)
        replaced = True  # genuine, of a paper since corrected: answered like an earlier record
    return RecordCheck(
        status,
        found,
        status=status,
        current=record == current,
        current_signed_at=certificate.signed_at,
        replaced=replaced,
    )


def published() -> QuerySet[Certificate]:
    return Certificate.objects.filter(published_at__isnull=False)


def status_q(status: str, today: date | None = None) -> Q:
    today = today or calendar.today()
    annulled = Q(annulled_on__isnull=False, annulled_on__lte=today)
    if status == Certificate.Status.ANNULLED:
        return annulled
    if status == Certificate.Status.EXPIRED:
        return ~annulled & Q(expires_on__lt=today)
    if status == Certificate.Status.VALID:
        return ~annulled & Q(expires_on__gte=today)
    raise ValueError(status)


# What a search result shows (the page and the API): not the PDF or the hand-over.
ENTRY_FIELDS = (
    "number",
    "last_name",
    "first_name",
    "patronymic",
    "issued_on",
    "expires_on",
    "areas_text",
    "annulled_on",
    "public_token",
)
# What the status shown needs besides (certificate_verified_status): the rest of the signed record
# and its signature, read in the same query.
VERIFY_FIELDS = (
    "annulment_reason_id",
    "annulment_reason_title",
    "annulment_basis",
    "signed_at",
    "signature",
    "key_id",
    "record_seal",
)
LISTED_FIELDS = (*ENTRY_FIELDS, *VERIFY_FIELDS)


@dataclass(frozen=True)
class SearchResult:
    items: list[RegistryEntry]
    page: int
    has_next: bool


def registry_search(
    *,
    query: str = "",
    status: str = "",
    area: str = "",
    year: int | None = None,
    page: int = 1,
    page_size: int | None = None,
) -> SearchResult:
    """Find experts by name (case-insensitive, ё and е alike, tolerant of a typo) or by certificate
    number, with filters by status, area of activity and year of issue. Pages without a total count,
    so that a search over a million entries stays fast."""
    page_size = page_size or settings.REGISTRY_PAGE_SIZE
    page = max(1, page)
    qs = published()
    if status:
        qs = qs.filter(status_q(status))
    if area:
        qs = qs.filter(areas__code=area)
    if year:
        qs = qs.filter(issued_on__gte=date(year, 1, 1), issued_on__lte=date(year, 12, 31))
    key = search_key(query)
    offset = (page - 1) * page_size
    if not key:
        rows = list(qs.only(*LISTED_FIELDS).order_by("-issued_on", "-id")[offset : offset + page_size + 1])
    elif NUMBER_LIKE.match(query.strip()):
        number = query.strip()
        rows = list(
            qs.only(*LISTED_FIELDS)
            .filter(Q(number=number) | Q(number__startswith=number))
            .order_by("number")[offset : offset + page_size + 1]
        )
    else:
        rows = _name_search(qs, key, offset, page_size + 1)
    return SearchResult(items=verified_entries(rows[:page_size]), page=page, has_next=len(rows) > page_size)


def verified_entries(certificates: list[Certificate]) -> list[RegistryEntry]:
    """The entries of one page with their verified status: the keys read once, then one signature
    check per entry shown (never for the whole result, which pages without a count)."""
    keys = signing.PublishedKeys()
    today = calendar.today()
    return [RegistryEntry(c, certificate_verified_status(c, keys=keys, today=today)) for c in certificates]


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams of the two words."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta or tb else 0.0


def typo_distance(a: str, b: str) -> int:
    """The number of typos between two words: letters inserted, deleted or replaced, and two
    neighbouring letters swapped, each counted once (optimal string alignment distance)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def typos_allowed(word: str) -> int:
    """One typo in a word of four to seven letters, two in a longer one, none in a shorter one
    (of the query and the surname, the longer counts: "Юдн" is one typo from "Юдин")."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


@dataclass(frozen=True)
class SurnameMatch:
    surname: str  # as in the dictionary (search form)
    index: int  # the word of the query it matches
    typos: int
    similarity: float


# Candidates for every word of the query in one statement: by trigrams (the GIN index on the
# dictionary, at pg_trgm's default threshold of 0.3) and by edit distance among the surnames of the
# same first letter and a similar length (the btree index on them); scored in Python.
_SURNAME_SQL = """
SELECT w.i, s.word
  FROM unnest(%s::text[]) WITH ORDINALITY AS w(q, i)
 CROSS JOIN LATERAL (
       SELECT word FROM registry_surname WHERE word %% w.q
       UNION
       SELECT word FROM registry_surname
        WHERE left(word, 1) = left(w.q, 1)
          AND length(word) BETWEEN length(w.q) - 2 AND length(w.q) + 2
          AND levenshtein_less_equal(word, w.q, 2) <= 2
 ) AS s
"""


def surname_matches(words: list[str], *, per_word: int = 12) -> list[SurnameMatch]:
    """Surnames of the registry that a word of the query may mean: within typos_allowed typos, or sharing enough trigrams (REGISTRY_SEARCH_THRESHOLD: a changed ending, a feminine
    form). Closest first; of equally close ones, the earlier word of the query first (a Russian name
    is usually written surname first)."""
    threshold = settings.REGISTRY_SEARCH_THRESHOLD
    if connection.vendor == "postgresql":
        pairs = [(int(i) - 1, word) for i, word in fetch_prepared(_SURNAME_SQL, [words], using=read_alias())]
    else:  # the embedded mode: a small dictionary, read whole
        dictionary = list(Surname.objects.values_list("word", flat=True))
        pairs = [(i, word) for i in range(len(words)) for word in dictionary]
    matches = []
    for index, word in pairs:
        query = words[index]
        typos, sim = typo_distance(word, query), similarity(word, query)
        if typos <= typos_allowed(max(word, query, key=len)) or sim >= threshold:
            matches.append(SurnameMatch(word, index, typos, sim))
    matches.sort(key=lambda m: (m.typos, m.index, -m.similarity, m.surname))
    kept: list[SurnameMatch] = []
    for match in matches:
        if sum(1 for k in kept if k.index == match.index) < per_word:
            kept.append(match)
    return kept


def _surname_readings(words: list[str]) -> list[SurnameMatch]:
    """The surnames the words may mean, as typed and, for words in Latin letters, as their Cyrillic
    reading by the passport table (registry.translit): "Ilin" finds Ильин, "Iudina" Юдина."""
    matches = surname_matches(words)
    cyrillic = [latin_to_cyrillic(word) if is_latin(word) else word for word in words]
    if cyrillic != words:
        matches += surname_matches(cyrillic)
        matches.sort(key=lambda m: (m.typos, m.index, -m.similarity, m.surname))
    return matches


def _name_word_q(word: str) -> Q:
    """A word of the name other than the surname begins a word of the full name; a Latin word may be
    any Cyrillic spelling the passport table gives it ("Olga" is Ольга)."""
    q = Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
    if is_latin(word):
        q |= Q(search_name__regex=f"(^| ){latin_pattern(word)}")
    return q


def _name_search(qs: QuerySet[Certificate], key: str, offset: int, limit: int) -> list[Certificate]:
    """Each word of the query may be the surname: matched with a typo against the dictionary of
    surnames (surname_matches), the other words must then begin a word of the name (first name,
    patronymic). Experts are read surname by surname, closest surname first, in name order, as ids
    from the (search_last, search_name, id) index of the published entries: no ranking of thousands
    of namesakes, and the first-name filter runs on the index, not on the table."""
    words = key.split()
    rows: list[Certificate] = []
    used: set[str] = set()
    for match in _surname_readings(words):
        if match.surname in used:  # one reading of each surname: the closest
            continue
        used.add(match.surname)
        same = qs.filter(search_last=match.surname)
        for index, word in enumerate(words):
            if index != match.index:
                same = same.filter(_name_word_q(word))
        if offset:
            count = same.count()
            if count <= offset:
                offset -= count
                continue
        # The page's ids from the index alone, then those rows: one statement.
        ids = same.order_by("search_name", "id").values("id")[offset : offset + limit - len(rows)]
        rows += list(Certificate.objects.only(*LISTED_FIELDS).filter(pk__in=ids).order_by("search_name", "id"))
        offset = 0
        if len(rows) >= limit:
            break
    return rows


def certificate_by_number(number: str) -> Certificate | None:
    return published().filter(number=number).first()


def certificate_by_token(token: str) -> Certificate | None:
    """The QR target works from the day of issue, before the registry entry is published."""
    return Certificate.objects.filter(public_token=token).first()


# --- Open data ------------------------------------------------------------------------------------

# The p.63 fields of an entry (ENTRY_FIELDS without the verification token), with the annulment
# reason and the time of the last change.
OPEN_DATA_FIELDS = [f for f in ENTRY_FIELDS if f != "public_token"] + ["annulment_reason_title", "updated_at"]
RECORD_ROW_FIELDS = [f for f in LISTED_FIELDS if f != "public_token"]


def open_data_rows(
    *, since: datetime | None = None, after_id: int = 0, limit: int | None = None, using: str | None = None
) -> Iterator[dict[str, Any]]:
    """The published registry row by row, streamed from a server-side cursor in constant memory.
    With ``since``: the entries changed after that moment (the changes feed), oldest change first,
    and only those changed at least REGISTRY_FEED_LAG_SECONDS ago: a change is stamped before its
    transaction commits, so a younger stamp may still be joined by one that commits later, behind
    the cursor of a mirror that has already read past it. Each row's status is the one its verified
    record states (certificate_verified_status): "invalid" for a row that does not verify."""
    qs = published().using(using).values(*dict.fromkeys([*OPEN_DATA_FIELDS, *VERIFY_FIELDS, "id"]))
    if since is not None:
        settled = timezone.now() - timedelta(seconds=feed_lag_seconds())
        qs = (
            qs.filter(Q(updated_at__gt=since) | Q(updated_at=since, id__gt=after_id))
            .filter(updated_at__lte=settled)
            .order_by("updated_at", "id")
        )
    else:
        qs = qs.order_by("id")
    if limit is not None:
        qs = qs[:limit]
    today = calendar.today()
    keys = signing.PublishedKeys()
    record_attnames = [f.attname for f in Certificate._meta.concrete_fields if f.attname in RECORD_ROW_FIELDS]
    for row in qs.iterator(chunk_size=5000):
        # The status as the row's verified record states it: the row made into a certificate (as
        # loaded from the database, without the defaults of a new one), so that the record is built
        # by the one function that builds it.
        entry = Certificate.from_db(None, record_attnames, [row[field] for field in record_attnames])
        row["status"] = certificate_verified_status(entry, keys=keys, today=today)
        yield row


def feed_lag_seconds() -> int:
    """How long a change waits before the changes feed gives it (REGISTRY_FEED_LAG_SECONDS, 5 by
    default): longer than a transaction that changes an entry takes to commit."""
    lag = getattr(settings, "REGISTRY_FEED_LAG_SECONDS", 5)
    if not isinstance(lag, int) or isinstance(lag, bool) or lag < 0:
        raise ImproperlyConfigured("REGISTRY_FEED_LAG_SECONDS must be a whole number of seconds, 0 or more")
    return lag


def last_change(*, using: str | None = None) -> datetime | None:
    latest = published().using(using).order_by("-updated_at").values_list("updated_at", flat=True).first()
    return latest


# How long before its expiry a certificate holder is offered a new attestation.
CERTIFICATE_RENEWAL_DAYS = 180


@dataclass(frozen=True)
class HeldCertificate:
    certificate: Certificate
    renewal_open: bool


def certificate_held_by(*, user: Any) -> HeldCertificate | None:
    """The valid certificate of an account holder, if any, and whether a new application makes
    sense already (its expiry is near): the cabinet does not offer a new attestation to an expert
    as if they had none."""
    today = calendar.today()
    certificate = (
        Certificate.objects.filter(status_q(Certificate.Status.VALID, today), candidate=user)
        .order_by("-expires_on")
        .first()
    )
    if certificate is None:
        return None
    return HeldCertificate(
        certificate=certificate, renewal_open=certificate.expires_on - today <= timedelta(days=CERTIFICATE_RENEWAL_DAYS)
    )


def attestation_drafts_to_sign() -> QuerySet[AttestationDecision]:
    """Decisions on attestation drafted and waiting for a signatory (p.59)."""
    return AttestationDecision.objects.filter(status=AttestationDecision.Status.DRAFT, superseded=False)


def decision_for_application(application: Any) -> AttestationDecision | None:
    return (
        AttestationDecision.objects.filter(application=application, superseded=False)
        .select_related("attempt")
        .order_by("-drafted_at")
        .first()
    )


def attempts_awaiting_decision() -> QuerySet[Attempt]:
    """Finished attempts that are their person's last (p.58) and have no current decision on
    attestation, oldest first: what the sweeper drafts. Attempts that a later one made non-final
    are left out, so they never crowd the sweeper's batch."""
    from exam.models import Attempt

    finished = Attempt.objects.filter(status=Attempt.Status.FINISHED)
    later = finished.filter(application__person_key=OuterRef("application__person_key")).filter(
        Q(finished_at__gt=OuterRef("finished_at")) | Q(finished_at=OuterRef("finished_at"), pk__gt=OuterRef("pk"))
    )
    current = AttestationDecision.objects.filter(attempt_id=OuterRef("pk"), superseded=False)
    return finished.filter(~Exists(later), ~Exists(current)).select_related("application").order_by("finished_at", "pk")


def decisions_stale() -> QuerySet[AttestationDecision]:
    """Decisions not superseded whose attempt is no longer the person's last finished one, or whose
    score no longer matches the attempt's, and that are not carried out (no certificate, not a
    refusal already sent): what the sweeper hands to the superseding rule (decisions made before
    the rule existed, persons joined by their identity document). The rule itself decides."""
    from exam.models import Attempt

    latest = (
        Attempt.objects.filter(
            status=Attempt.Status.FINISHED, application__person_key=OuterRef("application__person_key")
        )
        .order_by("-finished_at", "-pk")
        .values("pk")[:1]
    )
    not_latest = ~Q(attempt_id=Subquery(latest))
    rescored = ~Q(score=Coalesce(F("attempt__score"), 0))
    sent_refusal = Q(
        kind=AttestationDecision.Kind.REFUSED, status=AttestationDecision.Status.SIGNED, dispatched_at__isnull=False
    )
    return (
        AttestationDecision.objects.filter(superseded=False)
        .filter(not_latest | rescored)
        .exclude(Exists(Certificate.objects.filter(decision_id=OuterRef("pk"))))
        .exclude(sent_refusal)
        .select_related("application")
        .order_by("pk")
    )


# --- The case's stage and timeline past the test (registered with exam in RegistryConfig.ready) -----


def _current_signed_decisions(applications: Sequence[Application]) -> dict[int, AttestationDecision]:
    """The current signed decision on attestation of each application that has one (by pk), with
    its certificate, in one query."""
    admitted = [app.pk for app in applications if app.status == app.Status.ADMITTED]
    if not admitted:
        return {}
    decisions = (
        AttestationDecision.objects.filter(
            application_id__in=admitted, superseded=False, status=AttestationDecision.Status.SIGNED
        )
        .select_related("certificate")
        .order_by("signed_at", "pk")
    )
    return {decision.application_id: decision for decision in decisions}  # the latest wins


def _certificate_of(decision: AttestationDecision) -> Certificate | None:
    try:
        return decision.certificate
    except Certificate.DoesNotExist:
        return None


def attestation_stages(applications: Sequence[Application]) -> dict[int, Stage]:
    """The stages past the test (p.59-63): the signed decision on attestation, then the certificate:
    issued, handed over (p.60), and once also in the registry (p.63) the case is complete; annulled
    above all. An entry made at issue, before the hand-over, shows as the certificate being handed
    over: what the expert still waits for."""
    today = calendar.today()
    stages: dict[int, Stage] = {}
    for pk, decision in _current_signed_decisions(applications).items():
        certificate = _certificate_of(decision)
        if certificate is None:
            stages[pk] = Stage.ATTESTED if decision.is_attested else Stage.REFUSED_ATTESTATION
        elif certificate.status_on(today) == Certificate.Status.ANNULLED:
            stages[pk] = Stage.ANNULLED
        elif certificate.handover_at is None:
            stages[pk] = Stage.CERTIFICATE_ISSUED
        elif certificate.published_at is None:
            stages[pk] = Stage.HANDED_OVER
        else:
            stages[pk] = Stage.PUBLISHED
    return stages


def _open_terms(case: Any) -> dict[str, date]:
    """The due dates of the terms still running on ``case``, by kind."""
    if case is None:
        return {}
    rows = Deadline.objects.filter(
        case_type=ContentType.objects.get_for_model(case), case_id=case.pk, completed_at__isnull=True
    ).values_list("kind", "due_on")
    return dict(rows)


def attestation_timeline(application: Application) -> list[Step]:
    """The candidate's timeline past the test (p.40, p.68): the decision on attestation (15 working
    days from the test, p.12(v)), and on attestation the certificate and its hand-over (the same
    term) and the registry entry (10 working days from issue, p.63); each with its date when done,
    or the due date of its term while it runs."""
    decision = decision_for_application(application)
    signed = decision is not None and decision.is_signed
    decision_terms = _open_terms(decision)
    steps = [
        Step(
            "attestation_decision",
            str(_("Решение по результатам испытания")),
            decision.signed_at if decision is not None and signed else None,
            detail=str(decision.get_kind_display()) if decision is not None and signed else "",
            due_on=decision_terms.get(DEADLINE_DECISION),
            due_label=str(_("Решение будет принято не позднее")),
        )
    ]
    if decision is None or not signed or not decision.is_attested:
        return steps
    certificate = _certificate_of(decision)
    certificate_due = decision_terms.get(DEADLINE_CERTIFICATE)
    certificate_terms = _open_terms(certificate)
    steps += [
        Step(
            "certificate",
            str(_("Сертификат эксперта оформлен")),
            certificate.created_at if certificate else None,
            detail=_("№ %(n)s") % {"n": certificate.number} if certificate else "",
            due_on=None if certificate else certificate_due,
            due_label=str(_("Сертификат будет оформлен не позднее")),
        ),
        Step(
            "handover",
            str(_("Сертификат передан эксперту")),
            certificate.handover_at if certificate else None,
            detail=certificate.get_handover_display() if certificate and certificate.handover else "",
            due_on=certificate_due if not (certificate and certificate.handover_at) else None,
            due_label=str(_("Сертификат будет передан не позднее")),
        ),
        Step(
            "published",
            str(_("Сведения внесены в реестр экспертов")),
            certificate.published_at if certificate else None,
            due_on=certificate_terms.get(DEADLINE_PUBLISH),
            due_label=str(_("Сведения будут внесены в реестр не позднее")),
        ),
    ]
    annulment = (
        certificate.annulments.filter(status=Annulment.Status.CONFIRMED).order_by("-decided_at").first()
        if certificate and certificate.annulled_on
        else None
    )
    if annulment is not None:
        steps.append(
            Step(
                "annulled",
                str(_("Сертификат аннулирован")),
                annulment.decided_at,
                detail=certificate.annulment_reason_title if certificate else "",
            )
        )
    return steps
