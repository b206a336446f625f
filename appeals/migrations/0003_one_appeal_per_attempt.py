"""One appeal per attempt, backed by the database. A database from before the rule may hold
duplicates made by a double submission: the appeal the commission worked on (or else the first one)
stays; the untouched copies (registered, no votes) are removed with their terms, and the kept
appeal's audit trail says which. Two copies that both went forward cannot be merged by a machine:
the migration stops and names them."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count
from django.utils import timezone


def _progressed(appeal) -> bool:
    return appeal.status != "registered" or appeal.votes.exists()


def merge_duplicates(apps, schema_editor):
    Appeal = apps.get_model("appeals", "Appeal")
    AuditEvent = apps.get_model("core", "AuditEvent")
    Deadline = apps.get_model("core", "Deadline")
    ContentType = apps.get_model("contenttypes", "ContentType")
    attempts = Appeal.objects.values("attempt_id").annotate(n=Count("pk")).filter(n__gt=1)
    if not attempts:
        return
    appeal_type, _created = ContentType.objects.get_or_create(app_label="appeals", model="appeal")
    if schema_editor.connection.vendor == "postgresql":
        # Checks of foreign keys fire now, not at the commit: PostgreSQL refuses to alter a table
        # with pending trigger events, and the constraint is added next in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for row in attempts:
        copies = list(Appeal.objects.filter(attempt_id=row["attempt_id"]).order_by("pk"))
        progressed = [a for a in copies if _progressed(a)]
        if len(progressed) > 1:
            numbers = ", ".join(a.number for a in progressed)
            raise RuntimeError(
                f"Appeals {numbers} were filed on one attempt and each went forward: merge them by hand "
                "(keep one, withdraw the others), then migrate again."
            )
        kept = progressed[0] if progressed else copies[0]
        removed = [a for a in copies if a.pk != kept.pk]
        Deadline.objects.filter(case_type=appeal_type, case_id__in=[a.pk for a in removed]).delete()
        AuditEvent.objects.create(
            at=timezone.now(),
            actor_label="Система",
            action="event",
            verb="appeal_duplicates_removed",
            case_type=appeal_type,
            case_id=kept.pk,
            case_label=f"Апелляция {kept.number}"[:255],
            reason="Повторная подача той же апелляции (двойная отправка формы): копии удалены.",
            data={"removed": [a.number for a in removed]},
        )
        for appeal in removed:
            appeal.delete()  # its attachments go with it; their files are left to the orphan sweeper


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0002_complaint_answer_signature_dispatch"),
        ("exam", "0007_letter_dispatch"),
        ("core", "0003_notification_subject_label"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="appeal",
            constraint=models.UniqueConstraint(fields=("attempt",), name="one_appeal_per_attempt"),
        ),
    ]
