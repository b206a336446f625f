"""The pages of the editions of a certificate: the certificate officer corrects and issues a
duplicate from the staff page; the editions are listed with their files, replaced ones marked; the
public entry's history and the expert's cabinet show them."""

import pytest
from django.test import Client, TestCase

from core import calendar
from registry.models import AnnulmentReason, AreaOfActivity, CertificateEdition
from registry.services import annulment_confirm, annulment_request
from tests.conftest import client_for
from tests.registry.test_editions import pdf_text


def correct_post(**overrides):
    areas = list(AreaOfActivity.objects.filter(code__in=["01", "02"]).values_list("pk", flat=True))
    data = {
        "correct-last_name": "Алексеева-Смирнова",
        "correct-first_name": "Алиса",
        "correct-patronymic": "Петровна",
        "correct-areas": areas,
        "correct-reason": "Фамилия указана с ошибкой",
        "correct-basis": "expert_request",
        "correct-basis_reference": "",
        "correct-request_date": calendar.today().isoformat(),
        "correct-request_channel": "portal",
    }
    data.update(overrides)
    return data


def test_the_officer_sees_the_correction_and_duplicate_forms_and_others_do_not(certificate, olga, sergey):
    page = client_for(olga).get(f"/staff/certificates/{certificate.pk}/").content.decode()
    assert 'id="correct"' in page and 'id="duplicate"' in page
    assert 'value="Алексеева"' in page  # the form starts from the current values
    assert 'name="correct-number"' not in page and 'name="correct-issued_on"' not in page
    assert 'data-edition="1" data-edition-kind="original"' in page
    page = client_for(sergey).get(f"/staff/certificates/{certificate.pk}/").content.decode()
    assert 'id="correct"' not in page and 'id="duplicate"' not in page


def test_the_forms_are_not_offered_on_an_annulled_certificate(certificate, olga, sergey):
    annulment = annulment_request(
        certificate=certificate, by=olga, reason=AnnulmentReason.objects.get(code="court"), basis="Решение № 1"
    )
    annulment_confirm(annulment=annulment, by=sergey)
    page = client_for(olga).get(f"/staff/certificates/{certificate.pk}/").content.decode()
    assert 'id="correct"' not in page and 'id="duplicate"' not in page
    response = client_for(olga).post(f"/staff/certificates/{certificate.pk}/correct/", correct_post(), follow=True)
    assert "исправленный экземпляр и дубликат не выдаются" in response.content.decode()
    assert certificate.editions.count() == 1


@pytest.mark.parametrize("who", ["sergey", "audrey", "alice"])
def test_other_users_cannot_post_a_correction_or_a_duplicate(certificate, request, who):
    client = client_for(request.getfixturevalue(who))
    assert client.post(f"/staff/certificates/{certificate.pk}/correct/", correct_post()).status_code == 404
    duplicate = {"duplicate-request_date": calendar.today().isoformat(), "duplicate-request_channel": "mail"}
    assert client.post(f"/staff/certificates/{certificate.pk}/duplicate/", duplicate).status_code == 404
    assert certificate.editions.count() == 1


def test_the_officer_corrects_and_the_registry_entry_shows_it(certificate, olga, alice):
    client = client_for(olga)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/staff/certificates/{certificate.pk}/correct/", correct_post(), follow=True)
    page = response.content.decode()
    assert "Выдан исправленный экземпляр сертификата." in page
    assert 'data-edition="1" data-edition-kind="original" data-replaced' in page
    assert 'data-edition="2" data-edition-kind="corrected"' in page and "Алексеева → Алексеева-Смирнова" in page
    stamped = client.get(f"/staff/certificates/{certificate.pk}/certificate.pdf?edition=1")
    assert stamped.status_code == 200 and "ЗАМЕНЁН" in pdf_text(stamped.getvalue())
    as_issued = client.get(f"/staff/certificates/{certificate.pk}/certificate.pdf?edition=1&as_issued=1")
    assert as_issued.status_code == 200 and "ЗАМЕНЁН" not in pdf_text(as_issued.getvalue())
    assert client.get(f"/staff/certificates/{certificate.pk}/certificate.pdf?edition=9").status_code == 404
    assert client.get(f"/staff/certificates/{certificate.pk}/certificate.pdf?edition=x").status_code == 404

    entry = Client().get(f"/registry/certificates/{certificate.number}/").content.decode()
    assert "Алексеева-Смирнова Алиса Петровна" in entry
    assert 'data-history="corrected"' in entry and "Выдан исправленный экземпляр" in entry
    assert "Алексеева Алиса" not in entry  # the old name is not published

    cabinet = client_for(alice).get(f"/cabinet/applications/{certificate.decision.application_id}/")
    text = cabinet.content.decode()
    assert 'data-edition="1" data-replaced' in text and "действующий экземпляр" in text


def test_a_refused_correction_says_why_and_changes_nothing(certificate, olga):
    response = client_for(olga).post(
        f"/staff/certificates/{certificate.pk}/correct/",
        correct_post(**{"correct-last_name": "Алексеева"}),
        follow=True,
    )
    assert "Сведения не изменились" in response.content.decode()
    response = client_for(olga).post(
        f"/staff/certificates/{certificate.pk}/correct/",
        correct_post(**{"correct-request_date": ""}),
        follow=True,
    )
    assert "Укажите дату заявления" in response.content.decode()
    assert certificate.editions.count() == 1


def test_the_officer_issues_a_duplicate_from_the_page(certificate, olga):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(olga).post(
            f"/staff/certificates/{certificate.pk}/duplicate/",
            {
                "duplicate-request_date": calendar.today().isoformat(),
                "duplicate-request_channel": "mail",
                "duplicate-reason": "Сертификат испорчен",
            },
            follow=True,
        )
    page = response.content.decode()
    assert "Выдан дубликат сертификата." in page
    assert 'data-edition="2" data-edition-kind="duplicate"' in page
    edition = certificate.editions.get(number=2)
    assert edition.kind == CertificateEdition.Kind.DUPLICATE and edition.pdf
    entry = Client().get(f"/registry/certificates/{certificate.number}/").content.decode()
    assert 'data-history="duplicate"' in entry and "Выдан дубликат" in entry
