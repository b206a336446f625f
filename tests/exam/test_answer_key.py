"""The answer key of the questions a test can draw is never obtainable by the public or the
candidate: practice has a set of its own, never drawn into a test, and the flag is fixed at creation."""

import json
import re
from io import BytesIO

import pytest
from django.urls import reverse

from core.errors import DomainError
from exam.models import BlueprintItem, Question
from exam.services import bank
from exam.services.attempts import draw_versions
from tests.conftest import client_for, make_bank


def import_json(questions, topics=None, blueprint=None):
    content = json.dumps(
        {
            "format": "sout-question-bank/1",
            "topics": topics or [{"code": "T1", "title": "Тема 1"}],
            "questions": questions,
            **({"blueprint": blueprint} if blueprint else {}),
        },
        ensure_ascii=False,
    ).encode()
    rows, topics_, blueprint_ = bank.parse_json(content)
    return bank.bank_import(rows=rows, topics=topics_, blueprint=blueprint_, by=None)


def row(code, **extra):
    return {"code": code, "topic": "T1", "text": f"Вопрос {code}?", "options": ["а", "б", "в"], "correct": [2], **extra}


# --- The draw and the blueprint ------------------------------------------------------------------


def test_draw_never_takes_a_practice_only_question(db, settings):
    live = make_bank(topics=1, per_topic=10)
    make_bank(topics=1, per_topic=30, practice=True)
    settings.EXAM_QUESTION_COUNT = 10
    live_versions = {q.current_id for q in live}
    for _round in range(20):
        assert {d.version_id for d in draw_versions()} == live_versions
    settings.EXAM_QUESTION_COUNT = 11  # ten live ones are not enough, however many practice ones there are
    with pytest.raises(DomainError) as err:
        draw_versions()
    assert err.value.code == "bank_too_small"


def test_a_blueprint_counts_only_the_questions_a_test_can_draw(db, settings):
    settings.EXAM_PASS_SCORE = 5
    make_bank(topics=1, per_topic=6)
    make_bank(topics=1, per_topic=20, practice=True)
    with pytest.raises(DomainError) as err:
        bank.blueprint_set(counts={"T1": 7}, by=None)
    assert err.value.fields["T1"] == ["В теме только 6 действующих вопросов."]
    report = import_json([row(f"N{n}", practice=True) for n in range(5)], blueprint={"T1": 7})
    assert report.blueprint_errors == [("T1", ["В теме только 6 действующих вопросов."])]
    bank.blueprint_set(counts={"T1": 6}, by=None)
    assert BlueprintItem.objects.get().count == 6


def test_the_bank_page_counts_live_questions_for_the_blueprint_and_marks_practice_ones(eva):
    make_bank(topics=1, per_topic=3)
    make_bank(topics=1, per_topic=4, practice=True)
    page = client_for(eva).get(reverse("frontend:bank")).content.decode()
    assert 'max="3" name="count_T1"' in page
    assert page.count("data-practice>") == 4


# --- The flag is fixed at creation: import, editor, export -------------------------------------------


@pytest.mark.parametrize(
    ("created_practice", "wanted", "problem"),
    [
        (False, True, "сделать его тренировочным нельзя"),
        (True, False, "включить его в испытание нельзя"),
    ],
)
def test_import_refuses_to_flip_the_practice_flag_row_by_row(db, created_practice, wanted, problem):
    assert import_json([row("A1", practice=created_practice)]).ok
    report = import_json([row("A2"), row("A1", practice=wanted, text="Новая формулировка?")])
    assert [(r, code) for r, code, _p in report.errors] == [(2, "A1")]
    assert problem in "; ".join(report.errors[0][2])
    question = Question.objects.get(code="A1")
    assert question.practice_only is created_practice and question.current.text == "Вопрос A1?"
    assert not Question.objects.filter(code="A2").exists()  # nothing is imported


def test_an_xlsx_row_that_flips_the_flag_is_refused_and_an_old_file_keeps_it(db):
    from openpyxl import Workbook

    assert import_json([row("A1", practice=True)]).ok

    def xlsx(header, values):
        workbook = Workbook()
        workbook.active.append(header)
        workbook.active.append(values)
        buffer = BytesIO()
        workbook.save(buffer)
        rows, topics, blueprint = bank.parse_xlsx(buffer.getvalue())
        return bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)

    values = ["A1", "T1", "Тема 1", "Другой текст?", "а", "б", "в", None, None, None, "1", "нет"]
    report = xlsx(bank.XLSX_HEADER, [*values, "нет"])
    assert report.errors and "включить его в испытание нельзя" in "; ".join(report.errors[0][2])
    old_header = bank.XLSX_HEADER[:-1]  # a file of before the practice column
    assert xlsx(old_header, values).ok
    question = Question.objects.get(code="A1")
    assert question.practice_only and question.current.text == "Другой текст?"


def test_an_old_json_file_without_the_practice_field_imports_live_questions(db):
    assert import_json([row("A1")]).ok
    assert Question.objects.get(code="A1").practice_only is False
    assert import_json([row("B1", practice="да")]).ok
    assert import_json([row("B1", text="Уточнённая формулировка?")]).ok  # no field: the flag stays
    assert Question.objects.get(code="B1").practice_only is True
    report = import_json([row("C1", practice="может быть")])
    assert "признак «practice» указывается как «да» или «нет»" in "; ".join(report.errors[0][2])


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_export_and_import_round_trip_keeps_the_practice_flag(db, fmt):
    make_bank(topics=1, per_topic=3)
    make_bank(topics=1, per_topic=2, practice=True)
    exported = bank.bank_export_json() if fmt == "json" else bank.bank_export_xlsx()
    if fmt == "json":
        assert {q["code"]: q["practice"] for q in json.loads(exported)["questions"]} == {
            "Q0001": False,
            "Q0002": False,
            "Q0003": False,
            "P0001": True,
            "P0002": True,
        }
    Question.objects.update(current=None)
    from exam.models import QuestionVersion

    QuestionVersion.objects.all().delete()
    Question.objects.all().delete()
    rows, topics, blueprint = (bank.parse_json if fmt == "json" else bank.parse_xlsx)(exported)
    assert bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None).ok
    assert dict(Question.objects.values_list("code", "practice_only")) == {
        "Q0001": False,
        "Q0002": False,
        "Q0003": False,
        "P0001": True,
        "P0002": True,
    }


def test_the_editor_creates_a_practice_question_and_refuses_to_flip_the_flag(eva):
    client = client_for(eva)
    data = {
        "code": "E1",
        "topic": "T1",
        "text": "Тренировочный вопрос?",
        "option_1": "а",
        "option_2": "б",
        "option_3": "в",
        "correct": ["2"],
        "practice": "on",
    }
    make_bank(topics=1, per_topic=1)  # the topic T1
    client.post(reverse("frontend:bank_question_new"), data)
    question = Question.objects.get(code="E1")
    assert question.practice_only
    page = client.get(reverse("frontend:bank_question", args=[question.pk])).content.decode()
    assert re.search(r"<input[^>]*name=\"practice\"[^>]*checked", page)
    unticked = {k: v for k, v in data.items() if k != "practice"}
    page = client.post(reverse("frontend:bank_question", args=[question.pk]), unticked).content.decode()
    assert "включить его в испытание нельзя" in page
    live = Question.objects.get(code="Q0001")
    page = client.post(
        reverse("frontend:bank_question", args=[live.pk]), dict(data, code="Q0001", text="Вопрос номер 1?")
    ).content.decode()
    assert "сделать его тренировочным нельзя" in page
    assert dict(Question.objects.values_list("code", "practice_only")) == {"Q0001": False, "E1": True}
