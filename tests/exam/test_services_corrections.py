"""The reviewer corrects a candidate's entry from the attached document (p.47, p.21(a)): the entry
stays as signed, the criteria use the correction, the signatory sees it, the audit records it."""

from datetime import date, timedelta

import pytest
from django.test import TestCase
from django.urls import reverse

from core.errors import DomainError, NotFound
from core.models import AuditEvent
from exam.admission import selectors, services
from exam.models import AdditionalEducation, EntryCorrection, Experience, HigherEducation, Notice
from tests.conftest import client_for, complete_payload, registered_application


def seventy_hours() -> dict:
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 70
    return payload


def under_review(candidate, reviewer, payload=None):
    application = registered_application(candidate, payload)
    return services.application_start_review(application=application, by=reviewer)


def met(application) -> dict[str, bool]:
    return {c.code: c.met for c in selectors.application_criteria(application).all}


def test_a_correction_of_the_hours_meets_the_criterion_and_keeps_the_signed_entry(alice, victor, sergey, sitting):
    application = under_review(alice, victor, seventy_hours())
    programme = AdditionalEducation.objects.get(application=application)
    assert met(application)["training"] is False
    with pytest.raises(DomainError) as err:
        services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    assert err.value.code == "criteria_not_met"

    correction = services.entry_correct(
        application=application,
        entry=programme,
        field="assessment_hours",
        value=72,
        reason="В удостоверении о повышении квалификации указано 72 часа",
        by=victor,
    )
    programme.refresh_from_db()
    assert programme.assessment_hours == 70  # the candidate's entry is never changed
    assert correction.original == 70 and correction.value == 72
    assert met(application)["training"] is True
    training = selectors.application_criteria(application).training
    assert "72 ч" in training.summary and "исправлено проверяющим" in training.evidence[0]
    # The signature over the entries still verifies.
    submission = application.submissions.get()
    assert services.signature_verify(submission=submission).valid

    event = AuditEvent.objects.get(verb="entry_correct", case_id=application.pk)
    assert event.actor == victor and event.reason == "В удостоверении о повышении квалификации указано 72 часа"
    assert event.data["original"] == 70 and event.data["before"] == 70 and event.data["value"] == 72
    assert event.data["criteria_before"]["training"] is False and event.data["criteria_after"]["training"] is True

    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    page = client_for(sergey).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert 'id="corrections"' in page and "В удостоверении о повышении квалификации указано 72 часа" in page
    assert "70 ч" in page and "72 ч" in page and 'id="correction-form"' not in page
    # The notice is unaffected: it says nothing of the entries.
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    assert Notice.objects.get(application=application).pdf


def test_the_latest_correction_wins_and_the_history_is_kept(alice, victor):
    application = under_review(alice, victor)
    period = Experience.objects.get(application=application)
    recent = application.registration_date - timedelta(days=400)
    services.entry_correct(
        application=application, entry=period, field="date_from", value=recent, reason="Трудовая книжка", by=victor
    )
    assert met(application)["experience"] is False
    services.entry_correct(
        application=application, entry=period, field="date_from", value=date(2019, 4, 1), reason="Ошибся", by=victor
    )
    assert met(application)["experience"] is True
    rows = selectors.entry_correction_list(application)
    assert [(r.correction.value, r.current) for r in rows] == [(recent.isoformat(), False), ("2019-04-01", True)]
    assert AuditEvent.objects.filter(verb="entry_correct").count() == 2
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=period, field="date_from", value=date(2019, 4, 1), reason="x", by=victor
        )
    assert "не изменилось" in err.value.message


def test_an_entry_the_document_does_not_confirm_is_left_out(alice, victor):
    application = under_review(alice, victor)
    diploma = HigherEducation.objects.get(application=application)
    services.entry_correct(
        application=application,
        entry=diploma,
        field="counted",
        value=False,
        reason="Приложен диплом о среднем профессиональном образовании",
        by=victor,
    )
    assert met(application)["higher_education"] is False


def test_only_fields_the_criteria_use_are_corrected_with_valid_values(alice, victor):
    application = under_review(alice, victor)
    period = Experience.objects.get(application=application)
    programme = AdditionalEducation.objects.get(application=application)
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=period, field="employer", value="ООО", reason="x", by=victor
        )
    assert "field" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=programme, field="assessment_hours", value=-1, reason="x", by=victor
        )
    assert "value" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=period, field="date_to", value=date(2018, 1, 1), reason="x", by=victor
        )
    assert "раньше даты начала" in err.value.message
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=programme, field="assessment_hours", value=72, reason="", by=victor
        )
    assert "reason" in err.value.fields
    assert not EntryCorrection.objects.exists()


def test_only_the_reviewer_holding_the_file_corrects_while_it_is_under_review(alice, victor, vera, sergey, sitting):
    application = under_review(alice, victor, seventy_hours())
    programme = AdditionalEducation.objects.get(application=application)

    def correct(by):
        return services.entry_correct(
            application=application, entry=programme, field="assessment_hours", value=72, reason="Документ", by=by
        )

    with pytest.raises(DomainError) as err:
        correct(sergey)
    assert err.value.status == 403
    with pytest.raises(NotFound):
        correct(vera)
    assert not services.entry_can_correct(application=application, user=vera)
    assert services.entry_can_correct(application=application, user=victor)
    correct(victor)
    services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    application.refresh_from_db()
    assert not services.entry_can_correct(application=application, user=victor)
    with pytest.raises(DomainError) as err:
        services.entry_correct(
            application=application, entry=programme, field="assessment_hours", value=80, reason="Документ", by=victor
        )
    assert err.value.status == 409
    other = under_review(make_other_candidate(), victor)
    with pytest.raises(NotFound):
        services.entry_correct(
            application=other, entry=programme, field="assessment_hours", value=80, reason="Документ", by=victor
        )


def make_other_candidate():
    from tests.conftest import make_user

    return make_user("boris@example.ru", last="Борисов", first="Борис")


def test_the_reviewer_corrects_from_the_file_page(alice, victor):
    application = under_review(alice, victor, seventy_hours())
    programme = AdditionalEducation.objects.get(application=application)
    client = client_for(victor)
    url = reverse("frontend:staff_application", args=[application.pk])
    page = client.get(url).content.decode()
    assert 'id="correction-form"' in page and f"additional_education:{programme.pk}:assessment_hours" in page
    response = client.post(
        reverse("frontend:staff_entry_correct", args=[application.pk]),
        {"target": f"additional_education:{programme.pk}:assessment_hours", "value": "семьдесят два", "reason": "Док"},
        follow=True,
    )
    assert "Укажите целое число часов" in response.content.decode() and not EntryCorrection.objects.exists()
    response = client.post(
        reverse("frontend:staff_entry_correct", args=[application.pk]),
        {"target": f"additional_education:{programme.pk}:assessment_hours", "value": "72", "reason": "Удостоверение"},
        follow=True,
    )
    page = response.content.decode()
    assert "Исправление сохранено" in page and 'data-criterion="training" data-met="1"' in page
    assert EntryCorrection.objects.get().value == 72
