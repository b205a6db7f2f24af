"""Django's ``flush``, able to empty the record's tables on SQLite too.

The record's tables refuse DELETE (migrations 0002 and 0010). PostgreSQL's flush empties tables
with TRUNCATE, which those triggers do not see. SQLite has no TRUNCATE: Django empties each table
with DELETE, in an order that changes from one process to the next (a set of table names), so no
trigger condition can tell the flush from a DELETE of a record's last entries. This command lifts
the DELETE guards for the one transaction that empties every table, and puts them back in it:
the tables are emptied whole or not at all, and the guards are never missing after it. Test
runs flush the database after each transactional test, through this command.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

# The SQLite triggers that refuse DELETE on the record's tables.
DELETE_GUARDS = (
    "rooms_event_no_delete",
    "rooms_eventloghead_no_delete",
    "rooms_recordcheckpoint_no_delete",
)


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        if options["interactive"]:
            # Asked before the transaction, which holds SQLite's write lock.
            confirm = input(
                "You have requested a flush of the database.\n"
                "This will IRREVERSIBLY DESTROY all data currently in the "
                f'"{connection.settings_dict["NAME"]}" database,\n'
                "and return each table to an empty state.\n"
                "Are you sure you want to do this?\n\n"
                "    Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return None
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            placeholders = ", ".join(["%s"] * len(DELETE_GUARDS))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                f"WHERE type = 'trigger' AND name IN ({placeholders})",
                list(DELETE_GUARDS),
            )
            guards = cursor.fetchall()
            for name, _sql in guards:
                cursor.execute(f'DROP TRIGGER "{name}"')
            super().handle(**{**options, "interactive": False})
            for _name, sql in guards:
                cursor.execute(sql)
        return None
