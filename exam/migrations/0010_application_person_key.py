"""Who the person is across their applications (exam.admission.services.persons): the person key and the
identity digest, filled for the applications already there. An applicant on paper without an
account joins the account holder with the same identity document and name, or the other paper
applications with them."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    from exam.admission.services.persons import identity_key  # a pure function of the application's fields

    Application = apps.get_model("exam", "Application")
    accounts: dict[str, str] = {}
    rows = list(Application.objects.order_by("pk"))
    for row in rows:
        row.identity_key = identity_key(row)
        if row.candidate_id:
            row.person_key = f"user:{row.candidate_id}"
            if row.identity_key:
                accounts.setdefault(row.identity_key, row.person_key)
    for row in rows:
        if not row.candidate_id:
            if row.identity_key:
                row.person_key = accounts.get(row.identity_key, "doc:" + row.identity_key[:32])
            else:
                row.person_key = f"app:{uuid.uuid4().hex}"
    Application.objects.bulk_update(rows, ["person_key", "identity_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("exam", "0009_outgoing_numbers")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="person_key",
            field=models.CharField(db_index=True, default="", editable=False, max_length=80),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="application",
            name="identity_key",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
