"""The documents of a complaint sent without a cabinet account (p.79, p.83): checked as from the
cabinet, held with the complaint until its sender follows the e-mailed link, filed as its
attachments exactly once, and deleted by an hourly task when the link expired unconfirmed."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from appeals import services
from appeals.models import Complaint, ComplaintAttachment, ComplaintConfirmation, ComplaintConfirmationFile
from core.errors import DomainError
from core.models import Notification
from tests.conftest import PDF_BYTES, complaint_data, make_user, png_bytes, upload
from tests.core.test_files import _age, media_files

VISITOR = "visitor@example.ru"
OTHER_PDF = b"%PDF-1.7\n% the second page of the evidence\n%%EOF\n"


def representative(**overrides):
    return complaint_data(
        email=VISITOR, by_representative=True, representative_name="Петров Пётр Петрович", **overrides
    )


def hold(data, **files) -> str:
    """Hold a complaint from the public form with ``files``; the secret of the link e-mailed for it."""
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_confirmation_request(data=data, ip="203.0.113.5", **files)
    found = re.search(r"/complaints/confirm/(\S+)/", mail.outbox[-1].body)
    assert found
    return found.group(1)


def confirm(token: str) -> Complaint:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.complaint_confirm(token=token)


def contents(complaint: Complaint) -> list[tuple[str, str, bytes]]:
    rows = []
    for attachment in complaint.attachments.order_by("kind", "original_name"):
        with attachment.file.open("rb") as fh:
            rows.append((attachment.kind, attachment.original_name, fh.read()))
    return rows


def test_a_representative_without_an_account_files_the_power_of_attorney_and_evidence_once_confirmed(db):
    token = hold(
        representative(),
        evidence=[upload("refusal.pdf"), upload("receipt.pdf", content=OTHER_PDF)],
        power_of_attorney=[upload("attorney.png", content=png_bytes(), content_type="image/png")],
    )
    held = ComplaintConfirmation.objects.get().files.all()
    assert sorted(f.original_name for f in held) == ["attorney.png", "receipt.pdf", "refusal.pdf"]
    assert not Complaint.objects.exists()

    complaint = confirm(token)

    assert complaint.by_representative and complaint.representative_name == "Петров Пётр Петрович"
    assert contents(complaint) == [
        ("evidence", "receipt.pdf", OTHER_PDF),
        ("evidence", "refusal.pdf", PDF_BYTES),
        ("power_of_attorney", "attorney.png", png_bytes()),
    ]
    # As the cabinet stores them; the held copies are gone with their rows.
    assert all(
        a.file.name.startswith("complaints/") and "/held/" not in a.file.name for a in complaint.attachments.all()
    )
    assert not ComplaintConfirmationFile.objects.exists()
    assert media_files() == sorted(Path(a.file.path) for a in complaint.attachments.all())


def test_a_second_confirmation_does_not_attach_the_documents_again(db):
    token = hold(representative(), evidence=[upload("refusal.pdf")], power_of_attorney=[upload("attorney.pdf")])
    first = confirm(token)
    again = confirm(token)
    assert again == first and Complaint.objects.count() == 1
    assert ComplaintAttachment.objects.count() == 2 and len(media_files()) == 2


WRONG_TYPE = b"MZ\x90\x00 a renamed program"


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"evidence": [upload("scan.pdf", content=WRONG_TYPE)]}, "file_type"),
        # The evidence is good, the power of attorney (checked after it) is not: neither is kept.
        (
            {"evidence": [upload("refusal.pdf")], "power_of_attorney": [upload("a.pdf", content=WRONG_TYPE)]},
            "file_type",
        ),
        (
            {"evidence": [upload("big.pdf", content=b"%PDF-1.4\n" + b"0" * 1024 * 1024 + b"\n%%EOF\n")]},
            "file_too_large",
        ),
    ],
    ids=["wrong type", "second file wrong", "too large"],
)
def test_a_refused_file_holds_no_complaint_and_stores_no_file(db, settings, files, code):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    mail.outbox.clear()
    with pytest.raises(DomainError) as refused:
        services.complaint_confirmation_request(data=complaint_data(email=VISITOR), **files)
    assert refused.value.code == code and refused.value.fields
    assert not ComplaintConfirmation.objects.exists() and media_files() == [] and not mail.outbox


def test_more_files_than_the_cabinet_takes_are_refused(db):
    with pytest.raises(DomainError) as refused:
        services.complaint_confirmation_request(
            data=complaint_data(email=VISITOR),
            evidence=[upload(f"{n}.pdf") for n in range(services.MAX_FILES + 1)],
        )
    assert "files" in refused.value.fields
    assert not ComplaintConfirmation.objects.exists() and media_files() == []


def test_a_representative_without_a_power_of_attorney_is_refused_before_anything_is_held(db):
    with pytest.raises(DomainError) as refused:
        services.complaint_confirmation_request(data=representative(), evidence=[upload("refusal.pdf")])
    assert "power_of_attorney" in refused.value.fields
    assert not ComplaintConfirmation.objects.exists() and media_files() == []


def test_the_flood_limit_refuses_before_any_file_is_stored(db, settings):
    settings.COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR = 1
    hold(complaint_data(email=VISITOR), evidence=[upload("refusal.pdf")])
    with pytest.raises(DomainError) as refused:
        services.complaint_confirmation_request(data=complaint_data(email=VISITOR), evidence=[upload("again.pdf")])
    assert refused.value.status == 429
    assert ComplaintConfirmationFile.objects.get().original_name == "refusal.pdf" and len(media_files()) == 1


def test_the_files_of_an_expired_held_complaint_are_removed_by_the_hourly_release(db):
    from appeals.tasks import complaint_confirmation_files_release
    from core.tasks import orphan_files_sweep

    expiring = hold(representative(), evidence=[upload("refusal.pdf")], power_of_attorney=[upload("attorney.pdf")])
    expiring_paths = [Path(f.file.path) for f in ComplaintConfirmationFile.objects.all()]
    later = ComplaintConfirmation.objects.get().expires_at + timedelta(minutes=1)
    # While the link can still file them, their rows name them: the nightly sweep keeps even old ones.
    for path in expiring_paths:
        _age(path, hours=72)
    with TestCase.captureOnCommitCallbacks(execute=True):
        complaint_confirmation_files_release()
        orphan_files_sweep()
    assert all(path.exists() for path in expiring_paths)
    with time_machine.travel(later - timedelta(hours=1), tick=False):
        fresh = hold(complaint_data(email="second@example.ru"), evidence=[upload("fresh.pdf", content=OTHER_PDF)])
    fresh_confirmation = ComplaintConfirmation.objects.get(email="second@example.ru")

    with time_machine.travel(later, tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):
            complaint_confirmation_files_release()
            orphan_files_sweep()
        with pytest.raises(DomainError):
            services.complaint_confirm(token=expiring)

    assert not any(path.exists() for path in expiring_paths)
    assert list(ComplaintConfirmationFile.objects.values_list("confirmation", flat=True)) == [fresh_confirmation.pk]
    assert ComplaintConfirmation.objects.count() == 2  # the held complaints themselves stay, expired
    # The one still within its term is filed with its document.
    assert contents(confirm(fresh)) == [("evidence", "fresh.pdf", OTHER_PDF)]
    assert media_files() == [Path(ComplaintAttachment.objects.get().file.path)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_released_files_of_an_expired_held_complaint_are_not_reported_as_orphans():
    """Released in a transaction of their own (committed here for real): the superusers hear only
    of files nobody meant to leave."""
    from appeals.tasks import complaint_confirmation_files_release
    from core.tasks import orphan_files_sweep

    admin = make_user("root@mintrud.test", last="Админов", first="Админ", staff=True)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    services.complaint_confirmation_request(data=complaint_data(email=VISITOR), evidence=[upload("refusal.pdf")])
    held = ComplaintConfirmationFile.objects.get()
    path = Path(held.file.path)
    _age(path, hours=72)
    with time_machine.travel(held.confirmation.expires_at + timedelta(minutes=1), tick=False):
        assert complaint_confirmation_files_release() == 1
        summary = orphan_files_sweep()
    assert not path.exists() and not ComplaintConfirmationFile.objects.exists()
    assert summary["deleted"] == 0 and not Notification.objects.filter(recipient=admin).exists()
