"""The text rule (core.text): what is refused, what is normalised, and that every form and service
of the product follows it (the forms here, the pages and the API in test_text_inputs.py)."""

import inspect
import re
import unicodedata

import pytest
from django import forms
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from core.text import TextError, clean_text, for_export, one_line, text_argument, unstorable

RUSSIAN = re.compile("[А-Яа-яЁё]")

# What people paste by accident or on purpose: C0 and C1 controls, ESC sequences of a terminal,
# a direction override, non-characters, line breaks of every kind, lone surrogates.
CONTROLS = [
    "\x00",
    "\x07",
    "\x08",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x7f",
    "\x85",
    "\x9b",
    "\u202e",
    "\u2066",
    "\ufffe",
    "\U0010ffff",
    "\r",
    "\n",
    "\t",
    "\v",
    "\u2028",
]
SURROGATES = ["\ud800", "\udfff", "\udc00"]
WORDS = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЙ -'.", max_size=20)
NASTY_WITHOUT_SURROGATES = st.one_of(
    st.builds(lambda a, c, b: a + c + b, WORDS, st.sampled_from(CONTROLS), WORDS),
    st.builds(lambda s: unicodedata.normalize("NFD", s), WORDS),  # «й» and «ё» as two code points
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn", "L", "Co"]), max_size=30),
    st.builds(lambda n: "я" * n, st.integers(5001, 6000)),
    st.builds(lambda s: f"  \u00a0{s}\t ", WORDS),
)
NASTY = st.one_of(
    NASTY_WITHOUT_SURROGATES,
    st.builds(lambda a, c, b: a + c + b, WORDS, st.sampled_from(SURROGATES), WORDS),
    st.text(st.characters(categories=["Cs", "L", "Cc"]), max_size=20),
)


def assert_clean(text: str, *, max_length: int, multiline: bool) -> None:
    """What the rule promises of any text it lets through."""
    assert unicodedata.is_normalized("NFC", text)
    assert text == text.strip()
    assert len(text) <= max_length
    allowed = "\n\t" if multiline else ""
    assert all(unicodedata.category(c) not in ("Cc", "Cs") or c in allowed for c in text), repr(text)
    assert not set(text) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe\uffff\r\u2028\u2029")


# --- The pure rule -----------------------------------------------------------------------------------


def test_text_is_normalised_to_nfc_and_stripped():
    assert clean_text("  Семёнов\u00a0 ", max_length=100) == "Семёнов"
    nfd = unicodedata.normalize("NFD", "Йошкар-Ола, Семёнов")
    assert len(nfd) > len("Йошкар-Ола, Семёнов")
    assert clean_text(nfd, max_length=100) == "Йошкар-Ола, Семёнов"


def test_multiline_text_keeps_line_breaks_and_tabs_as_newlines():
    assert clean_text("Первая\r\nвторая\rтретья\u2028четвёртая\tи таб", max_length=100, multiline=True) == (
        "Первая\nвторая\nтретья\nчетвёртая\tи таб"
    )


@pytest.mark.parametrize("char", ["\n", "\r\n", "\t", "\u2028", "\u2029"])
def test_single_line_text_refuses_line_breaks_and_tabs(char):
    with pytest.raises(TextError) as err:
        clean_text(f"Иванов{char}Пётр", max_length=100)
    assert err.value.code == "line_break" and "одной строкой" in err.value.message


@pytest.mark.parametrize(
    ("char", "named"),
    [
        ("\x00", "управляющий символ"),
        ("\x07", "управляющий символ"),
        ("\x1b", "управляющий символ"),
        ("\x7f", "управляющий символ"),
        ("\x85", "управляющий символ"),
        ("\x9b", "управляющий символ"),
        ("\u202e", "символ смены направления текста"),
        ("\u2067", "символ смены направления текста"),
        ("\ufffe", "недопустимый символ"),
    ],
)
@pytest.mark.parametrize("multiline", [False, True])
def test_control_characters_are_refused_in_plain_words_with_their_position(char, named, multiline):
    with pytest.raises(TextError) as err:
        clean_text(f"Ив{char}анов", max_length=100, multiline=multiline)
    assert err.value.code == "control_character"
    assert f"Уберите {named} в позиции 3" in err.value.message
    assert "U+" not in err.value.message


def test_an_esc_sequence_is_refused():
    with pytest.raises(TextError):
        clean_text("Иванов \x1b[2J\x1b[31mвзлом", max_length=100, multiline=True)


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_a_lone_surrogate_is_refused(surrogate):
    with pytest.raises(TextError) as err:
        clean_text(f"Иванов{surrogate}", max_length=100)
    assert err.value.code == "broken_character" and "повреждённый символ в позиции 7" in err.value.message
    assert "U+" not in err.value.message


def test_input_the_database_cannot_store_is_explained_in_words():
    from core.text import unstorable_error

    message = unstorable_error().message
    assert "повреждённый или нулевой символ" in message and "U+" not in message and "суррогат" not in message


def test_length_is_bounded_after_normalisation():
    assert clean_text(unicodedata.normalize("NFD", "й" * 10), max_length=10) == "й" * 10
    with pytest.raises(TextError) as err:
        clean_text("я" * 11, max_length=10)
    assert err.value.code == "too_long" and "не более 10" in err.value.message and "введено 11" in err.value.message


@settings(max_examples=300, deadline=None)
@given(value=NASTY, multiline=st.booleans(), max_length=st.sampled_from([20, 300, 5000]))
def test_any_text_is_refused_or_comes_out_clean_and_stable(value, multiline, max_length):
    try:
        text = clean_text(value, max_length=max_length, multiline=multiline)
    except TextError as exc:
        assert RUSSIAN.search(exc.message)
        return
    assert_clean(text, max_length=max_length, multiline=multiline)
    assert clean_text(text, max_length=max_length, multiline=multiline) == text


def test_a_service_gets_a_domain_error_on_the_field():
    with pytest.raises(DomainError) as err:
        text_argument("a\x07b", field="basis", label="Основание", max_length=50)
    assert err.value.fields["basis"] and err.value.code == "control_character"
    with pytest.raises(DomainError) as err:
        text_argument("  ", field="basis", label="Основание", max_length=50)
    assert err.value.fields == {"basis": ["Обязательное поле."]}
    assert text_argument("  ", field="basis", label="Основание", max_length=50, required=False) == ""


def test_unstorable_finds_a_surrogate_or_nul_at_any_depth():
    assert unstorable({"a": [1, {"b": "ok"}], "c": "ok"}) is None
    assert unstorable({"a": [1, {"b": "x\ud800"}]}) == "x\ud800"
    assert unstorable({"key\x00": 1}) == "key\x00"
    assert unstorable([("q", ["a", "b\x00"])]) == "b\x00"


def test_exports_drop_what_their_format_cannot_hold():
    assert for_export("Вопрос\x07 с\x1b[31m цветом\ttab\nline") == "Вопрос с[31m цветом\ttab\nline"
    assert for_export(5) == 5
    assert one_line("Тема\nс переносом\x07 строки") == "Тема с переносом строки"


# --- Every form of the product ---------------------------------------------------------------------


def _form_modules():
    import appeals.forms
    import core.forms
    import exam.forms
    import registry.forms

    return [core.forms, exam.forms, appeals.forms, registry.forms]


# Fields that are not free text: a password is taken as typed (bounded, and the request guard
# refuses what could not be hashed); an e-mail address has its own validator.
NOT_FREE_TEXT = {
    ("RegistrationForm", "password1"),
    ("RegistrationForm", "password2"),
    ("LoginForm", "password"),
    ("ExamLoginForm", "password"),
    ("QualifiedSignatureForm", "signature"),  # Base64 or PEM data, by its own pattern
}


def _text_fields():
    """(form class, field name) of every character field of every form of the product."""
    pairs = []
    for module in _form_modules():
        for _name, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, forms.BaseForm) or form_class.__module__ != module.__name__:
                continue
            for name, field in form_class.base_fields.items():
                text = isinstance(field, forms.CharField) and not isinstance(field, forms.EmailField)
                if text and (form_class.__name__, name) not in NOT_FREE_TEXT:
                    pairs.append((form_class, name))
    return pairs


TEXT_FIELDS = _text_fields()


def test_every_free_text_field_of_every_form_follows_the_text_rule_and_is_bounded():
    from core.text import TextField

    assert len(TEXT_FIELDS) > 50
    loose = [
        f"{form.__name__}.{name}"
        for form, name in TEXT_FIELDS
        if not isinstance(form.base_fields[name], TextField) or not form.base_fields[name].max_length
    ]
    assert not loose, loose


def _form(form_class, data):
    from core.forms import LoginForm
    from exam.forms import EntryCorrectionForm

    if issubclass(form_class, LoginForm):
        return form_class(None, data=data)
    if issubclass(form_class, EntryCorrectionForm):
        return form_class(data=data, targets=[])  # the entries of the file under review
    return form_class(data=data)


@pytest.mark.parametrize(("form_class", "name"), TEXT_FIELDS, ids=[f"{f.__name__}.{n}" for f, n in TEXT_FIELDS])
@settings(max_examples=25, deadline=None)
@given(value=NASTY)
def test_a_form_refuses_nasty_text_in_russian_or_keeps_it_clean(form_class, name, value):
    field = form_class.base_fields[name]
    form = _form(form_class, {name: value})
    form.is_valid()
    if name in form.errors:
        assert all(RUSSIAN.search(str(m)) for m in form.errors[name]), form.errors[name]
        return
    if not isinstance(form.cleaned_data.get(name), str):
        return  # turned into something else by the form (numbers of questions)
    multiline = getattr(field, "multiline", isinstance(field.widget, forms.Textarea))
    assert form.cleaned_data[name] == clean_text(value, max_length=field.max_length, multiline=multiline)


def test_drf_serializers_that_take_input_follow_the_rule_too():
    from rest_framework import serializers

    from core.api import serializer_for_form
    from core.text import TextSerializerField
    from exam.forms import ExperienceForm
    from registry.api.views import VerifyInput

    class Input(serializers.Serializer):
        name = TextSerializerField(max_length=10)
        note = TextSerializerField(max_length=100, multiline=True, required=False)

    ok = Input(data={"name": " Семёнов ", "note": "строка\r\nвторая"})
    assert ok.is_valid() and ok.validated_data == {"name": "Семёнов", "note": "строка\nвторая"}
    bad = Input(data={"name": "Ив\x1b[31mан"})
    assert not bad.is_valid() and RUSSIAN.search(str(bad.errors["name"][0]))
    assert not Input(data={"name": "я" * 11}).is_valid()
    assert isinstance(VerifyInput().fields["key_id"], TextSerializerField)
    works = serializer_for_form(ExperienceForm, name="ExperienceSchema")().fields["works"]
    assert isinstance(works, TextSerializerField) and works.multiline and works.max_length == 4000


# --- Every admin form of our apps ------------------------------------------------------------------

# Form fields of the admin that are not free text: passwords (taken as typed), and fields with a
# format of their own (an e-mail or IP address, JSON, a link).
ADMIN_NOT_FREE_TEXT = (
    forms.EmailField,
    forms.GenericIPAddressField,
    forms.JSONField,
    forms.URLField,
    forms.SlugField,
    forms.UUIDField,
)


def _admin_text_fields(superuser):
    """(admin, form field name, form field) of every character field of the add and change forms
    of every admin of our apps."""
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = superuser
    found = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"core", "exam", "registry", "appeals", "frontend"}:
            continue
        obj = superuser if model is type(superuser) else None  # the user admin's change form needs one
        for form_class in {model_admin.get_form(request), model_admin.get_form(request, obj, change=True)}:
            for name, field in form_class.base_fields.items():
                text = isinstance(field, forms.CharField) and not isinstance(field, ADMIN_NOT_FREE_TEXT)
                if text and not name.startswith("password"):
                    found.append((type(model_admin).__name__, name, field))
    return found


def test_every_free_text_field_of_every_admin_form_follows_the_text_rule_and_is_bounded(db):
    from core.models import User
    from core.text import TextField

    root = User.objects.create_superuser("root@mintrud.test", "correct-horse-battery-9", last_name="Root")
    fields = _admin_text_fields(root)
    names = {(admin_name, name) for admin_name, name, _field in fields}
    assert {("UserAdmin", "last_name"), ("CalendarDayAdmin", "basis"), ("AreaOfActivityAdmin", "title")} <= names
    loose = [f"{a}.{n}" for a, n, field in fields if not isinstance(field, TextField) or not field.max_length]
    assert not loose, loose


def test_the_admin_refuses_a_control_character_in_russian_and_stores_nothing(db):
    from core.models import User
    from registry.models import AreaOfActivity
    from tests.conftest import verified_client_for

    root = User.objects.create_superuser("root@mintrud.test", "correct-horse-battery-9", last_name="Root")
    client = verified_client_for(root)
    response = client.post(
        "/admin/registry/areaofactivity/add/", {"code": "77", "title": "Охрана\x1b[31m труда", "active": "on"}
    )
    assert response.status_code == 200
    assert "Уберите управляющий символ в позиции 7" in response.content.decode()
    assert not AreaOfActivity.objects.filter(code="77").exists()
    page = client.post(
        f"/admin/core/user/{root.pk}/change/",
        {"email": root.email, "last_name": "Ро\u202eот", "first_name": "", "patronymic": "", "phone": ""},
    ).content.decode()
    assert "символ смены направления текста" in page
    root.refresh_from_db()
    assert root.last_name == "Root"
    # What the rule allows is stored as it makes it: NFC, without surrounding spaces.
    client.post(
        "/admin/registry/areaofactivity/add/", {"code": "78", "title": "  Оценка условий труда ", "active": "on"}
    )
    assert AreaOfActivity.objects.get(code="78").title == "Оценка условий труда"
