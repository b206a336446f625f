"""A name typed in Latin letters, as a Russian passport spells it (ICAO table of the order of the MVD
No. 889), finds the expert in the Cyrillic registry (issue 13)."""

import re

import pytest
from django.db import connection
from django.test import Client

from registry.translit import latin_pattern, latin_to_cyrillic
from tests.conftest import published_certificate


@pytest.fixture
def registry(db):
    return [
        published_certificate("2025-00011", "Ильин", "Сергей", "Дмитриевич"),
        published_certificate("2025-00012", "Юдина", "Ольга", "Андреевна"),
        published_certificate("2025-00013", "Щукин", "Дмитрий", "Юрьевич"),
        published_certificate("2025-00014", "Зайцева", "Мария", "Ильинична"),
        published_certificate("2025-00015", "Ильин", "Андрей", "Петрович"),
        published_certificate("2025-00016", "Smith", "John", ""),  # a name spelt in Latin letters
    ]


def search(q):
    response = Client().get("/api/v1/registry/experts/", {"q": q})
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("ilin", "илин"),
        ("iudina", "юдина"),
        ("shchukin", "щукин"),
        ("zaitseva", "зайцева"),
        ("sergei", "сергей"),
        ("sergey", "сергей"),
        ("dmitrii", "дмитрий"),
        ("mariia", "мария"),
        ("mikhailov", "михайлов"),
    ],
)
def test_the_likely_reading_of_a_passport_spelling(latin, cyrillic):
    assert latin_to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(("latin", "name"), [("olga", "ольга"), ("iurevich", "юрьевич"), ("ilia", "илья")])
def test_the_pattern_admits_the_letters_the_passport_table_drops(latin, name):
    assert re.fullmatch(latin_pattern(latin), name)


def test_a_surname_in_latin_letters_finds_the_expert(registry):
    assert search("Iudina") == ["2025-00012"]
    assert search("SHCHUKIN") == ["2025-00013"]
    assert search("Zaitseva") == ["2025-00014"]
    assert set(search("Ilin")) == {"2025-00011", "2025-00015"}  # ь is dropped in a passport


def test_the_first_name_in_latin_letters_narrows_the_search(registry):
    assert search("Ilin Sergei") == ["2025-00011"]
    assert search("Andrei Ilin") == ["2025-00015"]
    assert search("Iudina Olga Andreevna") == ["2025-00012"]
    assert search("Shchukin Dmitrii Iurevich") == ["2025-00013"]
    assert search("Ilin Olga") == []


def test_a_latin_name_in_the_registry_is_still_found_as_typed(registry):
    assert search("Smith John") == ["2025-00016"]


def test_cyrillic_search_is_unchanged(registry):
    assert set(search("Ильин")) == {"2025-00011", "2025-00015"}
    assert search("Ильин Андрей") == ["2025-00015"]


@pytest.mark.postgres
def test_a_latin_query_reads_through_the_same_indexes(registry):
    from django.test.utils import CaptureQueriesContext

    from registry.selectors import registry_search

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_certificate")
    with CaptureQueriesContext(connection) as captured:
        assert [e.certificate.number for e in registry_search(query="Ilin Sergei").items] == ["2025-00011"]
    experts = next(q["sql"] for q in captured.captured_queries if "registry_certificate" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + experts)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "registry_cert_surname_order" in plan and "Seq Scan" not in plan
