"""A file is stored only when its case is saved (core.files): a refused form or a rolled-back
transaction leaves no file behind, and the daily sweeper removes old files no row names while
keeping every referenced one and every young one."""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import TestCase
from django.urls import reverse

from appeals import services as appeals
from appeals.models import Complaint, ComplaintAttachment
from core.errors import DomainError
from core.idempotency import new_token
from core.models import Notification
from exam.admission import services
from exam.models import Attachment
from registry.models import Annulment, AnnulmentReason
from tests.conftest import (
    PDF_BYTES,
    client_for,
    complaint_data,
    fill_application,
    make_user,
    published_certificate,
    sign_and_submit,
    upload,
)


def media_files() -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


class Boom(Exception):
    """A failure after the service returned, inside the caller's transaction."""


def test_a_complaint_whose_second_file_is_invalid_leaves_no_file(alice):
    files = [upload("good.pdf"), upload("bad.pdf", content=b"MZ\x90\x00 not a document")]
    with pytest.raises(DomainError) as err:
        appeals.complaint_file(data=complaint_data(), channel="portal", complainant=alice, evidence=files)
    assert err.value.code == "file_type"
    assert not Complaint.objects.exists() and media_files() == []


def test_the_complaint_page_with_an_invalid_second_file_leaves_no_file(alice):
    data = {**complaint_data(), "form_token": new_token()}
    data["evidence"] = [upload("good.pdf"), upload("bad.pdf", content=b"not a pdf")]
    page = client_for(alice).post(reverse("frontend:complaint_new"), data).content.decode()
    assert "не является документом PDF, JPEG или PNG" in page
    assert media_files() == []


def test_a_complaint_that_fails_after_its_files_are_written_takes_them_with_it(alice):
    """The power of attorney is refused after the evidence was written (its own call of _store)."""
    with pytest.raises(DomainError):
        appeals.complaint_file(
            data=complaint_data(),
            channel="portal",
            complainant=alice,
            evidence=[upload("good.pdf")],
            power_of_attorney=[upload("poa.pdf", content=b"GIF89a nonsense")],
        )
    assert media_files() == []


def test_stored_complaint_files_stay(alice):
    complaint = appeals.complaint_file(
        data=complaint_data(), channel="portal", complainant=alice, evidence=[upload("a.pdf"), upload("b.pdf")]
    )
    stored = [Path(a.file.path) for a in complaint.attachments.all()]
    assert len(stored) == 2 and media_files() == sorted(stored)
    assert stored[0].read_bytes() == PDF_BYTES


def test_a_rolled_back_application_attachment_leaves_no_file(alice):
    application = services.application_start(candidate=alice)
    with pytest.raises(Boom), transaction.atomic():
        services.attachment_add(application=application, by=alice, kind="experience", upload=upload())
        assert len(media_files()) == 1  # readable within the transaction
        raise Boom
    assert not Attachment.all_objects.exists() and media_files() == []
    kept = services.attachment_add(application=application, by=alice, kind="experience", upload=upload())
    assert media_files() == [Path(kept.file.path)]


def test_a_rolled_back_annulment_leaves_no_basis_file(db):
    officer = make_user("olga@mintrud.test", last="Сертификатова", first="Ольга", roles=("certificate_officer",))
    certificate = published_certificate("2025-00001", "Иванов", "Иван")
    from registry.services import annulment_request

    reason = AnnulmentReason.objects.get(code="court")
    with pytest.raises(Boom), transaction.atomic():
        annulment_request(certificate=certificate, by=officer, reason=reason, basis="Решение", basis_file=upload())
        raise Boom
    assert not Annulment.objects.exists() and media_files() == []


def test_a_rolled_back_complaint_answer_leaves_no_pdf(alice, hanna):
    complaint = appeals.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    complaint = appeals.complaint_decide(
        complaint=complaint, by=hanna, outcome="refuse", refusal_ground="unfounded", text="Нет.", handler_position="Зам"
    )
    with pytest.raises(Boom), transaction.atomic():
        appeals.complaint_answer(complaint=complaint)
        assert len(media_files()) == 1
        raise Boom
    complaint.refresh_from_db()
    assert not complaint.answer_pdf and media_files() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_committed_file_survives_a_later_rollback_on_the_same_connection():
    alice = make_user("alice@example.ru", last="Алексеева", first="Алиса")
    application = services.application_start(candidate=alice)
    kept = services.attachment_add(application=application, by=alice, kind="experience", upload=upload())
    with pytest.raises(Boom), transaction.atomic():
        services.attachment_add(application=application, by=alice, kind="qualification", upload=upload())
        raise Boom
    assert media_files() == [Path(kept.file.path)]


# --- The orphan sweeper ------------------------------------------------------------------------------


def _age(path: Path, *, hours: float) -> None:
    moment = time.time() - hours * 3600
    os.utime(path, (moment, moment))


def _orphan(name: str, *, hours: float) -> Path:
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    _age(path, hours=hours)
    return path


def test_the_sweeper_deletes_an_old_orphan_keeps_a_young_one_and_every_referenced_file(alice):
    from core.tasks import orphan_files_sweep

    admin = make_user("root@mintrud.test", last="Админов", first="Админ", staff=True)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    # Referenced: the documents of a signed submission, one of them since detached from the draft.
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    services.attachment_add(application=application, by=alice, kind="higher_education", upload=upload("old.pdf"))
    sign_and_submit(application, alice)  # refused acceptance: documents missing
    detached = application.attachments.get(kind="higher_education")
    services.attachment_remove(attachment=detached, by=alice)
    assert Attachment.all_objects.get(pk=detached.pk).detached_at is not None
    complaint = appeals.complaint_file(
        data=complaint_data(), channel="portal", complainant=alice, evidence=[upload("e.pdf")]
    )
    referenced = [Path(detached.file.path), Path(complaint.attachments.get().file.path)]
    for path in referenced:
        _age(path, hours=72)
    old = _orphan("applications/999/deadbeef", hours=25)
    young = _orphan("complaints/young.pdf", hours=2)

    with TestCase.captureOnCommitCallbacks(execute=True):
        summary = orphan_files_sweep()

    assert summary == {"deleted": 1, "bytes": len(b"left behind"), "failed": 0}
    assert not old.exists() and not old.parent.exists()  # its empty folder too
    assert young.exists() and all(p.exists() for p in referenced)
    assert ComplaintAttachment.objects.filter(pk=complaint.attachments.get().pk).exists()
    note = Notification.objects.get(recipient=admin)
    assert "удалено 1" in note.subject and "applications/999/deadbeef" in note.body


def test_the_sweeper_looks_only_in_the_folders_the_uploads_go_to(db):
    from core.files import upload_folders
    from core.tasks import orphan_files_sweep

    assert {"applications", "appeals", "complaints", "notices", "decisions", "certificates"} <= upload_folders()
    stranger = _orphan("db.sqlite3", hours=100)  # a MEDIA_ROOT set to a folder that holds other files
    other = _orphan("backups/registry.key", hours=100)
    assert orphan_files_sweep()["deleted"] == 0
    assert stranger.exists() and other.exists()


def test_the_sweeper_with_nothing_to_do_tells_nobody(db):
    from core.tasks import orphan_files_sweep

    _orphan("notices/fresh.pdf", hours=1)
    assert orphan_files_sweep() == {"deleted": 0, "bytes": 0, "failed": 0}
    assert not Notification.objects.exists()


def test_the_sweeper_runs_every_night():
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["orphan-files-sweep"]
    assert entry["task"] == "core.tasks.orphan_files_sweep" and isinstance(entry["schedule"], crontab)
