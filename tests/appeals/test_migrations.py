"""The migration that makes one appeal per attempt a database rule runs on a database that already
holds duplicates from a double submission."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from appeals import services
from appeals.models import Appeal
from core.models import AuditEvent, Deadline
from tests.conftest import pass_the_test

MIGRATION = import_module("appeals.migrations.0003_one_appeal_per_attempt")
pytestmark = pytest.mark.postgres  # the schema editor inside a test transaction

CONSTRAINT = next(c for c in Appeal._meta.constraints if c.name == "one_appeal_per_attempt")


@pytest.fixture
def duplicated(exam_setup, sergey, alice):
    """Alice's appeal on her failed attempt and two copies of it, as before the rule."""
    from registry.services import attestation_decision_draft, attestation_decision_sign

    attempt = pass_the_test(exam_setup["credential"], correct=30)
    attestation_decision_sign(decision=attestation_decision_draft(attempt=attempt), by=sergey)
    appeal = services.appeal_file(attempt=attempt, candidate=alice, reasons="Вопрос 7 сформулирован неоднозначно.")
    with connection.schema_editor() as editor:
        if connection.vendor == "postgresql":
            editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the rows above are checked now
        editor.remove_constraint(Appeal, CONSTRAINT)
    copies = []
    for n in (2, 3):
        copy = Appeal.objects.get(pk=appeal.pk)
        copy.pk, copy.number = None, f"{appeal.number}-{n}"
        copy.save()
        copies.append(copy)
    return appeal, copies


def _migrate():
    with connection.schema_editor() as editor:
        MIGRATION.merge_duplicates(apps, editor)
        editor.add_constraint(Appeal, CONSTRAINT)


def test_untouched_copies_are_removed_and_the_kept_appeal_says_so(duplicated):
    appeal, copies = duplicated
    Deadline.objects.create(
        case_type=ContentType.objects.get_for_model(Appeal),
        case_id=copies[0].pk,
        kind="appeal.decision",
        role="appeals_chair",
        started_on=appeal.registered_on,
        due_on=appeal.due_on,
    )
    _migrate()
    assert list(Appeal.objects.values_list("pk", flat=True)) == [appeal.pk]
    assert not Deadline.objects.filter(case_id__in=[c.pk for c in copies], kind__startswith="appeal")
    event = AuditEvent.objects.get(verb="appeal_duplicates_removed")
    assert event.case_id == appeal.pk and event.data == {"removed": [c.number for c in copies]}


def test_the_copy_the_commission_worked_on_is_the_one_kept(duplicated):
    _appeal, copies = duplicated
    Appeal.objects.filter(pk=copies[1].pk).update(status="under_consideration")
    _migrate()
    assert list(Appeal.objects.values_list("pk", flat=True)) == [copies[1].pk]


def test_two_copies_that_both_went_forward_stop_the_migration_with_their_numbers(duplicated):
    appeal, copies = duplicated
    Appeal.objects.filter(pk__in=[appeal.pk, copies[0].pk]).update(status="under_consideration")
    with pytest.raises(RuntimeError) as stopped, connection.schema_editor() as editor:
        MIGRATION.merge_duplicates(apps, editor)
    assert appeal.number in str(stopped.value) and copies[0].number in str(stopped.value)
