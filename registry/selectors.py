"""Reads of the registry: search, filters, the signed record, open data and the changes feed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from core import calendar
from registry.models import AttestationDecision, Certificate, Surname

DEADLINE_DECISION = "attestation.decision"  # p.12(v): 15 working days from the test
DEADLINE_CERTIFICATE = "certificate.issue"  # p.12(v): the same term, for the certificate
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
            f"{certificate.annulment_reason.title}. {certificate.annulment_basis}"
            if certificate.annulment_reason
            else None
        ),
    }
    if certificate.signed_at is not None:
        record["signed_at"] = certificate.signed_at.isoformat()
    return record


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


@dataclass(frozen=True)
class SearchResult:
    items: list[Certificate]
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
        rows = list(qs.order_by("-issued_on", "-id")[offset : offset + page_size + 1])
    elif NUMBER_LIKE.match(query.strip()):
        number = query.strip()
        rows = list(
            qs.filter(Q(number=number) | Q(number__startswith=number)).order_by("number")[
                offset : offset + page_size + 1
            ]
        )
    else:
        rows = _name_search(qs, key, offset, page_size + 1)
    return SearchResult(items=rows[:page_size], page=page, has_next=len(rows) > page_size)


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams of the two words."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta or tb else 0.0


def surname_candidates(word: str, *, limit: int = 12) -> list[str]:
    """Surnames of the registry close to ``word`` (a typo or two, a missing ending), closest first.
    The dictionary is small (the distinct surnames), so this is fast; on PostgreSQL its trigram
    index serves the % operator."""
    threshold = settings.REGISTRY_SEARCH_THRESHOLD
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [threshold])
            return list(
                Surname.objects.filter(word__trigram_similar=word)
                .annotate(sim=TrigramSimilarity("word", word))
                .order_by("-sim", "word")
                .values_list("word", flat=True)[:limit]
            )
    scored = sorted((-similarity(word, w), w) for w in Surname.objects.values_list("word", flat=True))
    return [w for score, w in scored if -score >= threshold][:limit]


def _name_search(qs: QuerySet[Certificate], key: str, offset: int, limit: int) -> list[Certificate]:
    """The query's best-matching word is taken as the surname, matched with typos against the
    dictionary of surnames; the other words must begin a word of the name (first name, patronymic).
    Experts are then read surname by surname, closest surname first, in name order, from the
    (search_last, search_name, id) index: no ranking of thousands of namesakes per query."""
    words = key.split()
    best: tuple[list[str], int] = ([], -1)
    for index, word in enumerate(words):
        candidates = surname_candidates(word)
        if candidates and (not best[0] or similarity(word, candidates[0]) > similarity(words[best[1]], best[0][0])):
            best = (candidates, index)
    surnames, used = best
    for index, word in enumerate(words):
        if index != used:
            qs = qs.filter(Q(search_name__startswith=f"{word}") | Q(search_name__contains=f" {word}"))
    rows: list[Certificate] = []
    for surname in surnames:
        same = qs.filter(search_last=surname)
        if offset:
            count = same.count()
            if count <= offset:
                offset -= count
                continue
        rows += list(same.order_by("search_name", "id")[offset : offset + limit - len(rows)])
        offset = 0
        if len(rows) >= limit:
            break
    return rows


def certificate_by_number(number: str) -> Certificate | None:
    return published().select_related("annulment_reason").filter(number=number).first()


def certificate_by_token(token: str) -> Certificate | None:
    """The QR target works from the day of issue, before the registry entry is published."""
    return Certificate.objects.select_related("annulment_reason").filter(public_token=token).first()


# --- Open data ------------------------------------------------------------------------------------

OPEN_DATA_FIELDS = [
    "number",
    "last_name",
    "first_name",
    "patronymic",
    "issued_on",
    "expires_on",
    "areas_text",
    "annulled_on",
    "annulment_reason__title",
    "updated_at",
]


def open_data_rows(
    *, since: datetime | None = None, after_id: int = 0, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The published registry row by row, streamed from a server-side cursor in constant memory.
    With ``since``: the entries changed after that moment (the changes feed), oldest change first."""
    qs = published().values(*OPEN_DATA_FIELDS, "id")
    if since is not None:
        qs = qs.filter(Q(updated_at__gt=since) | Q(updated_at=since, id__gt=after_id)).order_by("updated_at", "id")
    else:
        qs = qs.order_by("id")
    if limit is not None:
        qs = qs[:limit]
    today = calendar.today()
    for row in qs.iterator(chunk_size=5000):
        if row["annulled_on"] is not None and row["annulled_on"] <= today:
            status = Certificate.Status.ANNULLED
        elif row["expires_on"] < today:
            status = Certificate.Status.EXPIRED
        else:
            status = Certificate.Status.VALID
        row["status"] = str(status)
        yield row


def last_change() -> datetime | None:
    latest = published().order_by("-updated_at").values_list("updated_at", flat=True).first()
    return latest


def decision_for_application(application: Any) -> AttestationDecision | None:
    return (
        AttestationDecision.objects.filter(application=application, superseded=False)
        .select_related("attempt")
        .order_by("-drafted_at")
        .first()
    )
