"""A conclusion of a state expertise of working conditions (seeds 002, 003) as the basis of an
annulment: its particulars and copy are stored with the request in one transaction; the staff see
them all; the public entry's history shows only the authority, the number and the date of the
conclusion, never the experts it names, the employer, the report or the findings."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DataError
from django.test import Client

from core.errors import DomainError
from core.models import AuditEvent
from registry import selectors
from registry.forms import AnnulmentRequestForm
from registry.models import Annulment, AnnulmentReason, ExpertiseFinding
from registry.services import ExpertiseFindingData, annulment_confirm, annulment_request
from tests.conftest import PDF_BYTES, client_for, published_certificate, upload

PUBLIC = "Заключение № 44-ГЭ от 02.03.2026, Департамент по труду и социальной защите населения Костромской области"
PRIVATE = (
    "Костромская область",
    "ООО «Северный завод»",
    "Отчёт от 10.12.2025",
    "Сидоров Семён Петрович",
    "не измерен шум",
)


def finding(**overrides) -> ExpertiseFindingData:
    values = {
        "authority": "Департамент по труду и социальной защите населения Костромской области",
        "region": "Костромская область",
        "number": "44-ГЭ",
        "issued_on": date(2026, 3, 2),
        "employer": "ООО «Северный завод»",
        "report": "Отчёт от 10.12.2025, идентификационный номер 12345",
        "experts": "Сидоров Семён Петрович, сертификат № 2024-00012",
        "findings": "СОУТ проведена с нарушениями: не измерен шум на рабочих местах № 3, 4.",
        "document": upload("заключение.pdf"),
    }
    values.update(overrides)
    return ExpertiseFindingData(**values)


def finding_post(**overrides) -> dict:
    data = {f"finding-{k}": v for k, v in vars(finding()).items()}
    data["finding-issued_on"] = "02.03.2026"
    data["finding-document"] = upload("заключение.pdf")
    data.update(overrides)
    return data


@pytest.fixture
def expertise() -> AnnulmentReason:
    return AnnulmentReason.objects.get(code=AnnulmentReason.STATE_EXPERTISE)


@pytest.fixture
def expert(db):
    return published_certificate("2025-00080", "Иванов", "Иван", "Иванович", issued_on=date(2025, 3, 1))


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_an_annulment_on_a_state_expertise_stores_the_conclusion_with_the_request(expert, olga, expertise):
    annulment = annulment_request(certificate=expert, by=olga, reason=expertise, finding=finding())
    record = ExpertiseFinding.objects.get(annulment=annulment)
    assert (record.authority, record.region, record.number, record.issued_on) == (
        "Департамент по труду и социальной защите населения Костромской области",
        "Костромская область",
        "44-ГЭ",
        date(2026, 3, 2),
    )
    assert record.employer == "ООО «Северный завод»" and record.experts.startswith("Сидоров Семён Петрович")
    with record.document.open("rb") as fh:
        assert fh.read() == PDF_BYTES
    assert annulment.basis == PUBLIC  # what the registry will publish
    event = AuditEvent.objects.get(verb="annulment_request")
    assert event.data["finding_document_sha256"] and event.reason == PUBLIC


@pytest.mark.postgres  # SQLite does not hold a text to its column's length
def test_the_conclusion_is_stored_with_the_request_or_not_at_all(expert, olga, expertise):
    with pytest.raises(DataError):  # the finding's row fails after the annulment's row was written
        annulment_request(certificate=expert, by=olga, reason=expertise, finding=finding(region="ы" * 101))
    assert not Annulment.objects.exists() and not ExpertiseFinding.objects.exists()
    assert stored_files() == []  # the copy written in the transaction went with it


def test_the_state_expertise_reason_needs_its_conclusion_and_refuses_it_otherwise(expert, olga, expertise):
    court = AnnulmentReason.objects.get(code="court")
    with pytest.raises(DomainError) as err:
        annulment_request(certificate=expert, by=olga, reason=expertise, basis="Заключение № 1")
    assert "finding" in err.value.fields
    with pytest.raises(DomainError) as err:
        annulment_request(certificate=expert, by=olga, reason=court, basis="Решение суда № 1", finding=finding())
    assert "reason" in err.value.fields
    with pytest.raises(DomainError) as err:
        annulment_request(certificate=expert, by=olga, reason=expertise, basis="Заключение № 1", finding=finding())
    assert err.value.message == "При этом основании реквизиты составляются из сведений заключения."
    with pytest.raises(DomainError) as err:
        annulment_request(certificate=expert, by=olga, reason=expertise, finding=finding(issued_on=date(2025, 2, 28)))
    assert err.value.fields == {
        "finding-issued_on": ["Дата заключения не может быть раньше выдачи сертификата (01.03.2025)."]
    }
    with pytest.raises(DomainError) as err:
        annulment_request(
            certificate=expert,
            by=olga,
            reason=expertise,
            finding=finding(document=upload("заключение.pdf", b"MZ\x90\x00 not a pdf")),
        )
    assert "finding-document" in err.value.fields
    assert not Annulment.objects.exists() and stored_files() == []


def test_the_form_asks_for_the_conclusion_only_on_the_state_expertise_reason(db, expertise):
    court = AnnulmentReason.objects.get(code="court")
    assert AnnulmentRequestForm({"reason": court.pk, "basis": "Решение суда № 1"}).is_valid()
    form = AnnulmentRequestForm({"reason": expertise.pk}, {})
    assert not form.is_valid() and form.errors["__all__"] == ["Заполните поле «Орган, проводивший экспертизу»."]
    data = finding_post()
    files = {"finding-document": data.pop("finding-document")}
    form = AnnulmentRequestForm({"reason": expertise.pk, **data, "finding-issued_on": "02.03.2099"}, files)
    assert not form.is_valid()
    assert form.errors["__all__"] == ["Поле «Дата заключения»: Дата не может быть в будущем."]
    form = AnnulmentRequestForm({"reason": expertise.pk, **data}, files)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["finding"]["number"] == "44-ГЭ" and form.cleaned_data["basis"] == ""


def test_the_officer_files_the_conclusion_and_the_signatory_sees_it_all_and_opens_its_copy(
    expert, olga, sergey, expertise, alice
):
    url = f"/staff/certificates/{expert.pk}/"
    response = client_for(olga).post(f"{url}annul/", {"reason": expertise.pk, **finding_post()}, follow=True)
    assert "направлено на подтверждение" in response.content.decode()
    annulment = Annulment.objects.get()
    page = client_for(sergey).get(url).content.decode()
    section = page[page.index(f'data-finding="{annulment.pk}"') :]
    for text in ("44-ГЭ", "02.03.2026", *PRIVATE):
        assert text in section, text
    assert f'href="?annulment_finding={annulment.pk}"' in section
    download = client_for(sergey).get(url, {"annulment_finding": annulment.pk})
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert AuditEvent.objects.filter(verb="annulment_finding_view", actor=sergey).exists()
    assert client_for(alice).get(url, {"annulment_finding": annulment.pk}).status_code == 404
    court = annulment_request(
        certificate=published_certificate("2025-00081", "Петров", "Пётр"),
        by=olga,
        reason=AnnulmentReason.objects.get(code="court"),
        basis="Решение суда № 7",
    )
    other_url = f"/staff/certificates/{court.certificate_id}/"
    assert client_for(sergey).get(other_url, {"annulment_finding": court.pk}).status_code == 404  # it has none
    client_for(sergey).post(f"/staff/annulments/{annulment.pk}/confirm/")
    assert f'data-finding="{annulment.pk}"' in client_for(sergey).get(url).content.decode()


def test_the_browser_does_not_ask_for_the_conclusion_on_another_reason(expert, olga):
    page = client_for(olga).get(f"/staff/certificates/{expert.pk}/").content.decode()
    start = page.index('id="annul-finding"')
    form = page[start : page.index("</fieldset>", start)]
    assert 'name="finding-number"' in form and "required" not in form


def test_the_page_refuses_a_conclusion_with_a_field_missing_and_saves_nothing(expert, olga, expertise):
    response = client_for(olga).post(
        f"/staff/certificates/{expert.pk}/annul/",
        {"reason": expertise.pk, **finding_post(**{"finding-number": ""})},
        follow=True,
    )
    assert "Заполните поле «Номер заключения»." in response.content.decode()
    assert not Annulment.objects.exists() and stored_files() == []


def test_the_public_history_shows_the_authority_number_and_date_of_the_conclusion_only(expert, olga, sergey, expertise):
    annulment = annulment_request(certificate=expert, by=olga, reason=expertise, finding=finding())
    annulment_confirm(annulment=annulment, by=sergey)
    expert.refresh_from_db()
    assert expert.history.get(kind="annulled").detail == f"{expertise.title}. {PUBLIC}"
    assert selectors.certificate_verified_status(expert) == "annulled"  # the record is signed anew
    assert PUBLIC in selectors.certificate_record(expert)["annulment_reason"]
    page = Client().get(f"/registry/certificates/{expert.number}/").content.decode()
    history = page[page.index('data-history="annulled"') :]
    assert PUBLIC in history
    body = Client().get(f"/api/v1/registry/certificates/{expert.number}/").json()
    [annulled] = [h for h in body["history"] if h["kind"] == "annulled"]
    assert PUBLIC in annulled["detail"]
    for private in PRIVATE:
        assert private not in page and private not in str(body), private
