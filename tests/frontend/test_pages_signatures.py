"""The pages of qualified signatures: the public verification of a document, the dashboard's
warning of what expires, and the staff page of trusted lists and officials' certificates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.qes.models import SigningCertificate, TrustedList
from core.qes.services import signing_certificate_add
from tests.conftest import client_for, make_user, throttle_rates
from tests.core.test_qes_public import PDF, ministry_document

pytestmark = pytest.mark.django_db

PAGE = "/signatures/verify/"


def upload(document: bytes, signature: bytes, *, client: Client | None = None) -> Any:
    return (client or Client()).post(
        PAGE,
        {
            "document": SimpleUploadedFile("notice.pdf", document),
            "signature": SimpleUploadedFile("notice.pdf.sig", signature),
        },
    )


# --- The public page ---------------------------------------------------------------------------------


def test_the_footer_links_the_verification_page(db):
    page = Client().get("/").content.decode()
    assert f'href="{PAGE}"' in page and "Проверка электронной подписи документа" in page


def test_a_ministry_document_shows_its_protocol_with_the_official_line(pki, trusted, sergey):
    document = ministry_document(sergey, pki)

    response = upload(PDF, bytes(document.signature))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Подпись действительна" in page and 'data-ministry-document="true"' in page
    assert "Уведомление о допуске № 1" in page
    assert 'data-check="official" data-ok="true"' in page
    assert "Подпись принадлежит должностному лицу Минтруда России" in page
    assert "Сергеев Сергей Сергеевич" in page  # the certificate's owner
    assert SigningCertificate.objects.get().serial in page
    assert "п. 3 ст. 11 Федерального закона от 06.04.2011 № 63-ФЗ" in page  # each line with its rule


def test_another_document_is_checked_now_without_the_official_line(pki, trusted):
    page = upload(PDF, pki.signer.sign(PDF)).content.decode()

    assert "Подпись действительна" in page and 'data-ministry-document="false"' in page
    assert 'data-check="official"' not in page and "Алексеева Алиса Петровна" in page


def test_a_tampered_document_is_not_confirmed_naming_the_integrity_check(pki, trusted, sergey):
    document = ministry_document(sergey, pki)

    page = upload(PDF.replace(b"No. 1", b"No. 2"), bytes(document.signature)).content.decode()

    assert "Подпись не подтверждена" in page
    assert 'data-check="integrity" data-ok="false"' in page
    assert "документ или его вложения изменены после подписания" in page


def test_garbage_files_are_not_confirmed_and_never_a_server_error(db):
    response = upload(b"MZ\x90\x00 not a document", b"\x30\x82\xff\xff broken DER")

    assert response.status_code == 200
    assert "Подпись не подтверждена" in response.content.decode()


def test_a_missing_file_and_an_oversized_one_are_refused_in_russian(settings, pki):
    response = Client().post(PAGE, {"document": SimpleUploadedFile("a.pdf", PDF)})
    assert response.status_code == 400 and "Выберите документ и файл его подписи." in response.content.decode()

    settings.QES_VERIFY_DOCUMENT_MAX_BYTES = 1024 * 1024
    response = upload(PDF + b"0" * (1024 * 1024), pki.signer.sign(PDF))
    assert response.status_code == 400 and "больше 1 МБ" in response.content.decode()


def test_the_page_is_throttled_per_client(settings, db):
    with throttle_rates(settings, signature_verify="1/min"):
        assert upload(PDF, b"x").status_code == 200
        response = upload(PDF, b"x")
    assert response.status_code == 429 and "Слишком много проверок" in response.content.decode()


# --- The dashboard's warning -------------------------------------------------------------------------


@pytest.fixture
def official_certificate(pki, sergey) -> SigningCertificate:
    return signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))


def dashboard(user: Any) -> str:
    return client_for(user).get("/staff/").content.decode()


@pytest.mark.parametrize(("days", "said"), [(29, "истекает через 29 дней"), (1, "истекает через 1 день")])
def test_the_dashboard_warns_before_an_officials_certificate_expires(official_certificate, victor, days, said):
    with time_machine.travel(official_certificate.not_after - timedelta(days=days), tick=False):
        page = dashboard(victor)
    assert 'id="expiry-warnings"' in page
    assert "Сертификат должностного лица: Сергеев Сергей Сергеевич" in page and said in page


def test_the_dashboard_counts_22_days_in_agreement(official_certificate, victor):
    with time_machine.travel(official_certificate.not_after - timedelta(days=22), tick=False):
        assert "истекает через 22 дня" in dashboard(victor)


def test_the_dashboard_is_silent_31_days_before(official_certificate, victor):
    with time_machine.travel(official_certificate.not_after - timedelta(days=31), tick=False):
        page = dashboard(victor)
    assert 'id="expiry-warnings"' not in page


def test_the_dashboard_warns_of_the_authoritys_certificate(pki, trusted, victor):
    authority = TrustedList.objects.get().authorities.get(name="Аккредитованный УЦ").certificates.get()
    with time_machine.travel(authority.not_after - timedelta(days=29), tick=False):
        page = dashboard(victor)
    assert "Сертификат удостоверяющего центра" in page and "истекает через 29 дней" in page


@pytest.mark.parametrize(("days", "warned"), [(29, True), (31, False)])
def test_the_dashboard_warns_before_the_registry_key_must_be_replaced(settings, victor, days, warned):
    settings.REGISTRY_SIGNING_KEY_EXPIRES = date(2027, 3, 1)
    with time_machine.travel(date(2027, 3, 1) - timedelta(days=days), tick=False):
        page = dashboard(victor)
    assert ("Ключ подписи записей реестра" in page) is warned


# --- The staff page of trusted lists -----------------------------------------------------------------


def test_the_certificate_officer_sees_the_versions_authorities_and_officials(trusted, official_certificate, olga):
    page = client_for(olga).get("/staff/signatures/").content.decode()

    assert 'data-version="1"' in page and "командой manage.py" in page
    assert "Аккредитованный УЦ" in page and 'data-accredited="true"' in page
    assert "УЦ с прекращённой аккредитацией" in page and 'data-accredited="false"' in page
    assert f'data-serial="{official_certificate.serial}"' in page and 'data-active="true"' in page
    assert 'id="trust-load"' in page


def test_the_certificate_officer_loads_a_new_list_and_its_revocation_list(pki, olga):
    from tests.pki import Pki

    xml = Pki.trusted_list([("Аккредитованный УЦ", pki.accredited, [("Действует", "2020-01-01")])], version=7)
    response = client_for(olga).post(
        "/staff/signatures/",
        {"xml": SimpleUploadedFile("TSL.xml", xml), "crls": [SimpleUploadedFile("ca.crl", pki.crl)]},
        follow=True,
    )

    page = response.content.decode()
    assert "Загружен перечень версии 7: 1 удостоверяющий центр." in page
    assert "Загружен 1 список отзыва." in page
    listed = TrustedList.objects.get()
    assert listed.version == 7 and listed.loaded_by == olga
    assert 'data-version="7"' in page


def test_a_broken_list_is_refused_in_russian_and_nothing_is_loaded(olga):
    response = client_for(olga).post(
        "/staff/signatures/", {"xml": SimpleUploadedFile("TSL.xml", b"<not xml")}, follow=True
    )
    assert "Файл перечня не является корректным XML." in response.content.decode()
    assert not TrustedList.objects.exists()


def test_a_revocation_list_of_an_unknown_authority_is_refused(pki, olga):
    response = client_for(olga).post(
        "/staff/signatures/", {"crls": [SimpleUploadedFile("ca.crl", pki.crl)]}, follow=True
    )
    assert "не подписан ни одним удостоверяющим центром из загруженных перечней" in response.content.decode()


def test_an_empty_upload_asks_for_a_file(olga):
    response = client_for(olga).post("/staff/signatures/", {}, follow=True)
    assert "Выберите файл перечня (XML) или списки отзыва." in response.content.decode()


def test_the_auditor_reads_the_page_but_cannot_load(pki, audrey):
    page = client_for(audrey).get("/staff/signatures/")
    assert page.status_code == 200 and 'id="trust-load"' not in page.content.decode()

    response = client_for(audrey).post(
        "/staff/signatures/", {"xml": SimpleUploadedFile("TSL.xml", pki.trusted_list_xml)}
    )
    assert response.status_code == 403
    assert not TrustedList.objects.exists()


def test_other_staff_and_candidates_do_not_find_the_page(victor, alice):
    assert client_for(victor).get("/staff/signatures/").status_code == 404
    assert client_for(alice).get("/staff/signatures/").status_code == 404
    assert Client().get("/staff/signatures/").status_code == 302  # to the sign-in


def test_the_service_refuses_a_load_by_another_role(pki, victor):
    from core.errors import DomainError
    from core.qes.services import trusted_list_load

    with pytest.raises(DomainError) as refused:
        trusted_list_load(xml=pki.trusted_list_xml, crls=[], by=victor)
    assert refused.value.status == 403


def test_the_officer_has_the_page_in_the_menu(olga):
    assert 'href="/staff/signatures/"' in client_for(olga).get("/staff/").content.decode()
    officer = make_user("other@mintrud.test", last="Иванов", first="Иван", roles=("registrar",))
    assert 'href="/staff/signatures/"' not in client_for(officer).get("/staff/").content.decode()
