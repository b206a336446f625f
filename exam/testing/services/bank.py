"""The question bank (exam administrator): questions with versions, retirement, the blueprint, and
import and export in JSON and XLSX with a row-by-row validation report (all rows or none)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import DomainError
from core.models import User
from core.roles import Role, require_role
from core.services import audit_record
from core.text import TextError, clean_text, for_export
from exam.models import BlueprintItem, PreparedTest, Question, QuestionVersion, Topic

MIN_OPTIONS, MAX_OPTIONS = 3, 6
FORMAT = "sout-question-bank/1"
XLSX_HEADER = [
    "code",
    "topic",
    "topic_title",
    "text",
    "option_1",
    "option_2",
    "option_3",
    "option_4",
    "option_5",
    "option_6",
    "correct",
    "retired",
    "practice",
]


def _require_admin(user: User) -> None:
    require_role(user, Role.EXAM_ADMIN, message=_("Банк вопросов ведёт администратор испытания."))


# --- Validation shared by the editor and the import ---------------------------------------------


@dataclass
class QuestionData:
    code: str
    topic: str
    text: str
    options: list[str]
    correct: list[int]  # 0-based
    topic_title: str = ""
    retired: bool | None = None  # None: not given, the question keeps its state
    practice: bool | None = None  # None: not given (an existing question keeps it, a new one is live)


_RETIRED_YES = ("1", "да", "yes", "true")
_RETIRED_NO = ("0", "нет", "no", "false")


def _flag_value(value: Any, *, name: str) -> tuple[bool | None, str | None]:
    """An explicit yes/no flag (true/false, 1/0, «да»/«нет»), or None when it is not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return value, None
    text = str(value).strip().lower()
    if text in _RETIRED_YES:
        return True, None
    if text in _RETIRED_NO:
        return False, None
    return None, _("признак «%(name)s» указывается как «да» или «нет»") % {"name": name}


def _bank_text(value: Any, *, what: str, problems: list[str], max_length: int, multiline: bool = False) -> str | None:
    """A text of the bank under the text rule of core.text (the editor and the import alike), or
    None when the rule refuses it (the problem, naming ``what``, is added to ``problems``)."""
    try:
        return clean_text(value, max_length=max_length, multiline=multiline)
    except TextError as exc:
        problems.append(_("%(what)s: %(problem)s") % {"what": what, "problem": exc.message})
        return None


def _topic_clean(code: Any, title: Any) -> tuple[str, str]:
    """A topic of an imported file (its code and title) under the text rule; a refused one makes
    the file invalid."""
    problems: list[str] = []
    clean_code = _bank_text(code, what=_("код темы"), problems=problems, max_length=20)
    clean_title = _bank_text(title, what=_("название темы"), problems=problems, max_length=300)
    if clean_code is None or clean_title is None:
        raise DomainError(
            _("Тема %(t)s: %(p)s") % {"t": for_export(str(code)), "p": "; ".join(problems)}, code="invalid_file"
        )
    return clean_code, clean_title


def _options(texts: list[str], problems: list[str]) -> list[str]:
    """The options in their order, without the empty cells after the last one; 3 to 6, distinct."""
    while texts and not texts[-1]:
        texts.pop()  # empty cells after the last option
    if "" in texts:
        # Dropping it would renumber the options after it and move the correct answer.
        problems.append(_("вариант ответа %(n)d пуст, а после него есть заполненные") % {"n": texts.index("") + 1})
    options = [t for t in texts if t]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        problems.append(
            ngettext(
                "указан %(n)d вариант ответа, а нужно от %(min)d до %(max)d",
                "указано %(n)d вариантов ответа, а нужно от %(min)d до %(max)d",
                len(options),
            )
            % {"n": len(options), "min": MIN_OPTIONS, "max": MAX_OPTIONS}
        )
    if len(set(options)) != len(options):
        problems.append(_("варианты ответа повторяются"))
    return options


def validate_question(raw: dict[str, Any]) -> tuple[QuestionData | None, list[str]]:
    """Check one question: code, topic, text, 3 to 6 distinct options, at least one correct option
    given by its number (1-based). Every text follows the text rule (core.text: no control
    characters, NFC, bounded). Returns the clean data or the list of problems, in Russian."""
    problems: list[str] = []
    code = _bank_text(raw.get("code"), what=_("код вопроса"), problems=problems, max_length=20)
    topic = _bank_text(raw.get("topic"), what=_("код темы"), problems=problems, max_length=20)
    text = _bank_text(raw.get("text"), what=_("текст вопроса"), problems=problems, max_length=4000, multiline=True)
    topic_title = _bank_text(raw.get("topic_title"), what=_("название темы"), problems=problems, max_length=300)
    if code == "":
        problems.append(_("не указан код вопроса"))
    if topic == "":
        problems.append(_("не указана тема"))
    if text == "":
        problems.append(_("нет текста вопроса"))
    options_raw = raw.get("options")
    options: list[str] = []
    if not isinstance(options_raw, list):
        problems.append(_("варианты ответа должны быть списком"))
    else:
        texts = [
            _bank_text(o, what=_("вариант ответа %(n)d") % {"n": n}, problems=problems, max_length=1000)
            for n, o in enumerate(options_raw, start=1)
        ]
        # A refused option is reported above; counting the options would only repeat it.
        options = _options([t or "" for t in texts], problems) if None not in texts else []
    correct_raw = raw.get("correct")
    correct: list[int] = []
    if isinstance(correct_raw, str):
        correct_raw = [p for p in correct_raw.replace(";", ",").split(",") if p.strip()]
    if isinstance(correct_raw, int) and not isinstance(correct_raw, bool):
        correct_raw = [correct_raw]
    if not isinstance(correct_raw, list) or not correct_raw:
        problems.append(_("не указаны правильные варианты"))
    else:
        try:
            numbers = sorted({int(str(c).strip()) for c in correct_raw})
        except ValueError:
            problems.append(_("правильные варианты указываются номерами, например «1» или «1,3»"))
        else:
            if any(n < 1 or n > len(options) for n in numbers):
                problems.append(_("номер правильного варианта вне списка вариантов"))
            elif len(numbers) == len(options):
                problems.append(_("все варианты отмечены правильными"))
            correct = [n - 1 for n in numbers]
    retired, retired_problem = _flag_value(raw.get("retired"), name="retired")
    if retired_problem:
        problems.append(retired_problem)
    practice, practice_problem = _flag_value(raw.get("practice"), name="practice")
    if practice_problem:
        problems.append(practice_problem)
    if problems:
        return None, problems
    return (
        QuestionData(
            code=code or "",
            topic=topic or "",
            text=text or "",
            options=options,
            correct=correct,
            topic_title=topic_title or "",
            retired=retired,
            practice=practice,
        ),
        [],
    )


# --- Editing -------------------------------------------------------------------------------------


def practice_change_problem(*, practice_only: bool, wanted: bool | None) -> str | None:
    """Why the practice flag of an existing question cannot become ``wanted`` (None: it can). The
    flag is fixed at creation: the practice quiz publishes the key of a practice question, so it may
    never enter the test, and a test question may never have its key published (p.55)."""
    if wanted is None or wanted == practice_only:
        return None
    if practice_only:
        return _(
            "вопрос тренировочный: его правильные ответы опубликованы в тренировочном тесте, поэтому "
            "включить его в испытание нельзя (для испытания создайте новый вопрос с другим кодом)"
        )
    return _(
        "вопрос входит в банк испытания: сделать его тренировочным нельзя, иначе будут опубликованы "
        "его правильные ответы (для тренировки создайте новый вопрос с другим кодом)"
    )


def text_key(text: str) -> str:
    """A question's text as a reader compares two of them: case and runs of spaces do not make
    another question."""
    return " ".join(text.casefold().split())


def bank_texts(*, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, list[tuple[str, bool]]]:
    """The current texts of the bank (retired questions too: they can be restored) by ``text_key``:
    the codes and practice flags of the questions with that text, but those of ``exclude``."""
    texts: dict[str, list[tuple[str, bool]]] = {}
    rows = Question.objects.exclude(code__in=exclude).exclude(current=None)
    for code, text, practice in rows.values_list("code", "current__text", "practice_only"):
        texts.setdefault(text_key(text), []).append((code, practice))
    return texts


def copy_problem(*, code: str, text: str, practice: bool, texts: dict[str, list[tuple[str, bool]]]) -> str | None:
    """Why question ``code`` may not have ``text`` (None: it may). The practice quiz publishes the
    key of a practice question (p.55 publishes the questions, not the answers), so a practice
    question with the text of a test question would publish that question's key; the same holds
    the other way round."""
    for other, other_practice in texts.get(text_key(text), []):
        if other == code or other_practice == practice:
            continue
        if practice:
            return _(
                "текст совпадает с текстом вопроса испытания %(other)s: тренировочный тест открыл бы "
                "его правильные ответы"
            ) % {"other": other}
        return _(
            "текст совпадает с текстом тренировочного вопроса %(other)s, правильные ответы которого "
            "открыты в тренировочном тесте"
        ) % {"other": other}
    return None


def _refuse_copy(*, code: str, text: str, practice: bool) -> None:
    problem = copy_problem(code=code, text=text, practice=practice, texts=bank_texts(exclude={code}))
    if problem:
        raise DomainError(
            _("Вопрос %(code)s: %(p)s.") % {"code": code, "p": problem},
            code="practice_copies_live",
            fields={"text": [problem]},
        )


def _new_version(question: Question, data: QuestionData, by: User | None) -> QuestionVersion:
    number = (question.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = QuestionVersion.objects.create(
        question=question, number=number, text=data.text, options=data.options, correct=data.correct, created_by=by
    )
    question.current = version
    question.save(update_fields=["current"])
    return version


def _edit_in_place(current: QuestionVersion | None, data: QuestionData) -> bool:
    """Change a version never shown in an attempt, if it still is not when the row is written.

    A test being built draws versions without locking them and marks them shown at the end of its
    transaction: the condition on ``shown`` is checked by the database, so a version marked shown
    since it was read is left alone (and the edit becomes a new version). The number of options
    must stay: a test that drew the version already stored an option order for that many."""
    if current is None or current.shown or len(current.options) != len(data.options):
        return False
    updated = QuestionVersion.objects.filter(pk=current.pk, shown=False).update(
        text=data.text, options=data.options, correct=data.correct
    )
    if updated:
        current.text, current.options, current.correct = data.text, data.options, data.correct
    return bool(updated)


def question_save(*, data: QuestionData, by: User | None, is_sample: bool = False) -> Question:
    """Create a question or change it. A version already shown in an attempt is never changed: the
    edit becomes the next version, and attempts keep the version they showed. A retired flag left
    out (None) keeps the question's state. The practice flag is set at creation and never changes
    (practice_change_problem)."""
    with transaction.atomic():
        topic = Topic.objects.filter(code=data.topic).first()
        if topic is None:
            if not data.topic_title:
                raise DomainError(
                    _("Тема %(t)s не найдена.") % {"t": data.topic}, fields={"topic": [_("Неизвестная тема.")]}
                )
            topic = Topic.objects.create(code=data.topic, title=data.topic_title, order=Topic.objects.count() + 1)
        question = Question.objects.select_for_update().filter(code=data.code).first()
        if question is None:
            _refuse_copy(code=data.code, text=data.text, practice=bool(data.practice))
            question = Question.objects.create(
                code=data.code, topic=topic, is_sample=is_sample, practice_only=bool(data.practice)
            )
            _new_version(question, data, by)
            audit_record(
                case=question,
                actor=by,
                verb="question_create",
                action="event",
                data={"practice": question.practice_only},
            )
        else:
            problem = practice_change_problem(practice_only=question.practice_only, wanted=data.practice)
            if problem:
                raise DomainError(
                    _("Вопрос %(code)s: %(p)s.") % {"code": question.code, "p": problem},
                    code="practice_flag_fixed",
                    fields={"practice": [problem]},
                )
            _refuse_copy(code=question.code, text=data.text, practice=question.practice_only)
            current = question.current
            unchanged = current is not None and (current.text, current.options, current.correct) == (
                data.text,
                data.options,
                data.correct,
            )
            if question.topic_id != topic.pk:
                question.topic = topic
                question.save(update_fields=["topic"])
            if not unchanged:
                if not _edit_in_place(current, data):
                    _new_version(question, data, by)
                audit_record(
                    case=question,
                    actor=by,
                    verb="question_edit",
                    action="event",
                    data={"version": question.current.number if question.current else None},
                )
        retired = question.retired_at is not None
        if data.retired is not None and data.retired != retired:
            question.retired_at = timezone.now() if data.retired else None
            question.save(update_fields=["retired_at"])
            audit_record(
                case=question, actor=by, verb="question_retire" if data.retired else "question_restore", action="event"
            )
    return question


def question_edit(*, raw: dict[str, Any], by: User) -> Question:
    _require_admin(by)
    data, problems = validate_question(raw)
    if data is None:
        raise DomainError(_("Проверьте вопрос: %(p)s.") % {"p": "; ".join(problems)}, code="invalid")
    return question_save(data=data, by=by)


def _blueprint_count(value: Any) -> int | None:
    """A count of questions: a whole number from 0 (an integer, or digits in a file), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def blueprint_problems(*, counts: dict[str, Any], available: dict[str, int]) -> dict[str, list[str]]:
    """What is wrong with a blueprint, by topic code (and "total"): an unknown topic, a count that
    is not a whole number from 0, more questions than the topic's active ones, or a total below the
    pass score (p.57), which nobody could reach. ``available`` has the active questions of each
    known topic."""
    errors: dict[str, list[str]] = {}
    total = 0
    for code, value in counts.items():
        if code not in available:
            errors[code] = [_("Неизвестная тема.")]
            continue
        count = _blueprint_count(value)
        if count is None:
            errors[code] = [_("Укажите целое неотрицательное число.")]
            continue
        if count > available[code]:
            errors[code] = [
                ngettext(
                    "В теме только %(n)d действующий вопрос.",
                    "В теме только %(n)d действующих вопросов.",
                    available[code],
                )
                % {"n": available[code]}
            ]
        total += count
    if not errors:
        if total == 0:
            errors["total"] = [_("В тесте должен быть хотя бы один вопрос.")]
        elif total < settings.EXAM_PASS_SCORE:
            need = settings.EXAM_PASS_SCORE
            errors["total"] = [
                _("%(questions)s, а для сдачи нужно не меньше %(answers)s: такой тест сдать невозможно.")
                % {
                    "questions": ngettext("В тесте %(n)d вопрос", "В тесте %(n)d вопросов", total) % {"n": total},
                    "answers": ngettext("%(n)d правильного ответа", "%(n)d правильных ответов", need) % {"n": need},
                }
            ]
    return errors


def blueprint_set(*, counts: dict[str, Any], by: User | None) -> None:
    """How many questions of each topic make up a test. Each count must fit the active questions of
    its topic that can be drawn (practice-only ones cannot), and the total must reach the pass score
    (p.57); zero removes the topic from the blueprint."""
    if by is not None:
        _require_admin(by)
    topics = {t.code: t for t in Topic.objects.all()}
    available = dict.fromkeys(topics, 0)
    active = Question.objects.filter(retired_at__isnull=True, practice_only=False).values_list("topic__code", flat=True)
    for code in active:
        available[code] += 1
    errors = blueprint_problems(counts=counts, available=available)
    if errors:
        raise DomainError(_("Проверьте состав теста."), fields=errors)
    clean = {code: _blueprint_count(value) or 0 for code, value in counts.items()}
    with transaction.atomic():
        BlueprintItem.objects.all().delete()
        BlueprintItem.objects.bulk_create(
            [BlueprintItem(topic=topics[code], count=count) for code, count in clean.items() if count]
        )
        PreparedTest.objects.all().delete()  # drawn by the old blueprint: drawn again
        if by is not None:  # configuration, not a case: recorded against the administrator
            audit_record(case=by, actor=by, verb="blueprint_set", action="event", data=clean)


# --- Import and export ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (row, code, problems)
    blueprint_errors: list[tuple[str, list[str]]] = field(default_factory=list)  # (topic or total, problems)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.blueprint_errors


def parse_json(content: bytes) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any] | None]:
    """Rows, topic titles and the blueprint from a JSON bank (format sout-question-bank/1)."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DomainError(
            _("Файл не является JSON в кодировке UTF-8: %(e)s") % {"e": exc}, code="invalid_file"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise DomainError(_("В файле нет списка вопросов (ключ «questions»)."), code="invalid_file")
    topics = {}
    for topic in data.get("topics") or []:
        if isinstance(topic, dict) and topic.get("code"):
            code, title = _topic_clean(topic["code"], topic.get("title"))
            topics[code] = title
    rows = [q if isinstance(q, dict) else {"_invalid": True} for q in data["questions"]]
    blueprint = data.get("blueprint")
    if blueprint is not None and not isinstance(blueprint, dict):
        raise DomainError(
            _("Состав теста (ключ «blueprint») должен сопоставлять коду темы число вопросов."), code="invalid_file"
        )
    return rows, topics, blueprint


def parse_xlsx(content: bytes) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any] | None]:
    """Rows from the first sheet of an XLSX workbook with the columns of ``XLSX_HEADER``."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise DomainError(_("Файл не является книгой Excel (XLSX)."), code="invalid_file") from None
    sheet = workbook.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip().lower() for h in next(rows_iter, [])]
    missing = [h for h in ("code", "topic", "text", "option_1", "option_2", "option_3", "correct") if h not in header]
    if missing:
        raise DomainError(
            _("В первой строке нет столбцов: %(cols)s.") % {"cols": ", ".join(missing)}, code="invalid_file"
        )
    rows = []
    topics: dict[str, str] = {}
    for values in rows_iter:
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        record = dict(zip(header, values, strict=False))
        options = [record.get(f"option_{i}") for i in range(1, MAX_OPTIONS + 1)]
        correct = record.get("correct")
        rows.append(
            {
                "code": record.get("code"),
                "topic": record.get("topic"),
                "topic_title": record.get("topic_title") or "",
                "text": record.get("text"),
                "options": options,  # empty cells as they are: validate_question judges them
                "correct": str(correct) if correct is not None else "",
            }
        )
        if "retired" in header:  # without the column the questions keep their state
            rows[-1]["retired"] = record.get("retired")
        if "practice" in header:  # without it (older files) existing questions keep the flag, new ones are live
            rows[-1]["practice"] = record.get("practice")
        if record.get("topic") and record.get("topic_title"):
            code, title = _topic_clean(record["topic"], record["topic_title"])
            topics[code] = title
    return rows, topics, None


def _active_after_import(clean: list[QuestionData], topics: set[str]) -> dict[str, int]:
    """The active questions of each topic that a test can draw once ``clean`` is imported (for
    checking a blueprint): practice-only questions do not count."""
    state = {
        code: (topic, retired_at is not None, practice)
        for code, topic, retired_at, practice in Question.objects.values_list(
            "code", "topic__code", "retired_at", "practice_only"
        )
    }
    for data in clean:
        # An existing question keeps its practice flag (the import refuses a change of it).
        _old_topic, was_retired, practice = state.get(data.code, ("", False, bool(data.practice)))
        state[data.code] = (data.topic, was_retired if data.retired is None else data.retired, practice)
    available = dict.fromkeys(topics, 0)
    for topic, retired, practice in state.values():
        if not retired and not practice:
            available[topic] = available.get(topic, 0) + 1
    return available


def _texts_after_import(
    given: list[QuestionData], practice_flags: dict[str, bool]
) -> dict[str, list[tuple[str, bool]]]:
    """The texts of the bank as it would be after importing the ``given`` rows (see
    ``bank_texts``): a row replaces the text of its question, and an existing question keeps its
    practice flag."""
    texts = bank_texts(exclude={data.code for data in given})
    for data in given:
        practice = practice_flags.get(data.code, bool(data.practice))
        texts.setdefault(text_key(data.text), []).append((data.code, practice))
    return texts


def bank_import(
    *,
    rows: list[dict[str, Any]],
    topics: dict[str, str],
    blueprint: dict[str, Any] | None,
    by: User | None,
    sample: bool = False,
) -> ImportReport:
    """Validate every row and the blueprint, and import all of them only if nothing is wrong (the
    report lists each problem with its row number, and the blueprint's by topic, checked against
    the bank as it would be after the import). Existing questions are updated (a new version if the
    old one was shown) and keep their practice flag (a row that changes it is wrong); new topics
    need a title."""
    if by is not None:
        _require_admin(by)
    report = ImportReport(rows=len(rows))
    known_topics = set(Topic.objects.values_list("code", flat=True)) | {c for c, t in topics.items() if t}
    practice_flags = dict(Question.objects.values_list("code", "practice_only"))
    validated = [(raw, *validate_question(raw)) for raw in rows if not raw.get("_invalid")]
    texts = _texts_after_import([data for _raw, data, _p in validated if data], practice_flags)
    results = iter(validated)
    seen: set[str] = set()
    clean: list[QuestionData] = []
    for index, raw in enumerate(rows, start=1):
        if raw.get("_invalid"):
            report.errors.append((index, "", [_("строка не является объектом")]))
            continue
        _raw, data, problems = next(results)
        code = for_export(str(raw.get("code") or ""))[:20]  # shown in the report as it was given
        if data is not None:
            if data.code in seen:
                problems.append(_("код повторяется в файле"))
            if data.topic not in known_topics and not data.topic_title:
                problems.append(_("тема %(t)s не найдена и не описана") % {"t": data.topic})
            if data.code in practice_flags:
                flag_problem = practice_change_problem(practice_only=practice_flags[data.code], wanted=data.practice)
                if flag_problem:
                    problems.append(flag_problem)
            practice = practice_flags.get(data.code, bool(data.practice))
            copied = copy_problem(code=data.code, text=data.text, practice=practice, texts=texts)
            if copied:
                problems.append(copied)
            seen.add(data.code)
        if problems:
            report.errors.append((index, code, problems))
        elif data is not None:
            data.topic_title = data.topic_title or topics.get(data.topic, "")
            clean.append(data)
    if blueprint:
        problems_by_topic = blueprint_problems(
            counts={str(k): v for k, v in blueprint.items()},
            available=_active_after_import(clean, known_topics | {d.topic for d in clean}),
        )
        report.blueprint_errors = [
            (_("всего") if code == "total" else code, problems) for code, problems in problems_by_topic.items()
        ]
    if not report.ok:
        return report
    existing = set(Question.objects.filter(code__in=seen).values_list("code", flat=True))
    with transaction.atomic():
        for code, title in topics.items():
            if title:
                Topic.objects.update_or_create(code=code, defaults={"title": title})
        for order, topic in enumerate(Topic.objects.order_by("code"), start=1):
            if topic.order != order:
                Topic.objects.filter(pk=topic.pk).update(order=order)
        for data in clean:
            question_save(data=data, by=by, is_sample=sample)
        if blueprint:
            blueprint_set(counts={str(k): v for k, v in blueprint.items()}, by=None)
    report.created = len(seen - existing)
    report.updated = len(seen & existing)
    return report


def _export_rows() -> list[dict[str, Any]]:
    rows = []
    for question in Question.objects.select_related("topic", "current").order_by("topic__order", "code"):
        version = question.current
        if version is None:
            continue
        rows.append(
            {
                "code": question.code,
                "topic": question.topic.code,
                "text": version.text,
                "options": version.options,
                "correct": [i + 1 for i in version.correct],
                "retired": question.retired_at is not None,
                "practice": question.practice_only,
            }
        )
    return rows


def bank_export_json() -> bytes:
    data = {
        "format": FORMAT,
        "sample": Question.objects.filter(is_sample=True).exists(),
        "topics": [{"code": t.code, "title": t.title} for t in Topic.objects.all()],
        "blueprint": {b.topic.code: b.count for b in BlueprintItem.objects.select_related("topic")},
        "questions": _export_rows(),
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _as_text(cells: Any) -> None:
    """Keep every text cell a string: a question or an option starting with «=» (or «+», «-», «@»)
    would otherwise open in Excel or LibreOffice as a formula and run there."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def bank_export_xlsx() -> bytes:
    from openpyxl import Workbook

    titles = dict(Topic.objects.values_list("code", "title"))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "questions"
    sheet.append(XLSX_HEADER)
    for row in _export_rows():
        options = row["options"] + [None] * (MAX_OPTIONS - len(row["options"]))
        # Text stored before the text rule may hold control characters, which XML cannot.
        sheet.append(
            [
                for_export(value)
                for value in (
                    row["code"],
                    row["topic"],
                    titles.get(row["topic"], ""),
                    row["text"],
                    *options,
                    ",".join(str(c) for c in row["correct"]),
                    "да" if row["retired"] else "нет",  # explicit: an empty cell leaves the state as it is
                    "да" if row["practice"] else "нет",
                )
            ]
        )
        _as_text(sheet[sheet.max_row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
