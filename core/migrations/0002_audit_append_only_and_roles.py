"""The audit trail refuses UPDATE, DELETE and TRUNCATE in the database itself (PostgreSQL, the
production database), and the staff role groups exist.

The only way around the trigger is the session setting ``sout.audit_maintenance = on``, which the
product never sets: it is for a DBA's retention purge, and the test suite sets it on its throw-away
database so that it can empty tables between tests."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('sout.audit_maintenance', true), '') = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE OR DELETE ON core_auditevent
  FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_auditevent_no_update ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_append_only();
"""

ROLES = [
    "registrar",
    "reviewer",
    "signatory",
    "exam_admin",
    "certificate_officer",
    "appeals_member",
    "complaint_handler",
    "auditor",
]


def forward(apps, schema_editor):
    # Embedded SQLite mode (demo) relies on the model guard and the read-only admin.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forward, backward)]
