"""The signed record of an annulled certificate carries the reason's title as it stood at the
annulment: staff editing the reference list later change neither what the registry says about that
certificate nor whether its record verifies."""

import importlib

from django.apps import apps
from django.test import Client

from registry import selectors
from registry.models import AnnulmentReason, Certificate, CertificateHistory
from registry.services import annulment_confirm, annulment_request
from tests.conftest import verified_client_for

COURT = "Вступившее в законную силу решение суда"


def annul(certificate, olga, sergey, *, basis: str = "Решение № 1") -> Certificate:
    reason = AnnulmentReason.objects.get(code="court")
    annulment = annulment_request(certificate=certificate, by=olga, reason=reason, basis=basis)
    annulment_confirm(annulment=annulment, by=sergey)
    return Certificate.objects.get(pk=certificate.pk)


def edit_reason_in_the_admin(title: str) -> None:
    from core.models import User

    root = User.objects.create_superuser("root@mintrud.test", "correct-horse-battery-9", last_name="Root")
    reason = AnnulmentReason.objects.get(code="court")
    response = verified_client_for(root).post(
        f"/admin/registry/annulmentreason/{reason.pk}/change/", {"code": reason.code, "title": title, "active": "on"}
    )
    assert response.status_code == 302, response.content[:500]
    assert AnnulmentReason.objects.get(pk=reason.pk).title == title


def test_editing_the_reason_in_the_admin_leaves_an_annulled_certificate_verifiable(certificate, olga, sergey):
    original = AnnulmentReason.objects.get(code="court").title
    annulled = annul(certificate, olga, sergey)
    edit_reason_in_the_admin("Решение суда (новая редакция)")
    data = Client().get(f"/api/v1/registry/certificates/{annulled.number}/").json()
    assert data["record_valid"] is True and data["status"] == "annulled"
    assert data["annulment_reason"] == f"{original}. Решение № 1"
    page = Client().get(annulled.public_url()).content.decode()
    assert "Сертификат аннулирован" in page and original in page
    assert "новая редакция" not in page


def test_the_signed_record_keeps_the_title_the_reason_had_at_the_annulment(certificate, olga, sergey):
    annul(certificate, olga, sergey)
    edit_reason_in_the_admin("Решение суда (новая редакция)")
    record = selectors.certificate_record(Certificate.objects.get(pk=certificate.pk))
    assert record["annulment_reason"].startswith(COURT)


def run_title_migration() -> None:
    migration = importlib.import_module("registry.migrations.0008_annulment_reason_title_copy")
    migration.copy_titles(apps, None)


def test_records_signed_before_the_title_was_copied_still_verify_after_the_migration(certificate, olga, sergey):
    annulled = annul(certificate, olga, sergey)
    # Before the migration: no copy, and staff had already edited the reason in the admin.
    Certificate.objects.filter(pk=annulled.pk).update(annulment_reason_title="")
    AnnulmentReason.objects.filter(code="court").update(title="Решение суда (новая редакция)")
    run_title_migration()
    migrated = Certificate.objects.get(pk=annulled.pk)
    assert migrated.annulment_reason_title.startswith(COURT)
    assert selectors.certificate_verified_status(migrated) == "annulled"
    assert Client().get(f"/api/v1/registry/certificates/{migrated.number}/").json()["record_valid"] is True


def test_the_migration_takes_the_reason_list_title_when_the_history_does_not_name_it(certificate, olga, sergey):
    annulled = annul(certificate, olga, sergey)
    Certificate.objects.filter(pk=annulled.pk).update(annulment_reason_title="")
    CertificateHistory.objects.filter(certificate=annulled, kind="annulled").update(detail="")
    run_title_migration()
    migrated = Certificate.objects.get(pk=annulled.pk)
    assert migrated.annulment_reason_title.startswith(COURT)
    assert selectors.certificate_verified_status(migrated) == "annulled"
