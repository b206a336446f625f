"""Object-level permissions: who may open which file, through pages and the API; access is logged."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from exam.admission import services
from tests.conftest import client_for, fill_application, registered_application, verified_client_for


@pytest.fixture
def alices_draft(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    return application


@pytest.mark.parametrize(
    "url_name",
    ["frontend:cabinet_application", "frontend:cabinet_application_edit", "frontend:cabinet_application_sign"],
)
def test_candidate_cannot_see_another_candidates_file_page(oscar, alices_draft, url_name):
    response = client_for(oscar).get(reverse(url_name, args=[alices_draft.pk]))
    assert response.status_code == 404


def test_candidate_cannot_see_another_candidates_file_in_the_api(oscar, alices_draft):
    client = client_for(oscar)
    response = client.get(f"/api/v1/applications/{alices_draft.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    attachment = alices_draft.attachments.first()
    assert client.get(f"/api/v1/applications/{alices_draft.pk}/attachments/{attachment.pk}/").status_code == 404
    assert client.get(reverse("frontend:cabinet_attachment", args=[alices_draft.pk, attachment.pk])).status_code == 404
    assert (
        client.put(
            f"/api/v1/applications/{alices_draft.pk}/", {"last_name": "Осипов"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/applications/").json() == []


def test_staff_cannot_open_a_draft(alices_draft, victor, rita, audrey):
    for user in (victor, rita, audrey):
        assert client_for(user).get(reverse("frontend:staff_application", args=[alices_draft.pk])).status_code == 404


def test_reviewer_cannot_open_a_file_taken_by_a_colleague(alice, victor, vera):
    application = registered_application(alice)
    assert client_for(vera).get(reverse("frontend:staff_application", args=[application.pk])).status_code == 200
    services.application_start_review(application=application, by=victor)
    assert client_for(vera).get(reverse("frontend:staff_application", args=[application.pk])).status_code == 404
    assert client_for(vera).get(f"/api/v1/applications/{application.pk}/").status_code == 404
    attachment = application.attachments.first()
    assert (
        client_for(vera).get(reverse("frontend:staff_attachment", args=[application.pk, attachment.pk])).status_code
        == 404
    )
    assert client_for(victor).get(reverse("frontend:staff_application", args=[application.pk])).status_code == 200


def test_signatory_sees_only_files_with_a_decision(alice, sergey):
    application = registered_application(alice)
    assert client_for(sergey).get(reverse("frontend:staff_application", args=[application.pk])).status_code == 404


def test_candidate_cannot_open_staff_pages(alice):
    client = client_for(alice)
    for name in [
        "frontend:staff_dashboard",
        "frontend:staff_review_queue",
        "frontend:staff_signing_queue",
        "frontend:staff_audit",
    ]:
        assert client.get(reverse(name)).status_code == 404


def test_staff_member_without_the_role_cannot_open_its_pages(victor):
    client = client_for(victor)
    assert client.get(reverse("frontend:staff_audit")).status_code == 404
    assert client.get(reverse("frontend:staff_signing_queue")).status_code == 404
    assert client.get(reverse("frontend:staff_paper_new")).status_code == 404


def test_each_opening_of_a_file_by_staff_is_logged(alice, audrey):
    application = registered_application(alice)
    client = client_for(audrey)
    client.get(reverse("frontend:staff_application", args=[application.pk]))
    attachment = application.attachments.first()
    client.get(reverse("frontend:staff_attachment", args=[application.pk, attachment.pk]))
    client.get(f"/api/v1/applications/{application.pk}/")
    views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=audrey, case_id=application.pk)
    assert list(views.order_by("id").values_list("verb", flat=True)) == [
        "file_view",
        "attachment_view",
        "file_view_api",
    ]


def test_candidate_viewing_own_file_is_not_an_access_log_entry(alice):
    application = registered_application(alice)
    client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk]))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_anonymous_user_is_sent_to_sign_in_and_the_api_answers_403(alices_draft):
    from django.test import Client

    client = Client()
    response = client.get(reverse("frontend:cabinet_application", args=[alices_draft.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(f"/api/v1/applications/{alices_draft.pk}/")
    assert response.status_code == 403
    assert response.json()["error"]["message"]


def test_audit_trail_cannot_be_changed_through_the_product(alice, audrey):
    application = registered_application(alice)
    event = AuditEvent.objects.filter(case_id=application.pk).first()
    original = event.reason
    with pytest.raises(RuntimeError):
        event.reason = "подмена"
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    admin_client = verified_client_for(audrey)
    audrey.is_superuser = True
    audrey.save()
    response = admin_client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert b'name="reason"' not in response.content  # read-only
    assert (
        admin_client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk, reason=original).exists()


@pytest.mark.postgres
def test_database_refuses_to_update_or_delete_the_audit_trail(alice):
    from django.db import DatabaseError, connection, transaction

    application = registered_application(alice)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL sout.audit_maintenance = off")
        AuditEvent.objects.filter(case_id=application.pk).update(reason="подмена")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL sout.audit_maintenance = off")
        cursor.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.filter(case_id=application.pk).exclude(reason="подмена").exists()
