"""Files stored with their case: a file lives only if the transaction that saves its row commits.

``file_store`` writes the file at once (the rest of the transaction may read it, a signature may
hash it) and ties it to the transaction: when the transaction, or the savepoint it was written in,
rolls back, Django drops the transaction's on-commit callbacks, and with ours the file is deleted.
A failed form, a refused second file, an error after the write: no file is left behind.

What still escapes — a process killed between the write and the rollback, a file written before this
rule — is found by ``orphan_files_sweep`` (daily, core.tasks.orphan_files_sweep): files under
MEDIA_ROOT that no FileField row names, older than a day. A file named by a row is never deleted,
whatever the row's state (the documents of a signed submission are rows of Attachment.all_objects,
kept even when detached from the draft); a file younger than a day may belong to a transaction still
running and is left alone.

A file kept only for a time (the documents of a complaint held until its sender confirms it) is
named by its row while it may still be needed, so the sweeper leaves it; the app that keeps it
deletes the rows whose time is up with a task of its own, and their files with them
(``file_delete_on_commit``), so that the sweeper never reports them.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields.files import FieldFile

log = logging.getLogger(__name__)


@dataclass
class _Outcome:
    committed: bool = False


class _KeepOnCommit:
    """The on-commit callback of a stored file: run on commit, it keeps the file. Only Django's list
    of on-commit callbacks holds it; a rollback empties that list (a savepoint's rollback removes
    the callbacks registered inside it), and the finaliser then deletes the file."""

    __slots__ = ("__weakref__", "outcome")

    def __init__(self, outcome: _Outcome) -> None:
        self.outcome = outcome

    def __call__(self) -> None:
        self.outcome.committed = True


def _discard_unless_committed(storage: Storage, name: str, outcome: _Outcome, connection: BaseDatabaseWrapper) -> None:
    if outcome.committed:
        return
    # Django drops the callbacks inside a transaction's rollback (autocommit still off, or a
    # savepoint of an atomic block still open). Dropped outside one, the transaction committed and
    # an earlier on-commit callback raised, which skips the later ones: the row exists, keep the file.
    if not (connection.in_atomic_block or not connection.autocommit):
        log.warning("kept %s: its transaction committed but its on-commit callback did not run", name)
        return
    try:
        storage.delete(name)
    except OSError:  # the orphan sweeper will find it
        log.warning("could not delete %s after its transaction rolled back", name, exc_info=True)
    else:
        log.debug("deleted %s: its transaction rolled back", name)


def file_store(*, file: FieldFile, name: str, content: bytes, using: str | None = None) -> None:
    """Write ``content`` as the file of ``file`` (its name made from ``name`` by the field's
    upload_to); the caller saves the row in the same transaction. The file is deleted if that
    transaction, or the savepoint it is written in, rolls back. Must run inside a transaction."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        raise RuntimeError("file_store must run inside the transaction that saves the file's row")
    file.save(name, ContentFile(content), save=False)
    outcome = _Outcome()
    keep = _KeepOnCommit(outcome)
    weakref.finalize(keep, _discard_unless_committed, file.storage, str(file.name), outcome, connection)
    transaction.on_commit(keep, using=using, robust=True)


def file_delete_on_commit(*, file: FieldFile, using: str | None = None) -> None:
    """Delete the file of a row that the current transaction deletes, once that transaction commits
    (a rollback keeps the row, and so the file). A deletion that fails is logged and the orphan
    sweeper finds the file. Must run inside that transaction."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        raise RuntimeError("file_delete_on_commit must run inside the transaction that deletes the file's row")
    storage, name = file.storage, str(file.name)

    def delete() -> None:
        try:
            storage.delete(name)
        except OSError:  # the orphan sweeper will find it
            log.warning("could not delete %s after its row was deleted", name, exc_info=True)

    transaction.on_commit(delete, using=using, robust=True)


# --- The orphan sweeper ------------------------------------------------------------------------------


@dataclass
class SweepReport:
    deleted: list[str] = field(default_factory=list)
    bytes: int = 0
    kept_young: int = 0
    failed: list[str] = field(default_factory=list)


def _file_fields() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                yield model, model_field.name


def referenced_names() -> set[str]:
    """Every file name a FileField row holds, whatever the row's state (the base manager: a
    manager that hides rows, as Attachment.objects hides detached documents, hides no file here)."""
    names: set[str] = set()
    for model, name in _file_fields():
        rows = model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
        names.update(rows.values_list(name, flat=True).iterator(chunk_size=5000))
    return names


def upload_folders() -> set[str]:
    """The folders of MEDIA_ROOT the FileFields write into (the first part of the name each
    field's upload_to gives): the sweeper looks there only, never at other files in MEDIA_ROOT."""
    folders: set[str] = set()
    for model, name in _file_fields():
        try:
            probe = model._meta.get_field(name).generate_filename(model(), "probe")  # type: ignore[union-attr]
        except Exception:  # an upload_to that needs a real row: its files are never swept
            log.warning("orphan sweep: cannot tell the folder of %s.%s", model.__name__, name)
            continue
        folder, slash, _rest = probe.partition("/")
        if slash and folder not in ("", ".", ".."):
            folders.add(folder)
    return folders


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(storage name, path) of every regular file in the upload folders under ``root``; symbolic
    links are not followed."""
    for folder in sorted(upload_folders()):
        for directory, _dirs, files in os.walk(root / folder):
            for filename in files:
                path = Path(directory) / filename
                if path.is_file() and not path.is_symlink():
                    yield path.relative_to(root).as_posix(), path


def orphan_files_sweep(*, older_than: timedelta = timedelta(days=1)) -> SweepReport:
    """Delete the files in the upload folders of MEDIA_ROOT that no row names and that are older
    than ``older_than`` (by their modification time). The old files are listed before the rows are
    read, so a row committed in between still protects its file. Each deletion is logged."""
    root = Path(settings.MEDIA_ROOT)
    report = SweepReport()
    if not root.is_dir():
        return report
    cutoff = time.time() - older_than.total_seconds()
    old: list[tuple[str, Path, int]] = []
    for name, path in _media_files(root):
        stat = path.stat()
        if stat.st_mtime < cutoff:
            old.append((name, path, stat.st_size))
        else:
            report.kept_young += 1
    if not old:
        return report
    referenced = referenced_names()
    for name, path, size in old:
        if name in referenced:
            continue
        try:
            path.unlink()
        except OSError:
            log.warning("orphan file %s could not be deleted", name, exc_info=True)
            report.failed.append(name)
            continue
        log.warning("deleted orphan file %s (%d bytes): no row names it", name, size)
        report.deleted.append(name)
        report.bytes += size
        _remove_empty_parents(path.parent, root)
    return report


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()  # only when empty
        except OSError:
            return
        directory = directory.parent


def orphan_files_clean_up() -> dict[str, Any]:
    """The daily job: sweep the orphan files and, when something was deleted or could not be, tell
    the superusers (cabinet and e-mail) which files. Returns the counts."""
    from django.utils.translation import gettext as _

    from core.models import User
    from core.services import notification_send

    report = orphan_files_sweep()
    summary = {"deleted": len(report.deleted), "bytes": report.bytes, "failed": len(report.failed)}
    log.info("orphan files: %s", summary)
    if not report.deleted and not report.failed:
        return summary

    def body() -> str:
        lines = [_("Удалены файлы, на которые не ссылается ни одна запись (старше суток):")]
        lines += [f"— {name}" for name in report.deleted[:200]]
        if report.failed:
            lines.append(_("Не удалось удалить:"))
            lines += [f"— {name}" for name in report.failed[:200]]
        return "\n".join(lines)

    def subject() -> str:
        return _("Файлы без владельца: удалено %(n)d, не удалось удалить %(f)d") % {
            "n": len(report.deleted),
            "f": len(report.failed),
        }

    with transaction.atomic():
        for superuser in User.objects.filter(is_superuser=True, is_active=True):
            notification_send(recipient=superuser, subject=subject, body=body)
    return summary
