"""The answer key of the questions a test can draw is never obtainable by the public or the
candidate: practice has a set of its own, the flag is fixed at creation, the result is the score.
(The journey of a candidate under two keys is in test_answer_key_noninterference.py.)"""

import json
import random
import re
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse

from core.errors import DomainError
from exam.models import BlueprintItem, Question
from exam.testing import selectors as testing_selectors
from exam.testing.services import bank
from exam.testing.services.attempts import draw_versions
from tests.conftest import bank_question, client_for, make_bank, pass_the_test


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


# --- A practice question never copies a test question -------------------------------------------------


def test_the_editor_refuses_a_practice_question_that_copies_a_test_question(eva):
    make_bank(topics=1, per_topic=2)  # Q0001 «Вопрос номер 1?» is a test question
    data = {
        "code": "E1",
        "topic": "T1",
        "text": "  вопрос   НОМЕР 1? ",
        "option_1": "а",
        "option_2": "б",
        "option_3": "в",
        "correct": ["2"],
        "practice": "on",
    }
    page = client_for(eva).post(reverse("frontend:bank_question_new"), data).content.decode()
    assert "текст совпадает с текстом вопроса испытания Q0001" in page
    assert not Question.objects.filter(code="E1").exists()
    # Another text is fine, and changing it later to the test question's text is refused as well.
    client_for(eva).post(reverse("frontend:bank_question_new"), dict(data, text="Свой тренировочный вопрос?"))
    with pytest.raises(DomainError) as err:
        bank_question("E1", topic=1, text="Вопрос номер 2?", options=["а", "б", "в"], correct=[1], practice=True)
    assert "Q0002" in err.value.message and "text" in err.value.fields
    assert Question.objects.get(code="E1").current.text == "Свой тренировочный вопрос?"


def test_a_test_question_may_not_take_the_text_of_a_practice_question_either(db):
    make_bank(topics=1, per_topic=1, practice=True)  # P0001 «Тренировочный вопрос номер 1?»
    with pytest.raises(DomainError) as err:
        bank_question("L1", topic=1, text="Тренировочный вопрос номер 1?", options=["а", "б", "в"], correct=[0])
    assert "тренировочного вопроса P0001" in err.value.message
    assert not Question.objects.filter(code="L1").exists()


def test_import_refuses_a_practice_row_that_copies_a_test_question_of_the_bank_or_of_the_file(db):
    assert import_json([row("A1"), row("A2")]).ok
    report = import_json(
        [
            row("P1", practice=True, text="ВОПРОС  A1?"),  # a test question of the bank
            row("P2", practice=True, text="Новый вопрос?"),
            row("A3", text="новый вопрос?"),  # a test question of the same file
            row("P3", practice=True, text="Свой вопрос?"),
        ]
    )
    problems = {code: "; ".join(p) for _row, code, p in report.errors}
    assert set(problems) == {"P1", "P2", "A3"}
    assert "вопроса испытания A1" in problems["P1"] and "вопроса испытания A3" in problems["P2"]
    assert "тренировочного вопроса P2" in problems["A3"]
    assert set(Question.objects.values_list("code", flat=True)) == {"A1", "A2"}  # nothing is imported
    # A row that gives a test question a new text frees its old one.
    assert import_json([row("A1", text="Переформулированный вопрос?"), row("P1", practice=True, text="Вопрос A1?")]).ok


# --- The public list and practice -----------------------------------------------------------------


def test_the_sample_bank_has_a_practice_set_of_three_per_topic_and_keeps_the_live_bank(db):
    from django.core.management import call_command

    call_command("load_sample_bank")
    live = Question.objects.filter(practice_only=False)
    practice = Question.objects.filter(practice_only=True)
    assert live.count() == 152 and practice.count() >= 24
    per_topic = {code: practice.filter(topic__code=code).count() for code in live.values_list("topic__code", flat=True)}
    assert len(per_topic) == 8 and min(per_topic.values()) >= 3
    assert {b.topic.code: b.count for b in BlueprintItem.objects.select_related("topic")} == {
        f"T0{n}": 5 for n in range(1, 9)
    }
    live_texts = set(live.values_list("current__text", flat=True))
    versions = [q.current for q in practice.select_related("current")]
    assert not live_texts & {v.text for v in versions}
    assert all(3 <= len(v.options) <= 6 and len(v.correct) < len(v.options) for v in versions)
    assert any(len(v.correct) > 1 for v in versions)
    # The key is not given away by position or by length.
    assert len({v.correct[0] for v in versions}) >= 3
    longest = sum(any(len(v.options[i]) == max(map(len, v.options)) for i in v.correct) for v in versions)
    assert longest <= len(versions) // 2


def test_the_public_list_shows_the_live_bank_without_the_practice_set(db):
    make_bank(topics=1, per_topic=2)
    make_bank(topics=1, per_topic=2, practice=True)
    page = Client().get(reverse("frontend:public_questions")).content.decode()
    assert "Вопрос номер 1?" in page and "Вопрос номер 2?" in page and "Всего вопросов: 2." in page
    assert "Тренировочный вопрос" not in page and "✓" not in page


def test_the_practice_result_shows_the_key_of_practice_questions_only(db):
    live = make_bank(topics=1, per_topic=3)
    practice = make_bank(topics=1, per_topic=3, practice=True)
    version = practice[0].current
    forged = live[0].current
    response = Client().post(
        reverse("frontend:practice"),
        {"q": [version.pk, forged.pk], f"a{version.pk}": [str(version.correct[0])], f"a{forged.pk}": ["1"]},
    )
    page = response.content.decode()
    assert version.text in page and "правильный ответ" in page and "data-practice-score>1<" in page
    assert forged.text not in page and "Вариант" not in page.replace("Тренировочный вариант", "")
    assert "Часть вопросов не проверена" in page


LIVE_MARK = "ЖИВОЙ"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _normalised(response):
    return response.status_code, TOKEN.sub("", response.content.decode())


def test_an_anonymous_harvest_of_500_practice_rounds_learns_no_correct_option_of_the_live_bank(db, settings):
    """Whatever an anonymous client sends to the practice quiz, 500 times over, no question of the
    live bank appears, and no answer to a forged form tells a right option of a live question from
    a wrong one."""
    settings.PRACTICE_QUESTION_COUNT = 5
    live = [
        bank_question(
            f"L{n}",
            topic=1,
            text=f"{LIVE_MARK} вопрос {n}?",
            options=[f"{LIVE_MARK} вариант {k} вопроса {n}" for k in range(4)],
            correct=[n % 4] if n % 3 else [n % 4, (n + 1) % 4],
        ).current
        for n in range(1, 7)
    ]
    practice_ids = {q.current_id for q in make_bank(topics=1, per_topic=12, practice=True)}
    live_ids = [v.pk for v in live]
    rng = random.Random(9)
    client = Client()
    url = reverse("frontend:practice")
    for round_ in range(500):
        page = client.get(url).content.decode()
        assert LIVE_MARK not in page
        shown = [int(v) for v in re.findall(r'name="q" value="(\d+)"', page)]
        assert shown and set(shown) <= practice_ids
        forged = live_ids[round_ % len(live_ids)]
        data = {"q": [*shown, forged], f"a{forged}": [str(rng.randrange(4))]}
        data.update({f"a{pk}": [str(rng.randrange(4))] for pk in shown})
        result = client.post(url, data).content.decode()
        assert LIVE_MARK not in result and "не проверена" in result
        assert result.count('<section class="card">') == len(shown)
    # Every possible answer to a forged form naming a live version gets the same page.
    for version in live:
        answers = [[], *([i] for i in range(4)), version.correct, [0, 1, 2, 3]]
        pages = {
            _normalised(client.post(url, {"q": [version.pk], f"a{version.pk}": [str(i) for i in answer]}))
            for answer in answers
        }
        assert len(pages) == 1
        ((status, body),) = pages
        assert status == 200 and LIVE_MARK not in body and "data-practice-score>0<" in body


# --- After the test: the score, not the key ---------------------------------------------------------


def test_the_result_schema_promises_no_per_question_outcome():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    result = schema["components"]["schemas"]["AttemptResult"]
    assert set(result["properties"]) == {
        "attempt",
        "status",
        "score",
        "question_count",
        "pass_score",
        "passed",
        "finished_at",
        "finish_reason",
    }
    response = schema["paths"]["/api/v1/exam/attempt/submit/"]["post"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/AttemptResult")


def test_the_result_says_the_score_and_pass_or_fail_only(exam_setup):
    attempt = pass_the_test(exam_setup["credential"], correct=37)
    result = testing_selectors.attempt_result(attempt)
    assert result["score"] == 37 and result["passed"] is True
    assert not {"outcomes", "items", "correct"} & set(result)


def test_an_upheld_appeal_tells_the_candidate_how_many_questions_were_reviewed_not_which(
    exam_setup, alice, sergey, commission
):
    from django.test import TestCase

    from appeals import services as appeals
    from registry.services import attestation_decision_draft, attestation_decision_sign

    attempt = pass_the_test(exam_setup["credential"], correct=34)
    attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    appeal = appeals.appeal_file(candidate=alice, attempt=attempt, reasons="Вопросы 38 и 39 неоднозначны.")
    chair = commission[0]
    appeals.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals.appeal_vote(appeal=appeal, member=member, outcome="uphold", rescore=[38, 39], void=[40])
    with TestCase.captureOnCommitCallbacks(execute=True):
        appeals.appeal_decide(appeal=appeal, by=chair, reasons="Формулировки неоднозначны.")
    page = client_for(alice).get(reverse("frontend:cabinet_appeal", args=[appeal.pk])).content.decode()
    assert "Засчитано комиссией вопросов: 2" in page and "Аннулировано вопросов: 1" in page
    assert "34 → 37" in page
    assert not re.search(r"\b(38|39|40)\b", page.split("data-review>")[1].split("</dd>")[0])
