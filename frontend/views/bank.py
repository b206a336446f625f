"""The exam administrator's pages: the question bank, import and export, the blueprint, item
statistics and the live monitor of a sitting."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from core.http import request_user
from core.roles import Role
from exam.forms import ExtraTimeForm, InterruptionForm, QuestionForm
from exam.models import Attempt, AttemptInterruption, BlueprintItem, Question, Sitting, Topic
from exam.testing import selectors as testing_selectors
from exam.testing.services import attempts as attempt_service
from exam.testing.services import bank
from frontend.views.common import apply_error, perform, staff_required


@staff_required(Role.EXAM_ADMIN)
def bank_index(request: HttpRequest) -> HttpResponse:
    questions = Question.objects.select_related("topic", "current").order_by("topic__order", "code")
    topic = request.GET.get("topic", "")
    if topic:
        questions = questions.filter(topic__code=topic)
    text = request.GET.get("q", "").strip()
    if text:
        questions = questions.filter(Q(code__icontains=text) | Q(current__text__icontains=text))
    if request.GET.get("retired") != "1":
        questions = questions.filter(retired_at__isnull=True)
    blueprint = {b.topic_id: b.count for b in BlueprintItem.objects.all()}
    topics = [
        (t, blueprint.get(t.pk, 0), t.questions.filter(retired_at__isnull=True, practice_only=False).count())
        for t in Topic.objects.all()
    ]
    return render(
        request,
        "frontend/bank/index.html",
        {
            "page": Paginator(questions, 50).get_page(request.GET.get("page")),
            "topics": topics,
            "blueprint_total": sum(blueprint.values()),
            "q": request.GET,
        },
    )


@staff_required(Role.EXAM_ADMIN)
def question_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    question = Question.objects.select_related("topic", "current").filter(pk=pk).first() if pk else None
    if pk and question is None:
        raise Http404
    if request.method == "POST":
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                saved = bank.question_edit(raw=form.raw(), by=request_user(request))
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Вопрос сохранён."))
                return redirect("frontend:bank_question", pk=saved.pk)
    elif question is not None and question.current is not None:
        version = question.current
        initial = {
            "code": question.code,
            "topic": question.topic.code,
            "text": version.text,
            "correct": [str(i + 1) for i in version.correct],
            "retired": question.retired_at is not None,
            "practice": question.practice_only,
        }
        initial.update({f"option_{i + 1}": text for i, text in enumerate(version.options)})
        form = QuestionForm(initial=initial)
    else:
        form = QuestionForm()
    return render(
        request,
        "frontend/bank/question.html",
        {"form": form, "question": question, "versions": question.versions.order_by("-number") if question else []},
    )


@staff_required(Role.EXAM_ADMIN)
@require_POST
def bank_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    report = None
    error = ""
    if upload is None:
        error = _("Выберите файл JSON или XLSX.")
    elif upload.size and upload.size > 10 * 1024 * 1024:
        error = _("Файл больше 10 МБ.")
    else:
        content = upload.read()
        try:
            parse = bank.parse_xlsx if (upload.name or "").lower().endswith(".xlsx") else bank.parse_json
            rows, topics, blueprint = parse(content)
            report = bank.bank_import(rows=rows, topics=topics, blueprint=blueprint, by=request_user(request))
        except DomainError as exc:
            error = exc.message
    return render(request, "frontend/bank/import_report.html", {"report": report, "error": error})


@staff_required(Role.EXAM_ADMIN)
def bank_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt == "json":
        response = HttpResponse(bank.bank_export_json(), content_type="application/json; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            bank.bank_export_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="question-bank.{fmt}"'
    return response


@staff_required(Role.EXAM_ADMIN)
@require_POST
def blueprint_save(request: HttpRequest) -> HttpResponse:
    counts: dict[str, str] = {}
    for topic in Topic.objects.all():
        # As typed: the service tells a whole number from anything else ("²", "-1", "abc").
        counts[topic.code] = request.POST.get(f"count_{topic.code}", "0").strip()[:10] or "0"
    perform(
        request,
        lambda: bank.blueprint_set(counts=counts, by=request_user(request)),
        success=_("Состав теста сохранён."),
    )
    return redirect("frontend:bank")


@staff_required(Role.EXAM_ADMIN)
def item_statistics(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/bank/stats.html", {"stats": testing_selectors.item_statistics()})


@staff_required(Role.EXAM_ADMIN)
def sitting_monitor(request: HttpRequest, pk: int) -> HttpResponse:
    sitting = Sitting.objects.filter(pk=pk).first()
    if sitting is None:
        raise Http404
    return render(
        request,
        "frontend/bank/monitor.html",
        {
            "sitting": sitting,
            "rows": testing_selectors.sitting_monitor(sitting),
            "causes": AttemptInterruption.Cause.choices,
        },
    )


def _attempt(pk: int) -> Attempt:
    attempt = Attempt.objects.filter(pk=pk).first()
    if attempt is None:
        raise Http404
    return attempt


@staff_required(Role.EXAM_ADMIN)
@require_POST
def attempt_interruption(request: HttpRequest, pk: int) -> HttpResponse:
    """p.12(g): the exam administrator records an interruption on the ministry's side."""
    attempt = _attempt(pk)
    form = InterruptionForm(request.POST)
    perform(
        request,
        lambda: attempt_service.attempt_interruption_record(
            attempt=attempt, by=request_user(request), **form.cleaned_data
        ),
        success=_("Перерыв отмечен."),
        form=form,
    )
    return redirect("frontend:sitting_monitor", pk=attempt.sitting_id)


@staff_required(Role.EXAM_ADMIN)
@require_POST
def attempt_extra_time(request: HttpRequest, pk: int) -> HttpResponse:
    """p.12(g): extra time restoring the time lost to a recorded interruption."""
    attempt = _attempt(pk)
    form = ExtraTimeForm(request.POST)

    def grant() -> object:
        interruption = AttemptInterruption.objects.filter(pk=form.cleaned_data["interruption"]).first()
        if interruption is None:
            raise NotFound(_("Перерыв не найден."))
        return attempt_service.attempt_grant_extra_time(
            attempt=attempt, by=request_user(request), interruption=interruption, minutes=form.cleaned_data["minutes"]
        )

    perform(request, grant, success=_("Время добавлено."), form=form)
    return redirect("frontend:sitting_monitor", pk=attempt.sitting_id)
