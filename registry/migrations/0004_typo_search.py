"""The name search tolerates a typo by edit distance as well as by trigrams (fuzzystrmatch's
levenshtein on the dictionary of surnames, narrowed by first letter and length), and reads the
experts of a surname from an index of the published entries only (an index-only scan)."""

from django.conf import settings
from django.db import migrations, models

DICTIONARY_INDEX = "registry_surname_first_length"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {DICTIONARY_INDEX} ON registry_surname (left(word, 1), length(word))"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {DICTIONARY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_surname_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="certificate",
            name="registry_cert_surname_order",
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["search_last", "search_name", "id"],
                name="registry_cert_surname_order",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
