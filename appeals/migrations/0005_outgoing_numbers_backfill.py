"""Letters signed before outgoing numbers existed get theirs: admission notices and refusal letters
(exam), decisions on attestation (registry) and complaint answers (appeals), in the order they were
signed across all kinds, from the counter new letters continue (core.services.outgoing_number_assign).

It lives in appeals, the app whose migrations come after those of exam and registry."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

MOSCOW = ZoneInfo("Europe/Moscow")

# (app, model, signed rows, the field of the signing time, the kind of letter of a row)
LETTERS = [
    (
        "exam",
        "decision",
        {"state": "signed"},
        "signed_at",
        lambda row: "admission_notice" if row.kind == "admission" else "refusal_letter",
    ),
    ("registry", "attestationdecision", {"status": "signed"}, "signed_at", lambda row: "attestation_decision"),
    ("appeals", "complaint", {}, "answer_signed_at", lambda row: "complaint_answer"),
]


def backfill(apps, schema_editor):
    Counter = apps.get_model("core", "Counter")
    OutgoingLetter = apps.get_model("core", "OutgoingLetter")
    ContentType = apps.get_model("contenttypes", "ContentType")
    letters = []
    for app_label, model_name, signed, signed_field, kind in LETTERS:
        model = apps.get_model(app_label, model_name)
        content_type, _created = ContentType.objects.get_or_create(app_label=app_label, model=model_name)
        rows = model.objects.filter(**signed, outgoing_number__isnull=True, **{f"{signed_field}__isnull": False})
        for row in rows:
            letters.append((getattr(row, signed_field), content_type.pk, row.pk, model, kind(row)))
    letters.sort(key=lambda letter: letter[:3])
    number_format = settings.OUTGOING_NUMBER_FORMAT
    for signed_at, content_type_id, pk, model, kind in letters:
        year = signed_at.astimezone(MOSCOW).year
        counter, _created = Counter.objects.get_or_create(
            scope="outgoing", year=year if "{year" in number_format else 0, defaults={"value": 0}
        )
        counter.value += 1
        counter.save(update_fields=["value"])
        number = number_format.format(year=year, seq=counter.value)
        OutgoingLetter.objects.create(
            number=number, kind=kind, case_type_id=content_type_id, case_id=pk, signed_at=signed_at
        )
        model.objects.filter(pk=pk).update(outgoing_number=number)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0004_outgoing_numbers"),
        ("core", "0008_outgoing_numbers"),
        ("exam", "0009_outgoing_numbers"),
        ("registry", "0007_outgoing_numbers"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
