from django.db import migrations


def forward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="appeals_chair")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_notification_subject_label")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
