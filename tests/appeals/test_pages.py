"""Pages of appeals, complaints and oversight; who may see what."""

from django.urls import reverse

from appeals import services
from appeals.models import Complaint
from tests.conftest import client_for, complaint_data


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
    client = client_for(alice)
    page = client.post(reverse("frontend:complaint_new"), complaint_data(official="", arguments="")).content.decode()
    assert "Обязательное поле" in page
    assert not Complaint.objects.exists()
    response = client.post(reverse("frontend:complaint_new"), complaint_data(), follow=True)
    complaint = Complaint.objects.get()
    assert f"Жалоба зарегистрирована: № {complaint.number}" in response.content.decode()


def test_registrar_registers_a_paper_complaint(rita):
    from django.utils import timezone

    data = complaint_data(channel="mail", received_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    response = client_for(rita).post(reverse("frontend:complaint_paper"), data, follow=True)
    complaint = Complaint.objects.get()
    assert complaint.channel == "mail" and complaint.registered_by == rita and complaint.complainant is None
    assert complaint.number in response.content.decode()


def test_oversight_lists_open_cases_of_every_procedure(exam_setup, alice, audrey):
    from tests.conftest import pass_the_test

    services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    services.appeal_file(
        candidate=alice, attempt=pass_the_test(exam_setup["credential"], correct=30), reasons="Доводы."
    )
    page = client_for(audrey).get(reverse("frontend:oversight")).content.decode()
    assert 'data-kind="complaint.decision"' in page and 'data-kind="appeal.decision"' in page


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
    page = client.get(reverse("frontend:report"), {"from": "not-a-date"}).content.decode()
    assert "ГГГГ-ММ-ДД" in page
