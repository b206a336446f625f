"""One case per intent: eight simultaneous posts of the same form (a double click, a retried request,
an impatient user) create one case; the others get the same result or a clear refusal, never a
500. On PostgreSQL with real threads, each with its own connection and signed-in browser."""

import re
import uuid

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal, AppealVote, Complaint
from exam.models import Application, Attachment, Decision, ExamCredential, Notice, Sitting
from registry.models import Annulment, AnnulmentReason, AreaOfActivity, AttestationDecision, Certificate
from tests.conftest import (
    client_for,
    complaint_data,
    complete_payload,
    ensure_reference_lists,
    fill_application,
    pass_the_test,
    registered_application,
    run_concurrently,
)
from tests.frontend.test_pages import form_data

N = 8

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("transactional_db")]


def _post_eight(user, url, data):
    """N browsers of ``user`` post ``data`` to ``url`` at once: their status codes."""
    clients = [client_for(user) for _ in range(N)]
    results, errors = run_concurrently(*[(lambda c=c: c.post(url, data).status_code) for c in clients])
    assert not errors, errors
    assert len(results) == N and all(code in (200, 302) for code in results), results
    return results


def _token():
    return uuid.uuid4().hex


STALE = "Форма устарела: обновите страницу и отправьте её снова."


def _post_eight_without_token(user, url, data):
    """N browsers of ``user`` post ``data`` without its form token at once (a replayed or forged
    request): each gets the form again with the clear message and a fresh token, never a 500."""
    assert not any(key.endswith("form_token") for key in data)
    clients = [client_for(user) for _ in range(N)]
    results, errors = run_concurrently(*[(lambda c=c: c.post(url, data)) for c in clients])
    assert not errors, errors
    assert [r.status_code for r in results] == [200] * N
    for response in results:
        page = response.content.decode()
        assert STALE in page
        assert re.search(r'name="(r-)?form_token" value="[0-9a-f]{32}"', page)
    return results


def _paper_application_data():
    data = form_data(complete_payload())
    data.pop("next")
    data.update(
        {
            "r-channel": "in_person",
            "r-received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "r-paper_documents": list(Attachment.Kind.values),
        }
    )
    return data


def _sitting_data():
    start = (timezone.localtime() + timezone.timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    return {"starts_at": start, "entry_window_minutes": 60, "is_remote": "on", "capacity": 30}


def test_eight_submissions_of_the_signed_application_register_it_once(alice):
    from exam.admission import services

    application = services.application_start(candidate=alice)
    fill_application(application, alice)
    mail.outbox.clear()
    services.signature_request(application=application, by=alice)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)

    url = reverse("frontend:cabinet_application_sign", args=[application.pk])
    assert set(_post_eight(alice, url, {"action": "submit", "code": code})) == {302}  # each lands on the application

    application.refresh_from_db()
    assert application.status == "registered"
    assert application.submissions.count() == 1
    assert Application.objects.exclude(registration_number=None).count() == 1
    page = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk])).content.decode()
    assert application.registration_number in page


def test_eight_posts_of_one_paper_application_form_register_one_application(rita):
    data = {**_paper_application_data(), "r-form_token": _token()}
    _post_eight(rita, reverse("frontend:staff_paper_new"), data)
    assert Application.objects.count() == 1
    assert Application.objects.get().status == "registered"


def test_eight_posts_of_a_paper_application_without_its_token_register_nothing(rita):
    _post_eight_without_token(rita, reverse("frontend:staff_paper_new"), _paper_application_data())
    assert not Application.objects.exists()


@pytest.fixture
def failed(exam_setup):
    return pass_the_test(exam_setup["credential"], correct=30)


def test_eight_posts_of_one_appeal_form_file_one_appeal(failed, alice):
    url, token = reverse("frontend:appeal_new", args=[failed.pk]), _token()
    _post_eight(alice, url, {"reasons": "Вопрос 7 сформулирован неоднозначно.", "form_token": token})
    appeal = Appeal.objects.get()
    assert appeal.attempt == failed
    # Sent again later, the same form lands on the same appeal.
    response = client_for(alice).post(url, {"reasons": "Ещё раз.", "form_token": token})
    assert response.status_code == 302 and response["Location"] == reverse("frontend:cabinet_appeal", args=[appeal.pk])


def test_eight_posts_of_an_appeal_without_its_token_file_nothing(failed, alice):
    url = reverse("frontend:appeal_new", args=[failed.pk])
    refused = _post_eight_without_token(alice, url, {"reasons": "Вопрос 7 сформулирован неоднозначно."})
    assert not Appeal.objects.exists()
    # The form shown again carries a fresh token: sending it again files the appeal.
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', refused[0].content.decode()).group(1)
    response = client_for(alice).post(url, {"reasons": "Вопрос 7 сформулирован неоднозначно.", "form_token": token})
    assert response.status_code == 302 and Appeal.objects.count() == 1


def test_eight_appeals_from_different_forms_on_one_attempt_give_one_appeal_and_clear_refusals(failed, alice):
    url = reverse("frontend:appeal_new", args=[failed.pk])
    clients = [client_for(alice) for _ in range(N)]
    results, errors = run_concurrently(
        *[(lambda c=c: c.post(url, {"reasons": "Не согласна с результатом.", "form_token": _token()})) for c in clients]
    )
    assert not errors, errors
    assert Appeal.objects.count() == 1
    refused = [r for r in results if r.status_code == 200]
    assert len(refused) == N - 1
    assert all("Апелляция на этот результат уже подана" in r.content.decode() for r in refused)


def test_the_database_refuses_a_second_appeal_on_one_attempt(failed, alice):
    from django.db import IntegrityError, transaction

    from appeals.services import appeal_file

    appeal = appeal_file(candidate=alice, attempt=failed, reasons="Не согласна.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(
            number="А-2026-99999",
            attempt=failed,
            application=appeal.application,
            candidate=alice,
            reasons="Ещё раз",
            received_at=timezone.now(),
            registered_on=appeal.registered_on,
            due_on=appeal.due_on,
        )


def test_eight_posts_of_one_complaint_form_register_one_complaint(alice):
    _post_eight(alice, reverse("frontend:complaint_new"), {**complaint_data(), "form_token": _token()})
    assert Complaint.objects.count() == 1


def test_eight_posts_of_one_paper_complaint_form_register_one_complaint(rita):
    data = complaint_data(channel="mail", received_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    _post_eight(rita, reverse("frontend:complaint_paper"), {**data, "form_token": _token()})
    assert Complaint.objects.count() == 1


def test_eight_posts_of_a_complaint_without_its_token_register_nothing(alice):
    _post_eight_without_token(alice, reverse("frontend:complaint_new"), complaint_data())
    assert not Complaint.objects.exists()


def test_eight_posts_of_a_paper_complaint_without_its_token_register_nothing(rita):
    data = complaint_data(channel="mail", received_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    _post_eight_without_token(rita, reverse("frontend:complaint_paper"), data)
    assert not Complaint.objects.exists()


def test_a_complaint_filing_holds_the_complainants_row_until_it_commits(alice):
    """Filings of one person without a token (commands, other callers of the service) wait for
    each other on the person's row, not only on the number counter."""
    import threading

    from django.db import DatabaseError, transaction

    from appeals.services import complaint_file
    from core.models import User

    filed, probed = threading.Event(), threading.Event()

    def file():
        with transaction.atomic():
            complaint_file(data=complaint_data(), channel="portal", complainant=alice)
            filed.set()
            probed.wait(30)
        return "filed"

    def probe():
        # What another filing of the same person would wait on (a plain row update would too).
        try:
            assert filed.wait(30)
            with transaction.atomic():
                User.objects.select_for_update(no_key=True, nowait=True).get(pk=alice.pk)
            return "free"
        except DatabaseError:
            return "locked"
        finally:
            probed.set()

    results, errors = run_concurrently(file, probe)
    assert not errors, errors
    assert sorted(results) == ["filed", "locked"]
    assert Complaint.objects.count() == 1


def test_a_form_token_of_another_person_does_not_reach_their_complaint(alice, oscar):
    token = _token()
    client_for(alice).post(reverse("frontend:complaint_new"), {**complaint_data(), "form_token": token})
    data = complaint_data(last_name="Осипов", first_name="Оскар", patronymic="", email="oscar@example.ru")
    response = client_for(oscar).post(reverse("frontend:complaint_new"), {**data, "form_token": token})
    assert response.status_code == 302
    assert Complaint.objects.count() == 2
    assert Complaint.objects.get(complainant=oscar).last_name == "Осипов"


def test_a_forged_form_token_is_refused_with_a_clear_message(alice):
    response = client_for(alice).post(reverse("frontend:complaint_new"), {**complaint_data(), "form_token": "x" * 32})
    assert response.status_code == 200
    assert "Форма устарела" in response.content.decode()
    assert not Complaint.objects.exists()


def test_eight_votes_of_one_member_count_once(failed, alice, commission):
    from appeals.services import appeal_file, appeal_open

    appeal = appeal_file(candidate=alice, attempt=failed, reasons="Не согласна.")
    appeal_open(appeal=appeal, by=commission[0])
    url = reverse("frontend:appeal_action", args=[appeal.pk, "vote"])
    _post_eight(commission[1], url, {"outcome": "reject", "opinion": "Оснований нет."})
    assert AppealVote.objects.filter(appeal=appeal, member=commission[1]).count() == 1


def test_eight_drafts_and_eight_signatures_of_an_admission_give_one_decision_one_login_one_letter(
    alice, victor, sergey, sitting
):
    from exam.admission import services

    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    url = reverse("frontend:staff_decision_draft", args=[application.pk])
    _post_eight(victor, url, {"kind": "admission", "sitting": sitting.pk})
    decision = Decision.objects.get()

    _post_eight(sergey, reverse("frontend:staff_decision_sign", args=[decision.pk]), {})
    decision.refresh_from_db()
    assert decision.state == "signed"
    assert ExamCredential.objects.count() == 1
    assert Notice.objects.count() == 1  # the letter, issued once after the commit


def test_eight_signatures_certificates_and_annulments_of_one_decision_give_one_each(exam_setup, sergey, stepan, olga):
    ensure_reference_lists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        from registry.services import attestation_decision_draft

        decision = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"], correct=40))

    _post_eight(sergey, reverse("frontend:attestation_decision_sign", args=[decision.pk]), {})
    decision.refresh_from_db()
    assert decision.status == "signed" and decision.dispatched_at is not None

    area = AreaOfActivity.objects.first()
    _post_eight(olga, reverse("frontend:certificate_issue", args=[decision.pk]), {"areas": [area.pk], "publish": "on"})
    certificate = Certificate.objects.get()
    assert certificate.decision == decision

    reason = AnnulmentReason.objects.first()
    url = reverse("frontend:certificate_action", args=[certificate.pk, "annul"])
    _post_eight(olga, url, {"reason": reason.pk, "basis": "Решение суда от 01.12.2026 № 2-123/2026"})
    assert Annulment.objects.filter(certificate=certificate).count() == 1
    assert AttestationDecision.objects.count() == 1


def test_eight_posts_of_one_sitting_form_schedule_one_sitting(eva):
    _post_eight(eva, reverse("frontend:staff_sittings"), {**_sitting_data(), "form_token": _token()})
    assert Sitting.objects.count() == 1


def test_eight_posts_of_a_sitting_form_without_its_token_schedule_nothing(eva):
    _post_eight_without_token(eva, reverse("frontend:staff_sittings"), _sitting_data())
    assert not Sitting.objects.exists()


def test_eight_decisions_on_one_complaint_decide_it_once(alice, hanna):
    from appeals.services import complaint_file

    complaint = complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    data = {
        "outcome": "refuse",
        "refusal_ground": "unfounded",
        "text": "Доводы не подтвердились.",
        "handler_position": "Заместитель Министра труда и социальной защиты Российской Федерации",
        "address_readable": "on",
    }
    _post_eight(hanna, reverse("frontend:complaint_decide", args=[complaint.pk]), data)
    complaint.refresh_from_db()
    assert complaint.status == "refused"
    from core.models import AuditEvent

    assert AuditEvent.objects.filter(verb="refuse", case_id=complaint.pk).count() == 1


def test_eight_uploads_of_one_file_attach_it_once(alice):
    from exam.admission import services
    from tests.conftest import PDF_BYTES

    application = services.application_start(candidate=alice)
    url = reverse("frontend:cabinet_attachment_add", args=[application.pk])
    clients = [client_for(alice) for _ in range(N)]

    def upload(client):
        from django.core.files.uploadedfile import SimpleUploadedFile

        document = SimpleUploadedFile("diploma.pdf", PDF_BYTES, content_type="application/pdf")
        return client.post(url, {"kind": "higher_education", "file": document}).status_code

    results, errors = run_concurrently(*[(lambda c=c: upload(c)) for c in clients])
    assert not errors and set(results) <= {200, 302}, (errors, results)
    assert Attachment.objects.filter(application=application).count() == 1
