"""Was the certificate valid on a day (seed 002, p.3.6.2.4: a state expertise checks that the expert
held a valid certificate on the day of the assessment)? The entry page and the public API answer
from the verified record: not yet issued, valid from the issue day through the expiry day,
expired after it, annulled from the day of the confirmed annulment, that day included (the record
carries the day, not the hour, and on that day the registry already gives the certificate as
annulled); a record that fails verification is "not confirmed" whatever its dates."""

from datetime import date

import time_machine
from django.test import Client

from registry import selectors
from registry.models import AnnulmentReason, Certificate
from registry.services import annulment_confirm, annulment_request
from tests.conftest import published_certificate

ANNULMENT_DAY = date(2026, 6, 15)


def status_on(certificate: Certificate, day: date) -> str:
    return selectors.certificate_status_on(certificate, on=day).status


def api(number: str, day: str) -> tuple[int, dict]:
    response = Client().get(f"/api/v1/registry/certificates/{number}/status-on/", {"date": day})
    return response.status_code, response.json()


def annulled_on_annulment_day(olga, sergey) -> Certificate:
    """Issued on 01.03.2025, annulled by a court decision confirmed on 15.06.2026."""
    with time_machine.travel("2026-06-15T12:00:00+03:00"):
        certificate = published_certificate("2025-00070", "Яковлев", "Яков", issued_on=date(2025, 3, 1))
        annulment = annulment_request(
            certificate=certificate,
            by=olga,
            reason=AnnulmentReason.objects.get(code="court"),
            basis="Решение суда № 2-15/2026",
        )
        annulment_confirm(annulment=annulment, by=sergey)
    certificate.refresh_from_db()
    return certificate


def test_a_certificate_is_valid_from_its_issue_day_through_its_expiry_day_both_included(db):
    certificate = published_certificate(
        "2019-00001", "Петров", "Пётр", issued_on=date(2019, 1, 10), expires_on=date(2024, 1, 9)
    )
    assert status_on(certificate, date(2019, 1, 9)) == "not_issued"
    assert status_on(certificate, date(2019, 1, 10)) == "valid"
    assert status_on(certificate, date(2024, 1, 9)) == "valid"
    assert status_on(certificate, date(2024, 1, 10)) == "expired"
    answer = selectors.certificate_status_on(certificate, on=date(2024, 1, 10))
    assert not answer.valid and answer.status_display == "Срок действия истёк"
    assert answer.message == (
        "На 10.01.2024 сертификат не действовал: срок его действия истёк, он действовал по 09.01.2024 включительно."
    )
    assert selectors.certificate_status_on(certificate, on=date(2019, 1, 9)).message == (
        "На 09.01.2019 сертификат ещё не был выдан: он выдан 10.01.2019."
    )


def test_valid_the_day_before_the_annulment_and_annulled_from_its_day_on(db, olga, sergey):
    certificate = annulled_on_annulment_day(olga, sergey)
    assert certificate.annulled_on == ANNULMENT_DAY
    assert certificate.history.get(kind="annulled").on == ANNULMENT_DAY
    assert status_on(certificate, date(2026, 6, 14)) == "valid"
    assert status_on(certificate, ANNULMENT_DAY) == "annulled"
    assert status_on(certificate, date(2026, 6, 16)) == "annulled"
    answer = selectors.certificate_status_on(certificate, on=date(2026, 6, 14))
    assert answer.valid and answer.status_display == "Действовал"
    assert answer.message == (
        "На 14.06.2026 сертификат действовал (выдан 01.03.2025, действителен до 01.03.2030 включительно)."
    )
    assert selectors.certificate_status_on(certificate, on=date(2026, 7, 1)).message == (
        "На 01.07.2026 сертификат не действовал: он аннулирован 15.06.2026."
    )


def test_asked_about_the_annulment_day_on_that_day_the_answer_is_the_status_the_entry_shows(db, olga, sergey):
    certificate = annulled_on_annulment_day(olga, sergey)
    with time_machine.travel("2026-06-15T18:00:00+03:00"):
        assert status_on(certificate, ANNULMENT_DAY) == selectors.certificate_verified_status(certificate)


def test_a_record_that_fails_verification_is_not_confirmed_on_any_day(db, olga, sergey):
    certificate = annulled_on_annulment_day(olga, sergey)
    Certificate.objects.filter(pk=certificate.pk).update(annulled_on=None)  # the annulment removed by hand
    certificate.refresh_from_db()
    for day in (date(2026, 6, 14), date(2026, 7, 1)):
        answer = selectors.certificate_status_on(certificate, on=day)
        assert answer.status == "invalid" and not answer.valid
        assert answer.message == str(selectors.VERDICTS["record_invalid"])
    status, body = api(certificate.number, "2026-07-01")
    assert status == 200 and body["status"] == "invalid" and body["valid"] is False
    assert body["status_display"] == "Не подтверждено"


def test_the_api_gives_the_same_answers(db, olga, sergey):
    certificate = annulled_on_annulment_day(olga, sergey)
    for day in (date(2025, 2, 28), date(2025, 3, 1), date(2026, 6, 14), ANNULMENT_DAY):
        expected = selectors.certificate_status_on(certificate, on=day)
        status, body = api(certificate.number, day.isoformat())
        assert status == 200
        assert body == {
            "number": certificate.number,
            "date": day.isoformat(),
            "valid": expected.valid,
            "status": expected.status,
            "status_display": expected.status_display,
            "message": expected.message,
        }
    assert api(certificate.number, "2026-06-14")[1]["valid"] is True
    assert api(certificate.number, "2026-06-15")[1]["valid"] is False


@time_machine.travel("2026-12-04T10:00:00+03:00")
def test_the_api_refuses_a_future_an_impossible_or_a_missing_date_with_a_russian_message(db):
    certificate = published_certificate("2025-00071", "Зайцев", "Заур")
    status, body = api(certificate.number, "2026-12-05")
    assert status == 400 and body["error"]["code"] == "invalid"
    assert body["error"]["fields"]["date"] == ["Дата не может быть позже сегодняшнего дня (04.12.2026)."]
    assert api(certificate.number, "2026-12-04")[0] == 200  # today is a fair question
    status, body = api(certificate.number, "2013-12-31")
    assert status == 400 and "01.01.2014" in body["error"]["fields"]["date"][0]
    for wrong in ("2026-02-30", "вчера", ""):
        status, body = api(certificate.number, wrong)
        assert status == 400 and body["error"]["fields"]["date"], wrong
    assert Client().get(f"/api/v1/registry/certificates/{certificate.number}/status-on/").status_code == 400
    status, body = api("1999-99999", "2026-01-01")
    assert status == 404 and body["error"]["message"] == "Сертификат не найден в реестре."


def test_the_entry_page_answers_in_words_and_refuses_a_future_date(db, olga, sergey):
    certificate = annulled_on_annulment_day(olga, sergey)
    url = f"/registry/certificates/{certificate.number}/"
    page = Client().get(url).content.decode()
    assert "Действовал ли сертификат на дату" in page and "data-status-on" not in page
    page = Client().get(url, {"date": "2026-06-14"}).content.decode()
    assert 'data-status-on="valid"' in page and "<b>Действовал.</b> На 14.06.2026 сертификат действовал" in page
    page = Client().get(url, {"date": "15.06.2026"}).content.decode()
    assert 'data-status-on="annulled"' in page and "он аннулирован 15.06.2026" in page
    page = Client().get(url, {"date": "2024-12-31"}).content.decode()
    assert 'data-status-on="not_issued"' in page and "<b>Ещё не выдан.</b>" in page
    with time_machine.travel("2026-12-04T10:00:00+03:00"):
        page = Client().get(url, {"date": "2027-01-01"}).content.decode()
    assert "data-status-on" not in page and "Дата не может быть позже сегодняшнего дня (04.12.2026)." in page
