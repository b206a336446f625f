"""The oversight dashboard's list of every open case, a page at a time: by due date across the
pages, any ?page= answered with a page of the list, the total in agreement with its number."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals import services as appeals
from core import calendar
from core.models import Deadline
from tests.conftest import client_for, complaint_data


def file_complaints(candidate, *due_in_days):
    """A complaint for each number, its open term due that many days from today; in filing order."""
    complaints = []
    for n, days in enumerate(due_in_days):
        complaint = appeals.complaint_file(
            data=complaint_data(arguments=f"Доводы {n}."), channel="portal", complainant=candidate
        )
        Deadline.objects.filter(case_id=complaint.pk, kind="complaint.decision").update(
            due_on=calendar.today() + timedelta(days=days)
        )
        complaints.append(complaint)
    return complaints


def rows(page):
    """(due date, case) of each row of the list of all terms."""
    table = page[page.index('id="oversight"') :]
    return re.findall(r'<tr data-kind="[^"]+" data-due="([^"]+)"><td><a href="[^"]*">([^<]+)</a>', table)


def oversight(user, **query):
    response = client_for(user).get(reverse("frontend:oversight"), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr("frontend.views.oversight.OPEN_CASES_PER_PAGE", 2)


def test_the_second_page_lists_the_cases_after_the_first_by_due_date(alice, audrey, two_per_page):
    # Two terms due the same day: the one opened first comes first, on every reading.
    complaints = file_complaints(alice, 9, 2, 5, 2, 7)
    by_due = sorted(complaints, key=lambda c: Deadline.objects.get(case_id=c.pk, kind="complaint.decision").due_on)
    expected = [str(c) for c in by_due]
    assert expected[:2] == [str(complaints[1]), str(complaints[3])]

    pages = [rows(oversight(audrey, page=n)) for n in (1, 2, 3)]
    assert [[case for _due, case in page] for page in pages] == [expected[0:2], expected[2:4], expected[4:]]
    dues = [due for page in pages for due, _case in page]
    assert dues == sorted(dues)

    second = oversight(audrey, page=2)
    assert "Страница 2 из 3" in second
    assert 'href="?page=1" rel="prev"' in second and 'href="?page=3" rel="next"' in second
    assert not {case for _due, case in rows(second)} & {case for _due, case in pages[0]}


@pytest.mark.parametrize(("asked", "shown"), [("abc", 1), ("", 1), ("0", 3), ("-1", 3), ("99999", 3), ("2.5", 1)])
def test_a_page_number_out_of_range_or_not_a_number_gives_a_page_of_the_list(alice, audrey, two_per_page, asked, shown):
    file_complaints(alice, 1, 2, 3, 4, 5)
    page = oversight(audrey, page=asked)
    assert f"Страница {shown} из 3" in page
    assert len(rows(page)) == (2 if shown == 1 else 1)


def test_one_page_of_cases_shows_no_pager(alice, audrey, two_per_page):
    file_complaints(alice, 1, 2)
    page = oversight(audrey)
    assert len(rows(page)) == 2 and 'class="pager"' not in page


def test_no_open_cases_no_total(audrey):
    page = oversight(audrey)
    assert "Открытых дел нет." in page and 'id="oversight-total"' not in page


@pytest.mark.parametrize(
    ("cases", "said"),
    [
        (1, "Всего 1 открытое дело."),
        (2, "Всего 2 открытых дела."),
        (5, "Всего 5 открытых дел."),
    ],
)
def test_the_total_of_open_cases_agrees_with_its_number(alice, audrey, two_per_page, cases, said):
    file_complaints(alice, *range(cases))
    assert said in oversight(audrey, page=2)  # the whole list's total, on every page


def test_a_page_costs_the_same_queries_whatever_the_cases_on_it(two_candidates_tested, alice, audrey, monkeypatch):
    """The cases of a page are fetched together, whatever their procedure: one query a kind of case
    on the page, not one a row (nor a second one for the applicant of a decision)."""
    kinds = set(Deadline.objects.filter(completed_at__isnull=True).values_list("case_type", flat=True))
    assert len(kinds) >= 3  # applications, decisions, certificates, appeals
    client = client_for(audrey)
    client.get(reverse("frontend:oversight"))  # the caches of the first request of a session
    costs = {}
    for per_page in (1, 100):
        monkeypatch.setattr("frontend.views.oversight.OPEN_CASES_PER_PAGE", per_page)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("frontend:oversight")).content.decode()
        costs[per_page] = len(queries)
    assert len(rows(page)) == Deadline.objects.filter(completed_at__isnull=True).count() > 5
    assert costs[100] <= costs[1] + len(kinds) - 1, costs


@pytest.fixture
def two_candidates_tested(alice, oscar, victor, sergey, eva, olga):
    from tests.core.scenarios import two_candidates_tested

    tested = two_candidates_tested(alice=alice, oscar=oscar, victor=victor, sergey=sergey, eva=eva, olga=olga)
    appeals.appeal_file(candidate=oscar, attempt=tested["failed"], reasons="Доводы.")
    return tested
