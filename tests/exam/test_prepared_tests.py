"""Individual tests drawn ahead of the sitting: the start of a sitting, its peak, only stores the
clock; a test drawn by a bank or a blueprint that changed since is drawn again."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from exam.models import Attempt, PreparedTest, Question
from exam.testing.services import attempts as service
from exam.testing.services.bank import blueprint_set
from tests.conftest import make_bank


def start(credential):
    return service.attempt_start(credential=credential, session_key="k", personally=True)


def shown_test(attempt):
    return [[i.version_id, i.option_order] for i in attempt.items.order_by("position")]


def test_the_start_takes_the_prepared_test_as_drawn(exam_setup):
    credential = exam_setup["credential"]
    assert service.tests_prepare(sitting=exam_setup["sitting"]) == 1
    prepared = PreparedTest.objects.get(credential=credential).items
    assert len(prepared) == 40

    attempt = start(credential)

    assert shown_test(attempt) == prepared
    assert attempt.question_count == 40
    assert not PreparedTest.objects.exists()  # used once


def test_preparing_twice_keeps_the_first_draw_and_skips_who_started(exam_setup):
    credential, sitting = exam_setup["credential"], exam_setup["sitting"]
    service.tests_prepare(sitting=sitting)
    first = PreparedTest.objects.get(credential=credential).items
    assert service.tests_prepare(sitting=sitting) == 0
    assert PreparedTest.objects.get(credential=credential).items == first
    start(credential)
    assert service.tests_prepare(sitting=sitting) == 0  # an attempt exists: nothing to prepare
    assert not PreparedTest.objects.exists()


def test_a_question_retired_after_the_draw_is_not_shown(exam_setup):
    credential = exam_setup["credential"]
    service.tests_prepare(sitting=exam_setup["sitting"])
    prepared = PreparedTest.objects.get(credential=credential).items
    retired = Question.objects.get(current_id=prepared[0][0])
    spare = Question.objects.filter(topic=retired.topic).exclude(
        current_id__in=[version_id for version_id, _order in prepared]
    )
    assert spare.exists()  # the topic can still give its count
    Question.objects.filter(pk=retired.pk).update(retired_at=timezone.now())

    attempt = start(credential)

    versions = [version_id for version_id, _order in shown_test(attempt)]
    assert len(versions) == 40 and retired.current_id not in versions
    assert not PreparedTest.objects.exists()


def test_a_tampered_option_order_is_not_shown(exam_setup):
    credential = exam_setup["credential"]
    service.tests_prepare(sitting=exam_setup["sitting"])
    row = PreparedTest.objects.get(credential=credential)
    row.items[0][1] = [0, 0, 0]
    row.save()

    attempt = start(credential)

    assert all(sorted(order) == list(range(len(order))) for _v, order in shown_test(attempt))
    assert shown_test(attempt) != row.items


def test_a_new_blueprint_discards_the_prepared_tests(exam_setup):
    service.tests_prepare(sitting=exam_setup["sitting"])
    blueprint_set(counts={"T1": 25, "T2": 15}, by=None)
    assert not PreparedTest.objects.exists()

    attempt = start(exam_setup["credential"])

    topics = [i.version.question.topic.code for i in attempt.items.select_related("version__question__topic")]
    assert topics.count("T1") == 25 and topics.count("T2") == 15


@pytest.mark.parametrize(
    ("starts_in", "prepared"),
    [(timedelta(hours=2), 1), (timedelta(days=3), 0), (-timedelta(hours=5), 0)],
    ids=["soon", "far ahead", "window closed"],
)
def test_the_task_prepares_the_sittings_about_to_start(exam_setup, settings, starts_in, prepared):
    settings.EXAM_PREPARE_AHEAD = timedelta(hours=24)
    sitting = exam_setup["sitting"]
    sitting.starts_at = timezone.now() + starts_in
    sitting.save()

    assert service.tests_prepare_due() == prepared
    assert PreparedTest.objects.count() == prepared


def test_a_candidate_no_longer_admitted_gets_no_test(exam_setup):
    from exam.models import Application

    credential = exam_setup["credential"]
    Application.objects.filter(pk=credential.application_id).update(status=Application.Status.REFUSED)
    assert service.tests_prepare(sitting=exam_setup["sitting"]) == 0
    assert not Attempt.objects.exists()


def test_an_edit_after_the_draw_makes_a_new_version_and_the_start_shows_it(exam_setup):
    from exam.models import QuestionVersion
    from exam.testing.services.bank import QuestionData, question_save

    credential = exam_setup["credential"]
    service.tests_prepare(sitting=exam_setup["sitting"])
    prepared = PreparedTest.objects.get(credential=credential).items
    version = QuestionVersion.objects.select_related("question__topic").get(pk=prepared[0][0])
    assert version.shown  # the test is built: an edit no longer changes this version in place
    question = version.question
    question_save(
        data=QuestionData(
            code=question.code,
            topic=question.topic.code,
            text="Новая формулировка?",
            options=["а", "б", "в"],
            correct=[0],
        ),
        by=None,
    )
    version.refresh_from_db()
    assert version.text != "Новая формулировка?"

    attempt = start(credential)

    texts = [i.version.text for i in attempt.items.select_related("version")]
    assert version.text not in texts  # the old wording is not shown


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement of PostgreSQL")
def test_checking_a_prepared_test_reads_its_own_questions_not_the_whole_bank(exam_setup):
    """The start checks that the prepared test's versions may still be drawn: it looks up those 40
    versions and their questions, whatever the size of the bank (the statement had scanned every
    question and probed the 40 ids for each: thousands of index probes per start)."""
    service.tests_prepare(sitting=exam_setup["sitting"])
    ids = [version_id for version_id, _order in PreparedTest.objects.get(credential=exam_setup["credential"]).items]
    make_bank(topics=1, per_topic=250)  # a bank several times the test's size, just loaded (no statistics yet)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + service._DRAWABLE_SQL, [ids])
        (plan,) = cursor.fetchone()
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    assert plan["Actual Rows"] == len(ids)
    # A few pages for each of the 40 versions and their questions, not some for each of the bank's:
    # 125 on a fresh database, 201 seen in CI's run of the whole suite (the dead rows that the tests'
    # rolled-back transactions leave in the tables); the scan of the whole bank read 545.
    assert plan["Shared Hit Blocks"] + plan["Shared Read Blocks"] <= 10 * len(ids)
