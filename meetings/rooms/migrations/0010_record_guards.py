"""The database keeps the record's head moving forward and the signed checkpoints unchanged.

On both databases: an UPDATE of a record head (rooms_eventloghead) that lowers ``seq`` or any
``last_<audience>``, changes ``hash`` while keeping ``seq``, reopens a closed record, or gives
the head to another conference is refused, and so is any UPDATE of a signed checkpoint (rooms_recordcheckpoint).
Deleting a head, a checkpoint or (on SQLite, where 0002 left it allowed) an entry of the record
is refused too. Emptying every table stays possible: TRUNCATE on PostgreSQL, and on SQLite the
project's ``flush`` command, which lifts the DELETE guards for the one transaction that empties
the tables (meetings/rooms/management/commands/flush.py says why it must).

On SQLite the UPDATE trigger of 0002 is created again if a rebuilt table lost it.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION rooms_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION rooms_eventloghead_forward_only() RETURNS trigger AS $$
BEGIN
    IF NEW.meeting_id <> OLD.meeting_id THEN
        RAISE EXCEPTION 'a record head stays with its conference';
    END IF;
    IF NEW.seq < OLD.seq
        OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash)
        OR NEW.last_public < OLD.last_public
        OR NEW.last_halls < OLD.last_halls
        OR NEW.last_candidates < OLD.last_candidates
        OR NEW.last_staff < OLD.last_staff
        OR (OLD.closed AND NOT NEW.closed)
    THEN
        RAISE EXCEPTION 'the record head only moves forward';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rooms_eventloghead_forward_only BEFORE UPDATE ON rooms_eventloghead
    FOR EACH ROW EXECUTE FUNCTION rooms_eventloghead_forward_only();
CREATE TRIGGER rooms_eventloghead_no_delete BEFORE DELETE ON rooms_eventloghead
    FOR EACH ROW EXECUTE FUNCTION rooms_refuse('a record head is never deleted');
CREATE TRIGGER rooms_recordcheckpoint_no_update BEFORE UPDATE ON rooms_recordcheckpoint
    FOR EACH ROW EXECUTE FUNCTION rooms_refuse('signed checkpoints are never changed');
CREATE TRIGGER rooms_recordcheckpoint_no_delete BEFORE DELETE ON rooms_recordcheckpoint
    FOR EACH ROW EXECUTE FUNCTION rooms_refuse('signed checkpoints are never deleted');
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS rooms_eventloghead_forward_only ON rooms_eventloghead;
DROP TRIGGER IF EXISTS rooms_eventloghead_no_delete ON rooms_eventloghead;
DROP TRIGGER IF EXISTS rooms_recordcheckpoint_no_update ON rooms_recordcheckpoint;
DROP TRIGGER IF EXISTS rooms_recordcheckpoint_no_delete ON rooms_recordcheckpoint;
DROP FUNCTION IF EXISTS rooms_eventloghead_forward_only();
DROP FUNCTION IF EXISTS rooms_refuse();
"""

# SQLite runs one statement per execute() here, so each trigger is its own string.
SQLITE_UP = [
    """
CREATE TRIGGER IF NOT EXISTS rooms_event_no_update BEFORE UPDATE ON rooms_event
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END
""",
    """
CREATE TRIGGER rooms_event_no_delete BEFORE DELETE ON rooms_event
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END
""",
    """
CREATE TRIGGER rooms_eventloghead_forward_only BEFORE UPDATE ON rooms_eventloghead
BEGIN
    SELECT RAISE(ABORT, 'a record head stays with its conference')
    WHERE NEW.meeting_id IS NOT OLD.meeting_id;
    SELECT RAISE(ABORT, 'the record head only moves forward')
    WHERE NEW.seq < OLD.seq
        OR (NEW.seq = OLD.seq AND NEW.hash IS NOT OLD.hash)
        OR NEW.last_public < OLD.last_public
        OR NEW.last_halls < OLD.last_halls
        OR NEW.last_candidates < OLD.last_candidates
        OR NEW.last_staff < OLD.last_staff
        OR (OLD.closed AND NOT NEW.closed);
END
""",
    """
CREATE TRIGGER rooms_eventloghead_no_delete BEFORE DELETE ON rooms_eventloghead
BEGIN
    SELECT RAISE(ABORT, 'a record head is never deleted');
END
""",
    """
CREATE TRIGGER rooms_recordcheckpoint_no_update BEFORE UPDATE ON rooms_recordcheckpoint
BEGIN
    SELECT RAISE(ABORT, 'signed checkpoints are never changed');
END
""",
    """
CREATE TRIGGER rooms_recordcheckpoint_no_delete BEFORE DELETE ON rooms_recordcheckpoint
BEGIN
    SELECT RAISE(ABORT, 'signed checkpoints are never deleted');
END
""",
]
# rooms_event_no_update belongs to 0002, which drops it when it is reversed.
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS rooms_event_no_delete",
    "DROP TRIGGER IF EXISTS rooms_eventloghead_forward_only",
    "DROP TRIGGER IF EXISTS rooms_eventloghead_no_delete",
    "DROP TRIGGER IF EXISTS rooms_recordcheckpoint_no_update",
    "DROP TRIGGER IF EXISTS rooms_recordcheckpoint_no_delete",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the functions' RAISE formats use "%" themselves.
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("rooms", "0009_record_commitments")]

    operations = [migrations.RunPython(forwards, backwards)]
