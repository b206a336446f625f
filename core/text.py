"""The one rule for text people type, shared by every form, service and API.

``clean_text`` refuses what cannot be stored or shown safely — a lone surrogate (PostgreSQL cannot
encode it), control characters other than the line break and the tab (the bell, ESC sequences,
C1 codes), direction overrides and non-characters — normalises Unicode to NFC (a «й» typed as «и»
and a combining breve is one letter), strips surrounding spaces and bounds the length. A
single-line field refuses line breaks and tabs too.

Forms use ``TextField`` (a Django form field): the pages and the API validate with forms, and the
services take the cleaned text. ``text_argument`` is for what no form reads (a query parameter),
``TextSerializerField`` gives a form's text field its place in the API schema. ``unstorable`` finds
a lone surrogate or NUL anywhere in parsed input, for the API's parser and the request guard;
``for_export`` drops what an export format cannot hold from text already stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from rest_framework import serializers

from core.errors import DomainError

_SURROGATE = re.compile("[\ud800-\udfff]")
# Direction embeddings, overrides and isolates (text that displays in another order than stored)
# and the non-characters (U+FDD0-U+FDEF and the last two code points of every plane).
_INVISIBLE_CONTROLS = "\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# Line and paragraph separators break a line as \n does.
_FORBIDDEN_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_INVISIBLE_CONTROLS}]")
_FORBIDDEN_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE_CONTROLS}]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
# What the database cannot store at all: a lone surrogate (not UTF-8) and NUL.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What XML 1.0 (XLSX) cannot hold, and what no export should carry: control characters other than
# tab, line feed and carriage return, surrogates and the non-characters.
_NOT_EXPORTABLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_INVISIBLE_CONTROLS}]")


class TextError(ValueError):
    """Text that the rule refuses: ``message`` in Russian for people, ``code`` for clients."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


_DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _character_name(char: str) -> str:
    """What a refused character is, in words a person understands (a code point is not)."""
    if _CONTROL.fullmatch(char):
        return _("управляющий символ")
    if _DIRECTION.fullmatch(char):
        return _("символ смены направления текста")
    return _("недопустимый символ")


def clean_text(value: object, *, max_length: int, multiline: bool = False) -> str:
    """The text as it is stored: NFC, line breaks as ``\\n`` (multiline), no surrounding spaces.
    Raises TextError for a lone surrogate, a control character (a line break or a tab too, unless
    ``multiline``) or more than ``max_length`` characters. None is the empty text."""
    text = "" if value is None else str(value)
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise TextError(
            _("Текст содержит повреждённый символ в позиции %(pos)d: наберите или вставьте его заново.")
            % {"pos": surrogate.start() + 1},
            code="broken_character",
        )
    text = unicodedata.normalize("NFC", text)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    text = text.strip()
    forbidden = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_SINGLE_LINE).search(text)
    if forbidden:
        char = forbidden.group()
        if char in "\t\n\r\u2028\u2029":
            raise TextError(
                _("Поле заполняется одной строкой: уберите перенос строки или табуляцию."), code="line_break"
            )
        raise TextError(
            _("Уберите %(what)s в позиции %(pos)d: допустимы только печатные символы%(extra)s.")
            % {
                "what": _character_name(char),
                "pos": forbidden.start() + 1,
                "extra": _(", перенос строки и табуляция") if multiline else "",
            },
            code="control_character",
        )
    if len(text) > max_length:
        raise TextError(
            ngettext(
                "Слишком длинный текст: допустимо не более %(max)d знака, введено %(n)d.",
                "Слишком длинный текст: допустимо не более %(max)d знаков, введено %(n)d.",
                max_length,
            )
            % {"max": max_length, "n": len(text)},
            code="too_long",
        )
    return text


def field_refusal(*, field: str, label: object, problem: str | None = None, code: str = "invalid") -> DomainError:
    """The DomainError of a refused field, named by its label: ``problem`` says what is wrong, none
    means the field is empty. One wording for a form's refusal shown on a page and a service's."""
    if problem is None:
        return DomainError(_("Заполните поле «%(f)s».") % {"f": label}, fields={field: [_("Обязательное поле.")]})
    return DomainError(
        _("Поле «%(f)s»: %(problem)s") % {"f": label, "problem": problem}, code=code, fields={field: [problem]}
    )


def text_required(value: str, *, field: str, label: object) -> str:
    """A text that a rule of a service requires in this case (the form that cleaned it may leave it
    empty): a DomainError naming the field when it is empty."""
    if not value:
        raise field_refusal(field=field, label=label)
    return value


def text_argument(
    value: object, *, field: str, label: str, max_length: int, multiline: bool = False, required: bool = True
) -> str:
    """clean_text for input that no form reads (a query parameter): a refused or missing text is a
    DomainError on ``field``. Services take text a form has cleaned."""
    try:
        text = clean_text(value, max_length=max_length, multiline=multiline)
    except TextError as exc:
        raise field_refusal(field=field, label=label, problem=exc.message, code=exc.code) from None
    return text_required(text, field=field, label=label) if required else text


class TextField(forms.CharField):
    """A form field of free text under clean_text: bounded (``max_length`` is required), NFC,
    stripped; single-line unless ``multiline`` (then a textarea of ``rows`` by default)."""

    def __init__(
        self, *, max_length: int, multiline: bool = False, rows: int = 3, wrap: bool = False, **kwargs: Any
    ) -> None:
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        elif wrap:
            # Still one line of text, shown wrapped so that a long value (an institution's full
            # name) is read whole at any width; app.js keeps line breaks out of it.
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 1, "data-single-line": ""}))
        super().__init__(max_length=max_length, strip=False, **kwargs)

    def to_python(self, value: Any) -> str:
        if value in self.empty_values:
            return str(self.empty_value)
        try:
            return clean_text(value, max_length=self.max_length or 0, multiline=self.multiline)
        except TextError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class TextSerializerField(serializers.CharField):
    """A DRF field under the same rule, for serializers that take input."""

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):  # a number or true/false is not text (as core.api.form_data_from_json)
            self.fail("invalid")
        try:
            return clean_text(data, max_length=self.max_length or 0, multiline=self.multiline)
        except TextError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


def unstorable(data: Any) -> str | None:
    """The first text in parsed input (strings, lists, dicts and their keys, at any depth) that
    the database cannot store — a lone surrogate or NUL — or None."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return item
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


def unstorable_error() -> DomainError:
    """The structured 400 for input holding a lone surrogate or NUL, wherever it is."""
    return DomainError(
        _("Запрос содержит повреждённый или нулевой символ: исправьте текст и отправьте его снова."),
        code="invalid_text",
    )


def for_export(value: Any) -> Any:
    """Text already stored, made fit for an export (XLSX, CSV, PDF): control characters other than
    tab and line breaks, surrogates and non-characters are dropped. Other values pass unchanged."""
    if isinstance(value, str):
        return _NOT_EXPORTABLE.sub("", value)
    return value


def one_line(value: str) -> str:
    """Stored text for a single line (an e-mail subject, a header): what for_export drops, and
    line breaks and tabs turned into spaces."""
    return " ".join(for_export(value).split())


# A person's name (surname, first name, patronymic): letters, spaces, hyphens and apostrophes.
name_validator = RegexValidator(
    r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё' .\-]*$",
    gettext_lazy("Допустимы только буквы, пробел, дефис и апостроф."),
)
