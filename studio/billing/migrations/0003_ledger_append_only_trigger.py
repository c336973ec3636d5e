"""On PostgreSQL, the database itself refuses to change or remove a ledger entry.

The model and its QuerySet refuse too, but raw SQL, a shell or a future bug would not
go through them. The one UPDATE allowed is the one ``on_delete=SET_NULL`` issues when a
person's account is deleted (``user_id`` set to NULL, nothing else changed): the
amounts and the take they belong to never change. ``TRUNCATE`` (used by test database
flushes) is not affected. SQLite has no such triggers in our setup, so this is a no-op
there.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION billing_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL AND OLD.user_id IS NOT NULL
       AND (NEW.id, NEW.workspace_id, NEW.generation_id, NEW.kind, NEW.held_delta_micros,
            NEW.spent_delta_micros, NEW.reason, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.workspace_id, OLD.generation_id, OLD.kind, OLD.held_delta_micros,
            OLD.spent_delta_micros, OLD.reason, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ledgerentry_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS billing_ledgerentry_append_only ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledgerentry_append_only();
"""


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_budgets")]

    operations = [PostgresOnlySQL(FORWARD, BACKWARD)]
