"""The title of the annulment reason is copied into the certificate's row, so that the signed record
depends only on frozen data (an edit of the reference list in the admin broke every annulled record).

The title is the one the record was signed with: the annulment's history entry, written in the same
transaction as the signature, reads "<title>. <basis>"; the reference list's current title is taken
only when the history does not name it. So a record whose reason was edited before this migration
verifies again."""

from typing import Any

from django.db import migrations, models


def _title_at_annulment(certificate: Any, history: Any) -> str:
    suffix = f". {certificate.annulment_basis}"
    entry = (
        history.objects.filter(certificate_id=certificate.pk, kind="annulled", detail__endswith=suffix)
        .order_by("-at", "-id")
        .values_list("detail", flat=True)
        .first()
    )
    if entry and len(entry) > len(suffix):
        return entry[: -len(suffix)][:300]
    return certificate.annulment_reason.title


def copy_titles(apps: Any, schema_editor: Any) -> None:
    Certificate = apps.get_model("registry", "Certificate")
    history = apps.get_model("registry", "CertificateHistory")
    annulled = Certificate.objects.filter(annulment_reason__isnull=False, annulment_reason_title="")
    for certificate in annulled.select_related("annulment_reason").iterator(chunk_size=1000):
        certificate.annulment_reason_title = _title_at_annulment(certificate, history)
        certificate.save(update_fields=["annulment_reason_title"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_outgoing_numbers"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="annulment_reason_title",
            field=models.CharField(blank=True, max_length=300, verbose_name="Основание аннулирования"),
        ),
        migrations.RunPython(copy_titles, migrations.RunPython.noop, elidable=True),
    ]
