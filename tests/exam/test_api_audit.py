"""Staff reads through the API are written to the audit trail as file views, like the pages."""

from django.utils import timezone

from core.models import AuditEvent
from exam.admission import services
from exam.models import Attachment
from tests.conftest import cleaned, client_for, complete_payload, registered_application


def _views(actor, application):
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=actor, case_id=application.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_staff_reading_the_timeline_through_the_api_is_logged(alice, audrey):
    application = registered_application(alice)
    response = client_for(audrey).get(f"/api/v1/applications/{application.pk}/timeline/")
    assert response.status_code == 200
    assert _views(audrey, application) == ["timeline_view_api"]


def test_staff_listing_applications_through_the_api_logs_each_listed_file(alice, oscar, audrey):
    first = registered_application(alice)
    second = registered_application(oscar)
    response = client_for(audrey).get("/api/v1/applications/")
    assert {row["id"] for row in response.json()} == {first.pk, second.pk}
    assert _views(audrey, first) == ["list_view_api"]
    assert _views(audrey, second) == ["list_view_api"]


def test_candidate_reading_own_file_through_the_api_is_not_a_staff_view(alice):
    application = registered_application(alice)
    client = client_for(alice)
    client.get("/api/v1/applications/")
    client.get(f"/api/v1/applications/{application.pk}/timeline/")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_registrar_issuing_the_exam_password_through_the_api_is_logged(rita, victor, sergey, sitting):
    application = services.application_register_paper(
        by=rita,
        channel="in_person",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload()),
        paper_documents=list(Attachment.Kind.values),
    )
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=sergey)
    response = client_for(rita).post(f"/api/v1/applications/{application.pk}/exam-password/")
    assert response.status_code == 200 and response.json()["password"]
    assert "exam_password_api" in _views(rita, application)
