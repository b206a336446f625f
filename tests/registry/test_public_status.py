"""Everything public shows the status a certificate's verified record states: a registry row changed
in the database without a new signed record (an annulment removed, an expiry date moved) is "not
confirmed" in the search, the experts API, the open data and the changes feed, never "valid"."""

import csv
import io
import json
from datetime import date, timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import selectors
from registry.models import Certificate
from tests.conftest import published_certificate

VALID = "Действует"
NOT_CONFIRMED = "Не подтверждено"


def annulled_then_restored_in_the_database() -> Certificate:
    """An annulled expert whose row was edited to drop the annulment: the row's dates say valid."""
    certificate = published_certificate("2025-00041", "Смирнова", "Мария", "Олеговна", annulled_on=date(2025, 6, 1))
    Certificate.objects.filter(pk=certificate.pk).update(
        annulled_on=None, updated_at=timezone.now() - timedelta(minutes=5)
    )
    return certificate


def test_the_search_page_shows_a_row_changed_in_the_database_as_not_confirmed(db):
    published_certificate("2025-00040", "Смирнов", "Иван")
    annulled_then_restored_in_the_database()
    page = Client().get("/registry/", {"q": "Смирнова"}).content.decode()
    row = page[page.index('data-number="2025-00041"') :].split("</tr>")[0]
    assert NOT_CONFIRMED in row and 'data-status="invalid"' in row and VALID not in row
    genuine = Client().get("/registry/", {"q": "Смирнов Иван"}).content.decode()
    assert 'data-status="valid"' in genuine and VALID in genuine


def test_the_experts_api_gives_a_row_changed_in_the_database_as_invalid(db):
    annulled_then_restored_in_the_database()
    [entry] = Client().get("/api/v1/registry/experts/", {"q": "2025-00041"}).json()["results"]
    assert entry["status"] == "invalid" and entry["status_display"] == NOT_CONFIRMED
    # The filter reads the row, but what the row says is not shown as the status either.
    assert [e["status"] for e in Client().get("/api/v1/registry/experts/", {"status": "valid"}).json()["results"]] == [
        "invalid"
    ]


def test_the_open_data_and_the_changes_feed_give_a_row_changed_in_the_database_as_invalid(db):
    published_certificate("2025-00040", "Смирнов", "Иван", updated_at=timezone.now() - timedelta(minutes=5))
    annulled_then_restored_in_the_database()
    body = b"".join(Client().get("/api/v1/registry/open-data.csv").streaming_content).decode("utf-8-sig")
    statuses = {row["number"]: row["status"] for row in csv.DictReader(io.StringIO(body))}
    assert statuses == {"2025-00040": "valid", "2025-00041": "invalid"}
    data = json.loads(b"".join(Client().get("/api/v1/registry/open-data.json").streaming_content))
    assert {e["number"]: e["status"] for e in data["entries"]} == statuses
    feed = Client().get("/api/v1/registry/changes/", {"since": "2020-01-01T00:00:00+03:00"}).json()
    assert {e["number"]: e["status"] for e in feed["entries"]} == statuses


def test_a_genuine_expired_or_annulled_entry_keeps_its_status(db):
    published_certificate("2025-00042", "Кузнецов", "Пётр", issued_on=date(2019, 1, 10))
    published_certificate("2025-00043", "Кузнецова", "Анна", annulled_on=date(2025, 6, 1))
    results = Client().get("/api/v1/registry/experts/", {"q": "2025-0004"}).json()["results"]
    assert {e["number"]: e["status"] for e in results} == {"2025-00042": "expired", "2025-00043": "annulled"}


def test_a_page_of_the_search_costs_the_same_queries_whatever_its_length(db):
    """The status is checked for the entries shown: one query for the page and one for the keys,
    then a signature check per entry, never a query per entry."""
    published_certificate("2025-00050", "Иванов", "Иван")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            result = selectors.registry_search()
        assert all(entry.status == "valid" for entry in result.items)
        return len(captured.captured_queries)

    one = queries()
    for n in range(51, 66):
        published_certificate(f"2025-{n:05d}", "Иванов", "Иван")
    assert queries() == one == 2
