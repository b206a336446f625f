"""The oversight report for a period (each figure) and the share of each procedure done in time."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from appeals import services as appeals
from appeals.models import Complaint
from core import calendar
from core.models import Deadline
from core.services import deadline_close
from exam.admission import services as exam
from oversight.reports import Share, period_report, report_xlsx
from tests.conftest import (
    client_for,
    complaint_data,
    complete_payload,
    fill_application,
    make_user,
    registered_application,
    sign_and_submit,
    upload,
)
from tests.core.scenarios import complaint_refuse, two_candidates_tested


def figures(report):
    return {title: dict(rows) for title, rows in report.sections}


@pytest.fixture
def period_of_work(alice, oscar, victor, sergey, eva, olga, hanna, commission):
    """Four applications (one refused acceptance, one refused admission for 71 hours of training),
    two admitted and tested (38 passed, 30 failed), the certificate issued and annulled, the failed
    candidate's appeal rejected, two complaints (one refused, one waiting). All of it on a working
    Wednesday in mid-month, so that "this month" holds it whatever day the suite runs."""
    with time_machine.travel(datetime(2026, 10, 14, 10, 0, tzinfo=calendar.MOSCOW), tick=True):
        _period_of_work(alice, oscar, victor, sergey, eva, olga, hanna, commission)
        yield


def _period_of_work(alice, oscar, victor, sergey, eva, olga, hanna, commission):
    from registry.models import AnnulmentReason
    from registry.services import annulment_confirm, annulment_request

    tested = two_candidates_tested(alice=alice, oscar=oscar, victor=victor, sergey=sergey, eva=eva, olga=olga)
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    short = registered_application(make_user("petr@example.ru", last="Петров", first="Пётр"), payload)
    exam.application_start_review(application=short, by=victor)
    refusal = exam.decision_draft(
        application=short, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    exam.decision_sign(decision=refusal, by=sergey)
    dasha = make_user("dasha@example.ru", last="Дашина", first="Дарья")
    incomplete = fill_application(exam.application_start(candidate=dasha), dasha, attachments=False)
    exam.attachment_add(application=incomplete, by=dasha, kind="higher_education", upload=upload())
    sign_and_submit(incomplete, dasha)

    annulment = annulment_request(
        certificate=tested["certificate"],
        by=olga,
        reason=AnnulmentReason.objects.get(code="court"),
        basis="Решение суда № 2-1/2026",
    )
    annulment_confirm(annulment=annulment, by=sergey)

    chair = commission[0]
    appeal = appeals.appeal_file(candidate=oscar, attempt=tested["failed"], reasons="Доводы.")
    appeals.appeal_open(appeal=appeal, by=chair)
    for member in commission:
        appeals.appeal_vote(appeal=appeal, member=member, outcome="reject", opinion="Не подтвердились.")
    appeals.appeal_decide(appeal=appeal, by=chair, reasons="Доводы не подтвердились.")

    refused = appeals.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    complaint_refuse(refused, by=hanna)
    appeals.complaint_file(data=complaint_data(subject="a"), channel="portal", complainant=oscar)


def test_the_report_counts_each_figure_of_the_period(period_of_work):
    today = calendar.today()
    report = period_report(start=today.replace(day=1), end=today)
    sections = figures(report)
    admission = sections["Заявления и допуск"]
    assert admission["Поступило заявлений"] == 4
    assert admission["Зарегистрировано"] == 3
    assert admission["Отказано в приёме документов"] == 1
    assert admission["Допущено к испытанию"] == 2
    assert admission["Отказано в допуске"] == 1
    training = [label for label in admission if "72 часов" in label]
    assert len(training) == 1 and training[0].startswith("— п. 21 «а»") and admission[training[0]] == 1
    assert sections["Аттестационное испытание"] == {
        "Завершено попыток": 2,
        "Испытание пройдено": 1,
        "Доля успешных": Share(0.5),
    }
    assert str(Share(0.5)) == "50%"
    assert report.scores[38] == 1 and report.scores[30] == 1 and sum(report.scores) == 2
    assert sections["Сертификаты и реестр"] == {"Выдано сертификатов": 1, "Аннулировано": 1}
    outcomes = sections["Апелляции и жалобы"]
    assert outcomes["Апелляций подано"] == 1 and outcomes["— Отклонена"] == 1
    assert outcomes["Жалоб подано"] == 2
    assert outcomes["— Зарегистрирована"] == 1
    assert outcomes[f"— {Complaint.Status.REFUSED.label}"] == 1


def test_a_period_before_the_work_counts_nothing(period_of_work):
    earlier = calendar.today().replace(day=1) - timedelta(days=1)
    report = period_report(start=earlier.replace(day=1), end=earlier)
    sections = figures(report)
    assert sections["Заявления и допуск"]["Поступило заявлений"] == 0
    assert sections["Аттестационное испытание"]["Доля успешных"] == "—"
    assert sections["Сертификаты и реестр"] == {"Выдано сертификатов": 0, "Аннулировано": 0}
    assert sections["Апелляции и жалобы"] == {"Апелляций подано": 0, "Жалоб подано": 0}
    assert sum(report.scores) == 0 and report.on_time == []


def moscow(day, hour=10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=calendar.MOSCOW), tick=False)


def test_the_share_done_in_time_counts_late_and_still_open_terms_and_leaves_out_cancelled_and_running_ones(hanna):
    """Of the terms due in the period: met in time, met late, overdue and still open count; a term
    still running and a cancelled one do not."""
    filed_on = date(2026, 10, 5)  # a Monday with no holiday within two weeks
    people = [make_user(f"c{n}@example.ru", last=f"Заявителев{n}", first="Иван") for n in range(5)]

    def complain(person):
        data = complaint_data(last_name=person.last_name, first_name=person.first_name, email=person.email)
        return appeals.complaint_file(data=data, channel="portal", complainant=person)

    def decide(complaint):
        complaint_refuse(complaint, by=hanna)

    with moscow(filed_on):
        in_time, late, forgotten, cancelled = (complain(p) for p in people[:4])
    due = Deadline.objects.get(kind="complaint.decision", case_id=in_time.pk).due_on
    with moscow(due, hour=17):
        decide(in_time)
    after = calendar.next_working_day(due)
    with moscow(after):
        decide(late)
        deadline_close(case=cancelled, kind="complaint.decision", cancelled=True)
        running = complain(people[4])
    running_due = Deadline.objects.get(kind="complaint.decision", case_id=running.pk).due_on
    with moscow(after + timedelta(days=1)):
        report = period_report(start=filed_on, end=running_due + timedelta(days=7))
    assert ("рассмотрение жалобы (п. 87)", 1, 3) in report.on_time
    assert Deadline.objects.get(case_id=cancelled.pk, kind="complaint.decision").cancelled_at is not None
    assert Deadline.objects.get(case_id=forgotten.pk, kind="complaint.decision").completed_at is None


def test_the_report_page_shows_the_share_done_in_time(audrey):
    """The page shows each procedure's share as "on time / fell due (percent)"."""
    person = make_user("c9@example.ru", last="Заявителев", first="Иван")
    filed_on = date(2026, 10, 5)
    with moscow(filed_on):
        complaint = appeals.complaint_file(data=complaint_data(), channel="portal", complainant=person)
    due = Deadline.objects.get(kind="complaint.decision", case_id=complaint.pk).due_on
    with moscow(calendar.next_working_day(due)):
        page = client_for(audrey).get(reverse("frontend:report"), {"from": "2026-10-01", "to": "2026-10-31"})
    assert "рассмотрение жалобы (п. 87)" in page.content.decode()
    assert "0 / 1 (0%)" in page.content.decode()


# --- p.89: the remedies of upheld complaints, due and overdue ---------------------------------------


def test_the_oversight_page_lists_the_remedies_due_and_overdue_until_their_service_completes(
    alice, oscar, hanna, olga, audrey
):
    from oversight.reports import complaint_remedies_due

    position = "Заместитель Министра труда и социальной защиты Российской Федерации"
    application = registered_application(alice)
    registered_application(oscar)
    remedies = []
    for candidate, remedy in ((alice, "issue_certificate"), (oscar, "other")):
        complaint = appeals.complaint_file(data=complaint_data(subject="b"), channel="portal", complainant=candidate)
        remedies.append(
            appeals.complaint_decide(
                complaint=complaint, by=hanna, outcome="uphold", remedy=remedy, text="Да.", handler_position=position
            )
        )
    late, running = remedies
    Deadline.objects.filter(kind="complaint.remedy", case_id=late.pk).update(
        due_on=calendar.today() - timedelta(days=3)
    )
    due = complaint_remedies_due()
    assert [r.complaint for r in due] == [late, running]  # the overdue first
    assert due[0].application == application and due[0].stage.label == "Зарегистрировано"

    page = client_for(audrey).get(reverse("frontend:oversight")).content.decode()
    section = page[page.index('id="remedies"') : page.index('id="oversight"')]
    assert "Меры по жалобам" in section and late.number in section and running.number in section
    assert "Выдача сертификата эксперта" in section and "Иные меры по устранению нарушений" in section
    assert "просрочено" in section and "Специалист по сертификатам и реестру" in section
    assert "certificate_officer" not in page  # roles by name, never codes

    appeals.complaint_remedy_done(complaint=running, by=olga, note="Проверка проведена.")
    assert [r.complaint for r in complaint_remedies_due()] == [late]


def test_the_xlsx_stores_numbers_as_numbers_and_carries_the_charts(period_of_work):
    from io import BytesIO

    from openpyxl import load_workbook

    today = calendar.today()
    workbook = load_workbook(BytesIO(report_xlsx(period_report(start=today.replace(day=1), end=today))))
    sheet = workbook["report"]
    rows = {row[0].value: row[1] for row in sheet.iter_rows() if row and row[0].value}
    share = rows["Доля успешных"]
    assert share.value == 0.5 and share.number_format == "0%"
    assert rows["Завершено попыток"].value == 2
    for title, cell in rows.items():
        assert not (isinstance(cell.value, str) and cell.value.endswith("%")), title
    scores = workbook["scores"]
    assert [scores.cell(row=r, column=2).value for r in (32, 40)] == [1, 1]  # 30 and 38 right answers

    # openpyxl reads charts back only from their XML: check the parts are there, with axes and values.
    import zipfile

    report = period_report(start=today.replace(day=1), end=today)
    archive = zipfile.ZipFile(BytesIO(report_xlsx(report)))
    charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) == (2 if report.on_time else 1)
    xml = "".join(archive.read(name).decode() for name in charts)
    assert '<delete val="0" />' in xml and '<showVal val="1" />' in xml and "Правильных ответов" in xml
