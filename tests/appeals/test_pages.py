"""Pages of appeals, complaints and oversight; who may see what."""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from appeals import services
from appeals.models import Complaint
from tests.conftest import client_for, complaint_data, form_token


def test_candidates_see_only_their_own_appeals_and_complaints(exam_setup, alice, oscar):
    from tests.conftest import pass_the_test

    attempt = pass_the_test(exam_setup["credential"], correct=30)
    appeal = services.appeal_file(candidate=alice, attempt=attempt, reasons="Доводы.")
    complaint = services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    outsider = client_for(oscar)
    assert outsider.get(reverse("frontend:cabinet_appeal", args=[appeal.pk])).status_code == 404
    assert outsider.get(reverse("frontend:cabinet_complaint", args=[complaint.pk])).status_code == 404
    assert outsider.get(reverse("frontend:appeal_new", args=[attempt.pk])).status_code == 404
    assert outsider.get(reverse("frontend:complaint_answer_pdf", args=[complaint.pk])).status_code == 404
    owner = client_for(alice)
    assert appeal.number in owner.get(reverse("frontend:cabinet_appeal", args=[appeal.pk])).content.decode()
    assert complaint.number in owner.get(reverse("frontend:cabinet")).content.decode()


def test_staff_outside_the_commission_cannot_open_an_appeal(exam_setup, alice, victor, commission):
    from tests.conftest import pass_the_test

    appeal = services.appeal_file(
        candidate=alice, attempt=pass_the_test(exam_setup["credential"], correct=30), reasons="Доводы."
    )
    assert client_for(victor).get(reverse("frontend:appeal_staff", args=[appeal.pk])).status_code == 404
    page = client_for(commission[1]).get(reverse("frontend:appeal_staff", args=[appeal.pk])).content.decode()
    assert "Попытка полностью" in page and "← ответ заявителя" in page and "✓" in page


def test_candidate_files_a_complaint_from_the_cabinet_with_clear_errors(alice):
    client, url = client_for(alice), reverse("frontend:complaint_new")
    token = form_token(client, url)
    page = client.post(url, {**complaint_data(official="", arguments=""), **token}).content.decode()
    assert "Обязательное поле" in page
    assert not Complaint.objects.exists()
    response = client.post(url, {**complaint_data(), **token}, follow=True)
    complaint = Complaint.objects.get()
    assert f"Жалоба зарегистрирована: № {complaint.number}" in response.content.decode()


def test_registrar_registers_a_paper_complaint(rita):
    from django.utils import timezone

    data = complaint_data(channel="mail", received_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    client, url = client_for(rita), reverse("frontend:complaint_paper")
    response = client.post(url, {**data, **form_token(client, url)}, follow=True)
    complaint = Complaint.objects.get()
    assert complaint.channel == "mail" and complaint.registered_by == rita and complaint.complainant is None
    assert complaint.number in response.content.decode()


def _download(response):
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def test_the_commission_and_the_candidate_open_appeal_attachments_and_staff_opening_is_audited(
    exam_setup, alice, oscar, victor, audrey, commission
):
    from core.models import AuditEvent
    from tests.conftest import PDF_BYTES, pass_the_test, upload

    attempt = pass_the_test(exam_setup["credential"], correct=30)
    appeal = services.appeal_file(candidate=alice, attempt=attempt, reasons="Доводы.", files=[upload("reasons.pdf")])
    attachment = appeal.attachments.get()
    staff_url = reverse("frontend:appeal_attachment", args=[appeal.pk, attachment.pk])
    cabinet_url = reverse("frontend:cabinet_appeal_attachment", args=[appeal.pk, attachment.pk])
    member = client_for(commission[1])
    assert staff_url in member.get(reverse("frontend:appeal_staff", args=[appeal.pk])).content.decode()
    assert _download(member.get(staff_url)) == PDF_BYTES
    assert _download(client_for(audrey).get(staff_url)) == PDF_BYTES
    viewed = AuditEvent.objects.filter(case_id=appeal.pk, action="view", verb="appeal_attachment_view")
    assert {e.actor for e in viewed} == {commission[1], audrey}
    assert cabinet_url in client_for(alice).get(reverse("frontend:cabinet_appeal", args=[appeal.pk])).content.decode()
    assert _download(client_for(alice).get(cabinet_url)) == PDF_BYTES
    assert client_for(victor).get(staff_url).status_code == 404  # a reviewer outside the commission
    assert client_for(oscar).get(cabinet_url).status_code == 404  # another candidate
    assert client_for(alice).get(staff_url).status_code == 404  # the staff route is not the candidate's
    missing = reverse("frontend:appeal_attachment", args=[appeal.pk, attachment.pk + 1])
    assert member.get(missing).status_code == 404


def test_complaint_handlers_and_the_complainant_open_complaint_documents_and_staff_opening_is_audited(
    alice, oscar, victor, hanna, audrey
):
    from core.models import AuditEvent
    from tests.conftest import PDF_BYTES, upload

    complaint = services.complaint_file(
        data=complaint_data(), channel="portal", complainant=alice, evidence=[upload("evidence.pdf")]
    )
    other = services.complaint_file(
        data=complaint_data(subject="a"), channel="portal", complainant=oscar, evidence=[upload("other.pdf")]
    )
    attachment = complaint.attachments.get()
    staff_url = reverse("frontend:complaint_attachment", args=[complaint.pk, attachment.pk])
    cabinet_url = reverse("frontend:cabinet_complaint_attachment", args=[complaint.pk, attachment.pk])
    handler = client_for(hanna)
    assert staff_url in handler.get(reverse("frontend:complaint_staff", args=[complaint.pk])).content.decode()
    assert _download(handler.get(staff_url)) == PDF_BYTES
    assert _download(client_for(audrey).get(staff_url)) == PDF_BYTES
    viewed = AuditEvent.objects.filter(case_id=complaint.pk, action="view", verb="complaint_attachment_view")
    assert {e.actor for e in viewed} == {hanna, audrey}
    page = client_for(alice).get(reverse("frontend:cabinet_complaint", args=[complaint.pk])).content.decode()
    assert cabinet_url in page
    assert _download(client_for(alice).get(cabinet_url)) == PDF_BYTES
    assert client_for(victor).get(staff_url).status_code == 404
    assert client_for(oscar).get(cabinet_url).status_code == 404
    # Oscar's own document, asked for under Alice's complaint, is not found either.
    foreign = reverse("frontend:cabinet_complaint_attachment", args=[complaint.pk, other.attachments.get().pk])
    assert client_for(alice).get(foreign).status_code == 404


@pytest.fixture
def two_candidates_tested(alice, oscar, victor, sergey, eva, olga):
    """Alice passed and holds a certificate not yet in the registry; Oscar failed and appealed."""
    from tests.core.scenarios import two_candidates_tested

    tested = two_candidates_tested(alice=alice, oscar=oscar, victor=victor, sergey=sergey, eva=eva, olga=olga)
    tested["appeal"] = services.appeal_file(candidate=oscar, attempt=tested["failed"], reasons="Доводы.")
    return tested


def _rows(page):
    return re.findall(r'<tr data-kind="([^"]+)" data-due="([^"]+)">.*?data-mark="([^"]*)"', page)


def test_oversight_lists_open_cases_of_every_procedure_by_deadline_with_marks(two_candidates_tested, alice, audrey):
    from core import calendar
    from core.models import Deadline
    from tests.conftest import make_user, registered_application

    services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    registered_application(make_user("petr@example.ru", last="Петров", first="Пётр"))
    publish_due = Deadline.objects.get(kind="registry.publish").due_on
    complaint_due = Deadline.objects.get(kind="complaint.decision").due_on
    day_before = publish_due - timedelta(days=1)
    while not calendar.is_working_day(day_before):
        day_before -= timedelta(days=1)
    assert complaint_due < day_before  # 5 working days against 10
    with time_machine.travel(datetime.combine(day_before, time(9), tzinfo=calendar.MOSCOW), tick=False):
        page = client_for(audrey).get(reverse("frontend:oversight")).content.decode()
    rows = _rows(page)
    kinds = [kind for kind, _due, _mark in rows]
    assert set(kinds) == {
        "application.decision",
        "application.transfer",  # Pyotr's file, not taken by a reviewer (p.46)
        "application.notice",  # the admission notices of the two tested (their task did not run here)
        "attestation.decision",
        "certificate.issue",  # Alice's certificate is issued, not yet handed over (p.12(v), p.60)
        "registry.publish",
        "appeal.decision",
        "complaint.decision",
    }
    dues = [due for _kind, due, _mark in rows]
    assert dues == sorted(dues) and len(rows) == Deadline.objects.filter(completed_at__isnull=True).count()
    marks = {kind: mark for kind, _due, mark in rows}
    assert marks["complaint.decision"] == "overdue"
    assert marks["registry.publish"] == "due_soon"
    assert marks["appeal.decision"] == ""  # three months
    assert 'class="pager"' not in page  # one page (the paging: tests/oversight/test_pages_oversight.py)


def test_the_report_shows_the_period_and_exports_xlsx(exam_setup, alice, audrey):
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.conftest import pass_the_test

    pass_the_test(exam_setup["credential"], correct=38)
    services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    client = client_for(audrey)
    page = client.get(reverse("frontend:report")).content.decode()
    assert "Завершено попыток" in page and "Жалоб подано" in page and 'class="histogram"' in page
    response = client.get(reverse("frontend:report"), {"format": "xlsx"})
    workbook = load_workbook(BytesIO(response.content))
    values = [row[:2] for row in workbook["report"].iter_rows(values_only=True)]
    assert ("Испытание пройдено", 1) in values and ("Жалоб подано", 1) in values
    scores = list(workbook["scores"].iter_rows(values_only=True))
    assert (38, 1) in scores
    for bad in ("not-a-date", "2026-02-30", "2026-13-01"):
        response = client.get(reverse("frontend:report"), {"from": bad})
        assert response.status_code == 200 and "ГГГГ-ММ-ДД" in response.content.decode()


def test_the_chairs_decision_with_a_control_character_is_refused_by_its_form_in_the_services_words(
    exam_setup, alice, commission
):
    from tests.conftest import pass_the_test

    appeal = services.appeal_file(
        candidate=alice, attempt=pass_the_test(exam_setup["credential"], correct=30), reasons="Доводы."
    )
    chair = client_for(commission[0])
    url = reverse("frontend:appeal_action", args=[appeal.pk, "decide"])
    page = chair.post(url, {"reasons": "Мотивы\x07"}, follow=True).content.decode()
    assert "Поле «Мотивы решения»: Уберите управляющий символ в позиции 7" in page
    page = chair.post(url, {"reasons": "  "}, follow=True).content.decode()
    assert "Заполните поле «Мотивы решения». Обязательное поле." in page
    appeal.refresh_from_db()
    assert appeal.decided_at is None and appeal.reasons == "Доводы."
