"""The answer save updates a row of exam_attemptitem a hundred times a second in a sitting. With
free space left on each page (fillfactor) PostgreSQL updates the row in place (a HOT update: no new
index entries, since no indexed column changes); and the index on attempt_id alone duplicated the
prefix of the unique (attempt_id, position)."""

from django.db import migrations, models
import django.db.models.deletion

FILLFACTOR = 60


def fillfactor_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE exam_attemptitem SET (fillfactor = {FILLFACTOR})")


def fillfactor_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE exam_attemptitem RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("exam", "0004_item_option_count"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attemptitem",
            name="attempt",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="exam.attempt",
            ),
        ),
        migrations.RunPython(fillfactor_forward, fillfactor_backward),
    ]
