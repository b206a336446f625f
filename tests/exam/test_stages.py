"""The stage of a person's case through admission and the test (exam.admission.selectors.application_stage)
and the timeline up to the test."""

from core import calendar
from exam.admission import selectors, services
from exam.admission.stages import Stage
from exam.models import Application, Attempt
from tests.conftest import (
    admit,
    client_for,
    fill_application,
    make_sitting,
    make_user,
    pass_the_test,
    registered_application,
    sign_and_submit,
)


def test_each_step_of_admission_moves_the_case_to_its_stage(alice, victor, sergey, sitting):
    application = services.application_start(candidate=alice)
    assert selectors.application_stage(application) == Stage.DRAFT
    fill_application(application, alice, attachments=False)
    sign_and_submit(application, alice)
    application.refresh_from_db()
    assert selectors.application_stage(application) == Stage.NOT_ACCEPTED

    application = registered_application(alice)
    assert selectors.application_stage(application) == Stage.REGISTERED
    services.application_start_review(application=application, by=victor)
    application.refresh_from_db()
    assert selectors.application_stage(application) == Stage.UNDER_REVIEW
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    application.refresh_from_db()
    assert selectors.application_stage(application) == Stage.DECISION_DRAFTED
    services.decision_sign(decision=decision, by=sergey)
    application.refresh_from_db()
    assert selectors.application_stage(application) == Stage.ADMITTED
    assert selectors.application_stage(application).label == "Допущен к аттестационному испытанию"


def _refused_admission(candidate, reviewer, signatory):
    application = registered_application(candidate)
    services.application_start_review(application=application, by=reviewer)
    decision = services.decision_draft(
        application=application, by=reviewer, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    services.decision_sign(decision=decision, by=signatory)
    application.refresh_from_db()
    return application


def test_a_refusal_of_admission_is_its_own_stage(alice, victor, sergey):
    application = _refused_admission(alice, victor, sergey)
    assert selectors.application_stage(application) == Stage.REFUSED_ADMISSION


def test_a_finished_attempt_whose_decision_is_not_yet_signed_is_tested(exam_setup):
    application = exam_setup["credential"].application
    assert selectors.application_stage(application) == Stage.ADMITTED
    pass_the_test(exam_setup["credential"])  # no decision on attestation signed yet
    assert selectors.application_stage(application) == Stage.TESTED


def test_an_attempt_still_running_leaves_the_case_admitted(exam_setup):
    from exam.testing.services.attempts import attempt_start

    attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    assert Attempt.objects.get().status == Attempt.Status.IN_PROGRESS
    assert selectors.application_stage(exam_setup["credential"].application) == Stage.ADMITTED


def test_the_stages_of_a_list_are_those_of_each_case(alice, oscar, victor, sergey, eva):
    sitting = make_sitting(eva)
    admitted = admit(alice, victor, sergey, sitting).application
    registered = registered_application(oscar)
    draft = services.application_start(candidate=make_user("dora@example.ru", last="Черновикова", first="Дора"))
    stages = selectors.application_stages(Application.objects.all())
    assert stages == {admitted.pk: Stage.ADMITTED, registered.pk: Stage.REGISTERED, draft.pk: Stage.DRAFT}


def test_the_timeline_goes_on_to_the_test_with_the_date_of_the_sitting_then_the_date_it_was_taken(exam_setup):
    application = exam_setup["credential"].application
    sitting = exam_setup["sitting"]
    step = {s.code: s for s in selectors.application_timeline(application)}["test"]
    assert step.done_at is None and step.due_on == calendar.moscow_date(sitting.starts_at)
    attempt = pass_the_test(exam_setup["credential"])
    step = {s.code: s for s in selectors.application_timeline(application)}["test"]
    assert step.done_at == attempt.finished_at and step.due_on is None
    assert step.detail == "Испытание пройдено"


def test_a_refusal_of_admission_has_no_test_in_its_timeline(alice, victor, sergey):
    application = _refused_admission(alice, victor, sergey)
    codes = [s.code for s in selectors.application_timeline(application)]
    assert codes == ["received", "registered", "under_review", "decision", "notice"]


def test_the_cabinet_and_the_api_show_the_stage_once_the_test_is_taken(exam_setup):
    alice = exam_setup["candidate"]
    application = exam_setup["credential"].application
    pass_the_test(exam_setup["credential"])
    client = client_for(alice)
    for url in ("/cabinet/", f"/cabinet/applications/{application.pk}/"):
        page = client.get(url).content.decode()
        assert "Аттестационное испытание проведено" in page, url
        assert "Допущен к аттестационному испытанию" not in page, url
    listed = client.get("/api/v1/applications/").json()
    assert [(a["status"], a["stage"], a["stage_display"]) for a in listed] == [
        ("admitted", "tested", "Аттестационное испытание проведено")
    ]
    detail = client.get(f"/api/v1/applications/{application.pk}/").json()
    assert detail["status"] == "admitted" and detail["stage"] == "tested"
    # The timeline's test step, with its date, in the API too.
    steps = client.get(f"/api/v1/applications/{application.pk}/timeline/").json()
    assert [s["done_at"] is not None for s in steps if s["code"] == "test"] == [True]
