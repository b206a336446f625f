"""The trigram index of the registry search (PostgreSQL) and the initial reference lists."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

AREAS = [
    ("01", "Проведение специальной оценки условий труда: идентификация потенциально вредных и (или) опасных производственных факторов"),
    ("02", "Исследования (испытания) и измерения физических факторов (шум, вибрация, микроклимат, световая среда, излучения)"),
    ("03", "Исследования (испытания) и измерения химического и биологического факторов, аэрозолей"),
    ("04", "Оценка тяжести и напряжённости трудового процесса"),
    ("05", "Общая гигиена, гигиена труда, санитарно-гигиенические лабораторные исследования"),
]
REASONS = [
    ("court", "Вступившее в законную силу решение суда"),
    ("false_documents", "Выявлены подложные документы или заведомо ложные сведения, представленные при аттестации"),
    ("state_expertise", "Заключение государственной экспертизы условий труда о нарушениях при проведении СОУТ"),
    ("expert_request", "Заявление эксперта об аннулировании сертификата"),
    ("death", "Смерть эксперта"),
]


def seed(apps, schema_editor):
    Area = apps.get_model("registry", "AreaOfActivity")
    Reason = apps.get_model("registry", "AnnulmentReason")
    for code, title in AREAS:
        Area.objects.get_or_create(code=code, defaults={"title": title})
    for code, title in REASONS:
        Reason.objects.get_or_create(code=code, defaults={"title": title})


def index_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS registry_certificate_search_trgm "
            "ON registry_certificate USING gin (search_name gin_trgm_ops)"
        )


def index_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS registry_certificate_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(index_forward, index_backward),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
