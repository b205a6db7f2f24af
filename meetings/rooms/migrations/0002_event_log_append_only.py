"""The database itself refuses to change a row of the record.

PostgreSQL also refuses DELETE (TRUNCATE, which test databases use to reset, stays allowed).
SQLite refuses UPDATE only: Django's test flush empties its tables with DELETE.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION rooms_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rooms_event_no_update BEFORE UPDATE ON rooms_event
    FOR EACH ROW EXECUTE FUNCTION rooms_event_append_only();
CREATE TRIGGER rooms_event_no_delete BEFORE DELETE ON rooms_event
    FOR EACH ROW EXECUTE FUNCTION rooms_event_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS rooms_event_no_update ON rooms_event;
DROP TRIGGER IF EXISTS rooms_event_no_delete ON rooms_event;
DROP FUNCTION IF EXISTS rooms_event_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER rooms_event_no_update BEFORE UPDATE ON rooms_event
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS rooms_event_no_update;"


def forwards(apps, schema_editor):
    sql = {"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    sql = {"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
