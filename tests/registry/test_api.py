"""The public registry: search (typo-tolerant, ё/е), filters, the record with its signature, open
data row for row, the changes feed; the API never lists anyone without a published certificate."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from registry import signing
from registry.models import AnnulmentReason, AreaOfActivity, Certificate, Surname
from tests.conftest import published_certificate, throttle_rates


@pytest.fixture
def registry(db):
    area = AreaOfActivity.objects.get(code="02")
    entries = [
        published_certificate("2025-00001", "Иванов", "Иван", "Иванович"),
        published_certificate("2025-00002", "Семёнова", "Алёна", "Петровна", issued_on=date(2024, 5, 10)),
        published_certificate("2025-00003", "Кузнецов", "Пётр", "", issued_on=date(2019, 1, 10)),  # expired
        published_certificate("2025-00004", "Смирнова", "Мария", "Олеговна", annulled_on=date(2025, 6, 1)),
        published_certificate("2025-00005", "Неопубликованный", "Игорь", "", published_at=None),
    ]
    entries[1].areas.add(area)
    return entries


def resign(certificate: Certificate) -> None:
    from registry.services import _sign_record

    _sign_record(certificate)
    certificate.save(update_fields=["key_id", "signature", "signed_at", "record_seal"])


def search(client=None, **params):
    response = (client or Client()).get("/api/v1/registry/experts/", params)
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_search_by_a_misspelt_surname_finds_the_expert(registry):
    assert search(q="Ивонов") == ["2025-00001"]
    assert search(q="кузнецоф") == ["2025-00003"]


def test_one_typo_of_any_kind_in_a_short_surname_is_tolerated(registry):
    published_certificate("2025-00006", "Юдин", "Кирилл", "Андреевич")
    published_certificate("2025-00007", "Юнин", "Олег", "")
    assert search(q="Юидн") == ["2025-00006"]  # two letters swapped
    assert search(q="Юдн") == ["2025-00006"]  # a letter missing
    assert search(q="юдин кирилл") == ["2025-00006"]
    assert search(q="Кирилл Юидн") == ["2025-00006"]  # first name first, surname misspelt
    assert search(q="Юдни") == ["2025-00006"]
    # The first name decides between the surnames one typo apart: Юнин Олег, not Юдин Кирилл.
    assert search(q="Юдин Олег") == ["2025-00007"]
    assert search(q="Юдин Пётр") == []


def test_a_surname_two_typos_away_is_not_a_match_when_short(registry):
    assert search(q="Ивнво") == []


def test_search_treats_yo_and_e_alike_and_ignores_case(registry):
    assert search(q="СЕМЕНОВА") == ["2025-00002"]
    assert search(q="алёна семенова") == ["2025-00002"]


def test_search_by_certificate_number(registry):
    assert search(q="2025-00004") == ["2025-00004"]


def test_filters_by_status_area_and_year(registry):
    assert set(search(status="valid")) == {"2025-00001", "2025-00002"}
    assert search(status="expired") == ["2025-00003"]
    assert search(status="annulled") == ["2025-00004"]
    assert search(area="02") == ["2025-00002"]
    assert search(year="2024") == ["2025-00002"]


def test_the_api_never_lists_anyone_without_a_published_certificate(registry, exam_setup):
    # An admitted candidate and an unpublished certificate are not in the registry.
    numbers = search()
    assert "2025-00005" not in numbers and len(numbers) == 4
    assert search(q="Неопубликованный") == []
    assert search(q="Алексеева") == []
    assert Client().get("/api/v1/registry/certificates/2025-00005/").status_code == 404


def test_bad_parameters_are_structured_400s(registry):
    for params in [{"status": "lost"}, {"year": "abc"}, {"page": "0"}, {"year": "1800"}]:
        response = Client().get("/api/v1/registry/experts/", params)
        assert response.status_code == 400 and response.json()["error"]["fields"]


def test_pages_have_no_total_count_but_a_next_page(registry, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    first = Client().get("/api/v1/registry/experts/").json()
    assert len(first["results"]) == 2 and first["next"] == 2
    second = Client().get("/api/v1/registry/experts/", {"page": 2}).json()
    assert len(second["results"]) == 2 and second["next"] is None


def test_the_record_carries_status_history_and_a_signature_that_verifies(certificate):
    response = Client().get(f"/api/v1/registry/certificates/{certificate.number}/")
    data = response.json()
    assert data["status"] == "valid" and data["full_name"] == "Алексеева Алиса Петровна"
    assert [h["kind"] for h in data["history"]] == ["issued", "published"]
    verify = Client().post(
        "/api/v1/registry/verify/",
        {"record": data["record"], "signature": data["signature"], "key_id": data["key_id"]},
        content_type="application/json",
    )
    assert verify.json()["valid"] is True and verify.json()["verdict"] == "valid"
    tampered = dict(data["record"], name="Алексеева Алиса Петровнa")  # Latin "a"
    verify = Client().post(
        "/api/v1/registry/verify/",
        {"record": tampered, "signature": data["signature"], "key_id": data["key_id"]},
        content_type="application/json",
    )
    assert verify.json()["valid"] is False and verify.json()["verdict"] == "invalid_signature"
    for signed_at in ("2026-02-30T10:00:00+03:00", "2026-11-01T10:00:00"):  # impossible; without an offset
        verify = Client().post(
            "/api/v1/registry/verify/",
            {"record": dict(data["record"], signed_at=signed_at), "signature": "AA", "key_id": data["key_id"]},
            content_type="application/json",
        )
        assert verify.status_code == 200 and verify.json()["valid"] is False
    keys = Client().get("/api/v1/registry/keys/").json()
    assert keys[0]["key_id"] == data["key_id"] and keys[0]["algorithm"] == "Ed25519"


def test_the_csv_export_matches_the_database_row_for_row(registry):
    court = AnnulmentReason.objects.get(code="court")
    Certificate.objects.filter(number="2025-00004").update(annulment_reason=court, annulment_reason_title=court.title)
    Certificate.objects.filter(number="2025-00002").update(areas_text="Область один; Область два")
    for changed in Certificate.objects.filter(number__in=["2025-00002", "2025-00004"]):
        resign(changed)  # changed as the services change an entry: signed again
    response = Client().get("/api/v1/registry/open-data.csv")
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    published = Certificate.objects.filter(published_at__isnull=False).order_by("id")
    assert [r["number"] for r in rows] == list(published.values_list("number", flat=True))
    for row, cert in zip(rows, published, strict=True):
        assert (row["last_name"], row["first_name"], row["patronymic"]) == (
            cert.last_name,
            cert.first_name,
            cert.patronymic,
        )
        assert row["issued_on"] == cert.issued_on.isoformat() and row["expires_on"] == cert.expires_on.isoformat()
        assert row["status"] == cert.status
        assert row["areas"] == cert.areas_text
        assert row["annulled_on"] == (cert.annulled_on.isoformat() if cert.annulled_on else "")
        assert row["annulment_reason"] == cert.annulment_reason_title
    annulled = next(r for r in rows if r["number"] == "2025-00004")
    assert annulled["status"] == "annulled" and annulled["annulment_reason"].startswith("Вступившее в законную силу")
    assert response["Last-Modified"]


def test_the_json_export_streams_the_same_entries(registry):
    import json

    response = Client().get("/api/v1/registry/open-data.json")
    data = json.loads(b"".join(response.streaming_content))
    assert [e["number"] for e in data["entries"]] == ["2025-00001", "2025-00002", "2025-00003", "2025-00004"]
    assert data["updated_at"]


def test_the_changes_feed_returns_entries_changed_since_a_moment_page_by_page(registry):
    # Changes old enough to be past the feed's lag window.
    since = timezone.now() - timedelta(minutes=5)
    Certificate.objects.filter(number="2025-00003").update(updated_at=since + timedelta(seconds=5))
    Certificate.objects.filter(number="2025-00001").update(updated_at=since + timedelta(seconds=6))
    Certificate.objects.exclude(number__in=["2025-00003", "2025-00001"]).update(updated_at=since - timedelta(days=1))
    response = Client().get("/api/v1/registry/changes/", {"since": since.isoformat(), "limit": 1}).json()
    assert [e["number"] for e in response["entries"]] == ["2025-00003"]
    cursor = response["next"]
    second = (
        Client()
        .get("/api/v1/registry/changes/", {"since": cursor["since"], "after": cursor["after"], "limit": 1})
        .json()
    )
    assert [e["number"] for e in second["entries"]] == ["2025-00001"] and second["next"] is None
    for since in ("yesterday", "2026-13-01T00:00:00+03:00", "2026-11-01T00:00:00"):
        response = Client().get("/api/v1/registry/changes/", {"since": since})
        assert response.status_code == 400 and "since" in response.json()["error"]["fields"]


@pytest.fixture
def registry_rate_3_per_min(settings):
    with throttle_rates(settings, registry="3/min"):
        yield settings


def test_the_public_api_is_throttled_per_client(registry, registry_rate_3_per_min):
    client = Client()
    codes = [client.get("/api/v1/registry/experts/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/registry/experts/")
    assert response.json()["error"]["code"] == "throttled" and response["Retry-After"]
    assert Client(REMOTE_ADDR="10.9.9.9").get("/api/v1/registry/experts/").status_code == 200


def test_registry_pages_search_and_verify(certificate):
    page = Client().get("/registry/", {"q": "Алексеиева"}).content.decode()
    assert f'data-number="{certificate.number}"' in page
    page = Client().get(certificate.public_url()).content.decode()
    assert 'data-status="valid"' in page and "Сертификат действителен" in page


def test_the_qr_target_checks_the_signed_data(certificate):
    from registry.documents import qr_url

    url = qr_url(certificate).split("8000", 1)[-1] if "8000" in qr_url(certificate) else qr_url(certificate)
    page = Client().get(url).content.decode()
    assert 'data-qr="valid"' in page
    forged = url.replace("d=", "d=A", 1)
    assert 'data-qr="invalid"' in Client().get(forged).content.decode()
    record = {"number": certificate.number, "signed_at": "2026-02-30T10:00:00+03:00"}
    payload = signing.b64encode(json.dumps(record).encode())
    response = Client().get(certificate.public_url(), {"d": payload, "s": "AA", "k": "x"})
    assert response.status_code == 200 and 'data-qr="invalid"' in response.content.decode()


@pytest.mark.postgres
def test_the_name_search_reads_through_its_indexes(registry):
    from django.test.utils import CaptureQueriesContext

    from registry.selectors import _SURNAME_SQL, registry_search

    # A registry's worth of surnames, so that the planner's choice is the one it makes in service.
    Surname.objects.bulk_create(Surname(word=f"фамилия{n:05d}") for n in range(20000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_surname")
        cursor.execute("ANALYZE registry_certificate")
    with CaptureQueriesContext(connection) as captured:
        assert [e.certificate.number for e in registry_search(query="Ивонов Иван").items] == ["2025-00001"]
    logged = [q["sql"] for q in captured.captured_queries]
    assert logged[0].startswith(_SURNAME_SQL.strip())  # the dictionary's statement, prepared, comes first
    experts = logged[1]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + _SURNAME_SQL, [["ивонов", "иван"]])
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("EXPLAIN " + experts)  # the captured statement, values in place
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "registry_surname_word_trgm" in plans[0] and "registry_surname_first_length" in plans[0]
    # The page of ids comes from the index in name order; only those (at most a page) are sorted.
    assert "registry_cert_surname_order" in plans[1] and "Seq Scan" not in plans[1]


def test_the_api_entries_have_exactly_the_fields_of_the_schema(registry):
    from registry.api.views import CertificateRecordSerializer, ExpertSerializer

    entry = Client().get("/api/v1/registry/experts/", {"q": "Иванов"}).json()["results"][0]
    assert set(entry) == set(ExpertSerializer().fields)
    assert entry["status"] == "valid" and entry["status_display"] and entry["areas"]
    record = Client().get("/api/v1/registry/certificates/2025-00001/").json()
    assert set(record) == set(CertificateRecordSerializer().fields)


def test_the_registry_answers_when_the_rate_counter_is_unreachable(registry, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    assert search(q="Иванов") == ["2025-00001"]


def test_a_change_younger_than_the_lag_window_waits_for_the_next_poll(registry, settings):
    import time_machine

    settings.REGISTRY_FEED_LAG_SECONDS = 5
    since = timezone.now() - timedelta(minutes=5)
    Certificate.objects.update(updated_at=since - timedelta(days=1))
    settled, fresh = timezone.now() - timedelta(seconds=30), timezone.now()
    Certificate.objects.filter(number="2025-00003").update(updated_at=settled)
    Certificate.objects.filter(number="2025-00001").update(updated_at=fresh)  # its transaction may still be open
    with time_machine.travel(fresh + timedelta(seconds=1), tick=False):  # however slow this machine is
        first = Client().get("/api/v1/registry/changes/", {"since": since.isoformat()}).json()
    assert [e["number"] for e in first["entries"]] == ["2025-00003"] and first["next"] is None
    last = first["entries"][-1]
    with time_machine.travel(fresh + timedelta(seconds=6)):
        again = Client().get("/api/v1/registry/changes/", {"since": last["updated_at"], "after": last["id"]}).json()
    assert [e["number"] for e in again["entries"]] == ["2025-00001"]


def test_the_changes_feed_tells_mirrors_to_poll_again(db):
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    description = schema["paths"]["/api/v1/registry/changes/"]["get"]["description"]
    assert "REGISTRY_FEED_LAG_SECONDS" in description and "повторно" in description


def test_the_registry_api_is_in_the_openapi_schema(db):
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/registry/experts/",
        "/api/v1/registry/certificates/{number}/",
        "/api/v1/registry/keys/",
        "/api/v1/registry/verify/",
        "/api/v1/registry/changes/",
    ):
        assert path in schema["paths"], path
    assert {"q", "status", "area", "year", "page"} <= {
        p["name"] for p in schema["paths"]["/api/v1/registry/experts/"]["get"]["parameters"]
    }


def test_a_client_sending_a_new_x_forwarded_for_each_time_is_still_throttled(registry, registry_rate_3_per_min):
    client = Client(REMOTE_ADDR="203.0.113.7")
    codes = [
        client.get("/api/v1/registry/experts/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_behind_a_configured_proxy_the_forwarded_address_tells_clients_apart(registry, registry_rate_3_per_min):
    settings = registry_rate_3_per_min
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # DRF reloads its settings
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    codes = [proxy.get("/api/v1/registry/experts/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert proxy.get("/api/v1/registry/experts/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
