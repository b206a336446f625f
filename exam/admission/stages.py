"""The stages of a person's case, in the order of the procedure, and the hooks through which the
procedures built on admission (registry, appeals) tell what they know about a case without exam
importing them: each registers its providers in its ``ready()``, as it registers its deadline kinds.
The selectors (exam.admission.selectors.application_stage(s), application_timeline) ask them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from exam.admission.selectors import Step
    from exam.models import Application


class Stage(models.TextChoices):
    """Where a person's case stands, in the order of the procedure: of what the providers report, the
    case is at the furthest stage (an appeal or a complaint under way is the furthest of all: while
    it lasts, it is what the case waits for)."""

    DRAFT = "draft", _("Черновик")
    NOT_ACCEPTED = "not_accepted", _("Отказано в приёме документов")
    REGISTERED = "registered", _("Зарегистрировано")
    UNDER_REVIEW = "under_review", _("На рассмотрении")
    DECISION_DRAFTED = "decision_drafted", _("Проект решения на подписи")
    REFUSED_ADMISSION = "refused_admission", _("Отказано в аттестационном испытании")
    ADMITTED = "admitted", _("Допущен к аттестационному испытанию")
    TESTED = "tested", _("Аттестационное испытание проведено")
    REFUSED_ATTESTATION = "refused_attestation", _("Отказано в аттестации")
    ATTESTED = "attested", _("Принято решение об аттестации")
    CERTIFICATE_ISSUED = "certificate_issued", _("Сертификат эксперта оформлен")
    HANDED_OVER = "handed_over", _("Сертификат передан эксперту")
    PUBLISHED = "published", _("Сведения внесены в реестр экспертов")
    ANNULLED = "annulled", _("Сертификат аннулирован")
    APPEAL = "appeal", _("Апелляция на рассмотрении")
    COMPLAINT = "complaint", _("Жалоба на рассмотрении")

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {stage: n for n, stage in enumerate(Stage)}

# Given applications, the stage each one has reached by the provider's facts (an application it
# knows nothing about is left out). A provider reads all of them in a fixed number of queries.
StageProvider = Callable[[Sequence["Application"]], Mapping[int, Stage]]
# Given an application, the steps of its timeline past those of admission and the test.
TimelineProvider = Callable[["Application"], Iterable["Step"]]

STAGE_PROVIDERS: dict[str, StageProvider] = {}
TIMELINE_PROVIDERS: dict[str, TimelineProvider] = {}


def _key(provider: Callable[..., object]) -> str:
    return f"{provider.__module__}.{provider.__qualname__}"


def stage_provider_register(provider: StageProvider) -> StageProvider:
    """An app above exam adds what it knows of a case's stage (called in its ``ready()``)."""
    STAGE_PROVIDERS[_key(provider)] = provider
    return provider


def timeline_provider_register(provider: TimelineProvider) -> TimelineProvider:
    """An app above exam appends its steps to the candidate's timeline (called in its ``ready()``),
    in the order the apps are loaded."""
    TIMELINE_PROVIDERS[_key(provider)] = provider
    return provider
