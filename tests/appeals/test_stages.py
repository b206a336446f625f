"""An appeal or a complaint under way is the stage of the case while it lasts (appeals' provider of
exam.admission.selectors.application_stage), on the complaint pages too."""

import pytest
from django.urls import reverse

from appeals import services
from exam.admission.selectors import application_stage
from exam.admission.stages import Stage
from registry.services import attestation_decision_draft, attestation_decision_sign
from tests.appeals.test_services_complaints import decide
from tests.conftest import client_for, complaint_data, pass_the_test


@pytest.fixture
def failed(exam_setup, sergey):
    """Alice failed with 35 of 40; the refusal of attestation is signed."""
    attempt = pass_the_test(exam_setup["credential"], correct=35)
    attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    return attempt


def test_an_appeal_under_way_is_the_stage_until_the_commission_decides(failed, alice, commission):
    application = failed.application
    assert application_stage(application) == Stage.REFUSED_ATTESTATION
    appeal = services.appeal_file(candidate=alice, attempt=failed, reasons="Вопрос 3 некорректен.")
    assert application_stage(application) == Stage.APPEAL
    chair, m1, _m2 = commission
    services.appeal_open(appeal=appeal, by=m1)
    assert application_stage(application) == Stage.APPEAL
    for member in commission:
        services.appeal_vote(appeal=appeal, member=member, outcome="reject")
    services.appeal_decide(appeal=appeal, by=chair, reasons="Доводы не подтвердились.")
    assert application_stage(application) == Stage.REFUSED_ATTESTATION


def test_a_complaint_under_way_is_the_stage_until_it_is_decided(failed, alice, hanna):
    application = failed.application
    complaint = services.complaint_file(data=complaint_data(subject="b"), channel="portal", complainant=alice)
    assert complaint.related_application == application
    assert application_stage(application) == Stage.COMPLAINT
    decide(complaint, hanna)
    assert application_stage(application) == Stage.REFUSED_ATTESTATION


def test_the_complaint_form_lists_the_complainant_s_cases_at_their_stage(failed, alice, oscar):
    application = failed.application
    page = client_for(alice).get(reverse("frontend:complaint_new")).content.decode()
    assert f'data-number="{application.registration_number}"' in page
    assert "Отказано в аттестации" in page and "Допущен к аттестационному испытанию" not in page
    outsider = client_for(oscar).get(reverse("frontend:complaint_new")).content.decode()
    assert application.registration_number not in outsider and 'id="complaint-cases"' not in outsider


def test_the_complaint_s_page_shows_the_stage_of_the_related_case(failed, alice, hanna):
    complaint = services.complaint_file(data=complaint_data(subject="b"), channel="portal", complainant=alice)
    page = client_for(hanna).get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    related = page.split('id="related-application"', 1)[1].split("</dd>", 1)[0]
    assert "Жалоба на рассмотрении" in related and "Допущен" not in related
