"""The public question bank (p.55): topics, versioned questions and the blueprint of a test."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# "Выберите все правильные ответы." (or the same in brackets) at the end of a question's text.
_CHOOSE_ALL = re.compile(
    r"\s*\(?\s*выберите\s+все\s+правильные\s+(?:ответы|варианты(?:\s+ответа)?)\s*\.?\s*\)?\s*\.?\s*$", re.I
)


class Topic(models.Model):
    code = models.CharField(_("Код"), max_length=20, unique=True)
    title = models.CharField(_("Тема"), max_length=300)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("тема")
        verbose_name_plural = _("темы")

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"


class Question(models.Model):
    """A question of the bank. Its text and options live in versions: once a version has been shown
    in an attempt it is frozen, and an edit creates the next version. A retired question leaves the
    draw but stays in the attempts that showed it.

    A practice-only question belongs to the public practice quiz, which shows its correct answers:
    it is never drawn into a test. The flag is fixed when the question is created (a question whose
    key has been public never enters the test; a test question never has its key published, p.55
    publishes the questions, not the answers)."""

    code = models.CharField(_("Код"), max_length=20, unique=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions", verbose_name=_("Тема"))
    current = models.ForeignKey("QuestionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_sample = models.BooleanField(_("Образец"), default=False)
    practice_only = models.BooleanField(
        _("Тренировочный"),
        default=False,
        help_text=_("Только для тренировочного теста: правильные ответы открыты, в испытание не попадает."),
    )
    retired_at = models.DateTimeField(_("Выведен из банка"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic__order", "code"]
        verbose_name = _("вопрос")
        verbose_name_plural = _("вопросы")

    def __str__(self) -> str:
        return self.code

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class QuestionVersion(models.Model):
    """One wording of a question: the text, 3 to 6 options and the correct ones (all-or-nothing)."""

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("Версия"))
    text = models.TextField(_("Текст вопроса"))
    options = models.JSONField(_("Варианты ответа"))  # list of strings, in the bank's order
    correct = models.JSONField(_("Правильные варианты"))  # sorted list of 0-based option indices
    shown = models.BooleanField(_("Показан в испытании"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["question", "number"]
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="question_version_number")]

    def __str__(self) -> str:
        return f"{self.question.code} v{self.number}"

    @property
    def is_multiple(self) -> bool:
        return len(self.correct) > 1

    @property
    def prompt(self) -> str:
        """The text as a page shows it: without a trailing "choose all the correct answers" that an
        author wrote into it, since the pages say that themselves beside every multiple-answer question."""
        return _CHOOSE_ALL.sub("", self.text).rstrip() or self.text


class BlueprintItem(models.Model):
    """How many questions of a topic make up one test (setting; 40 in total by default)."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="blueprint")
    count = models.PositiveIntegerField(_("Вопросов в тесте"))

    class Meta:
        ordering = ["topic__order", "topic__code"]

    def __str__(self) -> str:
        return f"{self.topic.code}: {self.count}"
