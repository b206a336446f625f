"""The stage of a person's case past the test, as the registry's provider tells it (decision on
attestation, certificate, hand-over, registry entry, annulment), the timeline past the notice, and
the pages and the API that show them."""

from core import calendar
from core.models import Deadline
from exam.admission import selectors
from exam.admission.stages import Stage
from exam.models import Application
from registry import selectors as registry_selectors
from registry.models import AnnulmentReason, AreaOfActivity
from registry.services import (
    annulment_confirm,
    annulment_request,
    attestation_decision_draft,
    attestation_decision_sign,
    certificate_handover,
    certificate_issue,
    certificate_publish,
)
from tests.conftest import client_for, finished_attempt_row, pass_the_test


def _stage(application):
    application.refresh_from_db()
    return selectors.application_stage(application)


def test_a_drafted_decision_leaves_the_case_tested_and_a_signed_refusal_is_refused_attestation(exam_setup, sergey):
    attempt = pass_the_test(exam_setup["credential"], correct=35)
    decision = attestation_decision_draft(attempt=attempt)
    assert _stage(attempt.application) == Stage.TESTED
    attestation_decision_sign(decision=decision, by=sergey)
    assert _stage(attempt.application) == Stage.REFUSED_ATTESTATION


def test_the_certificate_moves_the_case_from_attested_to_issued_handed_over_published_and_annulled(
    exam_setup, sergey, olga, stepan
):
    attempt = pass_the_test(exam_setup["credential"])
    application = attempt.application
    decision = attestation_decision_draft(attempt=attempt)
    attestation_decision_sign(decision=decision, by=sergey)
    assert _stage(application) == Stage.ATTESTED
    certificate = certificate_issue(
        decision=decision, by=olga, areas=list(AreaOfActivity.objects.all()[:1]), publish=False
    )
    assert _stage(application) == Stage.CERTIFICATE_ISSUED
    certificate_handover(certificate=certificate, by=olga, method="in_person")
    assert _stage(application) == Stage.HANDED_OVER
    certificate_publish(certificate=certificate, by=olga)
    assert _stage(application) == Stage.PUBLISHED
    annulment = annulment_request(
        certificate=certificate, by=olga, reason=AnnulmentReason.objects.first(), basis="Решение суда № 2-1/2026"
    )
    assert _stage(application) == Stage.PUBLISHED  # requested, not yet confirmed
    annulment_confirm(annulment=annulment, by=stepan)
    assert _stage(application) == Stage.ANNULLED


def test_an_entry_made_at_issue_shows_as_published_only_once_the_certificate_is_handed_over(certificate, olga):
    application = certificate.decision.application
    assert certificate.published_at is not None
    assert _stage(application) == Stage.CERTIFICATE_ISSUED  # the expert still waits for it
    certificate_handover(certificate=certificate, by=olga, method="in_person")
    assert _stage(application) == Stage.PUBLISHED


def _steps(application):
    return {step.code: step for step in selectors.application_timeline(application)}


def test_the_timeline_goes_past_the_notice_with_each_step_s_date_or_deadline(exam_setup, sergey, olga):
    attempt = pass_the_test(exam_setup["credential"])
    application = attempt.application
    steps = _steps(application)
    assert steps["test"].done_at == attempt.finished_at
    assert steps["attestation_decision"].done_at is None and steps["attestation_decision"].due_on is None
    assert "certificate" not in steps  # the outcome is not decided yet

    decision = attestation_decision_draft(attempt=attempt)
    step = _steps(application)["attestation_decision"]
    assert step.due_on == calendar.add_working_days(decision.test_date, 15)  # p.12(v)
    assert step.due_label == "Решение будет принято не позднее"

    attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    term = Deadline.objects.get(kind=registry_selectors.DEADLINE_CERTIFICATE, completed_at__isnull=True)
    steps = _steps(application)
    assert steps["attestation_decision"].done_at == decision.signed_at
    assert (
        steps["attestation_decision"].detail == "Решение об аттестации" and steps["attestation_decision"].due_on is None
    )
    assert steps["certificate"].done_at is None and steps["certificate"].due_on == term.due_on
    assert steps["handover"].due_on == term.due_on
    assert steps["published"].done_at is None and steps["published"].due_on is None  # counted from issue

    certificate = certificate_issue(
        decision=decision, by=olga, areas=list(AreaOfActivity.objects.all()[:1]), publish=False
    )
    steps = _steps(application)
    assert steps["certificate"].done_at == certificate.created_at and certificate.number in steps["certificate"].detail
    assert steps["handover"].done_at is None and steps["handover"].due_on == term.due_on
    assert steps["published"].due_on == calendar.add_working_days(certificate.issued_on, 10)  # p.63

    certificate_handover(certificate=certificate, by=olga, method="in_person")
    certificate_publish(certificate=certificate, by=olga)
    certificate.refresh_from_db()
    steps = _steps(application)
    assert steps["handover"].done_at == certificate.handover_at and steps["handover"].due_on is None
    assert steps["handover"].detail == "Вручён лично"
    assert steps["published"].done_at == certificate.published_at and steps["published"].due_on is None
    assert list(steps)[-5:] == ["test", "attestation_decision", "certificate", "handover", "published"]


def test_a_refusal_of_attestation_ends_the_timeline_at_the_decision(exam_setup, sergey):
    decision = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"], correct=35))
    attestation_decision_sign(decision=decision, by=sergey)
    steps = _steps(decision.application)
    assert list(steps)[-1] == "attestation_decision"
    assert steps["attestation_decision"].detail == "Решение об отказе в аттестации"


def test_after_a_certificate_the_cabinet_the_journal_and_the_api_no_longer_say_admitted(certificate, rita, olga):
    alice = certificate.candidate
    application = certificate.decision.application
    admitted = "Допущен к аттестационному испытанию"
    client = client_for(alice)
    for url in ("/cabinet/", f"/cabinet/applications/{application.pk}/"):
        page = client.get(url).content.decode()
        assert "Сертификат эксперта оформлен" in page and admitted not in page, url
    page = client.get(f"/cabinet/applications/{application.pk}/").content.decode()
    assert 'data-step="published"' in page and 'data-status="certificate_issued"' in page
    journal = client_for(rita).get("/staff/journal/").content.decode()
    assert "Сертификат эксперта оформлен" in journal and admitted not in journal
    listed = client.get("/api/v1/applications/").json()
    assert [(a["status"], a["stage"]) for a in listed] == [("admitted", "certificate_issued")]
    assert client.get(f"/api/v1/applications/{application.pk}/").json()["stage_display"] == (
        "Сертификат эксперта оформлен"
    )
    certificate_handover(certificate=certificate, by=olga, method="in_person")
    journal = client_for(rita).get("/staff/journal/").content.decode()
    assert "Сведения внесены в реестр экспертов" in journal


def test_the_stages_of_twenty_cases_are_read_in_a_bounded_number_of_queries(
    sergey, olga, django_assert_max_num_queries
):
    areas = list(AreaOfActivity.objects.all()[:1])
    expected = {}
    for n in range(20):
        attempt = finished_attempt_row(n)
        expected[attempt.application_id] = Stage.TESTED
        if n % 4 == 0:
            continue
        decision = attestation_decision_draft(attempt=attempt)
        attestation_decision_sign(decision=decision, by=sergey)
        expected[attempt.application_id] = Stage.ATTESTED
        if n % 4 == 1:
            continue
        certificate = certificate_issue(decision=decision, by=olga, areas=areas, publish=n % 4 == 3)
        expected[attempt.application_id] = Stage.CERTIFICATE_ISSUED
        if n % 4 == 3:
            certificate_handover(certificate=certificate, by=olga, method="in_person")
            expected[attempt.application_id] = Stage.PUBLISHED
    applications = list(Application.objects.all())
    assert len(applications) == 20
    # One for the attempts, one for the decisions with their certificates, two for appeals and complaints.
    with django_assert_max_num_queries(4):
        stages = selectors.application_stages(applications)
    assert stages == expected
    assert {app.pk: selectors.application_stage(app) for app in applications} == expected
