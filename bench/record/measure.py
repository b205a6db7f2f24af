"""One session of the record benchmark, run inside one source tree's Django (bench/record/run.py
starts it with PYTHONPATH at that tree and its migrated database in the environment).

    python bench/record/measure.py PLAN.json RESULT.json

It sets up, answers "ready" on stdout, and then does one round of batches for each "round" line
on stdin (answering "done"), until "finish": so that run.py can keep the "before" and "after"
trees' processes alive side by side and let them take turns, round by round, on the same core.

It is run by its path, not as a module, so that the tree under test (the "before" tree too)
supplies ``meetings``; it imports nothing from ``bench``, and of the product only what every
tree measured has: the services that make a live conference (meeting_create, hall_add,
meeting_transition), ``record_write`` + ``event_append``, ``hall_set_attendance`` and the
``verify_record`` command.

The plan names the writes to time and the entries per batch. One conference, live, with one
hall; then rounds, each a batch of every write in turn (the order turns each round, so no
write always follows the same one): every entry in its own transaction, as a live conference
writes them. Per batch: wall time, this process's CPU time and, on PostgreSQL, the CPU time of
this connection's backend. Per entry: its wall and CPU time, and whether it signed a
checkpoint. At the end the record is checked with ``verify_record``, and what the tree wrote
is counted (entries, entries with a payload salt, signed checkpoints: whichever the tree has).
The raw append uses the type ``question.edited`` for staff, which every tree knows (main's
event-type registry refuses unknown types).
"""

import asyncio
import io
import json
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import django
from asgiref.sync import sync_to_async

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetings.settings")
django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

import meetings  # noqa: E402
from meetings.rooms.actors import Actor  # noqa: E402
from meetings.rooms.models import Audience, Event, EventLogHead  # noqa: E402
from meetings.rooms.record import canonical_json  # noqa: E402
from meetings.rooms.services import halls  # noqa: E402
from meetings.rooms.services import meetings as meeting_services  # noqa: E402
from meetings.rooms.services.events import event_append, record_write  # noqa: E402

BARE_TABLE = "bench_record_bare"
ASKER = "Nguyễn Thị Minh Khai"
TEXT = (
    "Đề nghị đại biểu cho biết kế hoạch cải tạo tuyến đường liên xã "
    "và thời gian hoàn thành trong nhiệm kỳ tới?"
)


def typical_payload(n: int) -> dict:
    """A staff entry of about 300 bytes, shaped like a question's edit: the moderation
    view's changed fields, with Vietnamese text and the asker's name (what a payload
    commitment keeps from those who may not read it)."""
    return {
        "question": n,
        "hall": 2,
        "patch": [
            {
                "op": "merge",
                "path": ["moderation", str(n)],
                "value": {"asker_name": ASKER, "text": TEXT, "version": 2},
            }
        ],
    }


def server_pid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


TICK = os.sysconf("SC_CLK_TCK")


def runqueue_wait_seconds() -> float:
    """How long this process's main thread was ready to run but waited for its core (the
    kernel's schedstat): on a shared machine, the part of the wall time that others took."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds_of(pid: int | None) -> float:
    """User + system CPU of another process (the PostgreSQL backend), from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Session:
    def __init__(self, plan: dict):
        self.plan = plan
        user, _created = get_user_model().objects.get_or_create(username="bench-record-chair")
        self.actor = Actor.for_user(user)
        slug = plan["slug"]
        meeting = meeting_services.meeting_create(
            slug=slug,
            title="Hội nghị đo ghi biên bản",
            electoral_unit="Đơn vị đo tải",
            scheduled_start=timezone.now() + timedelta(minutes=5),
            studio_name="Điểm cầu trung tâm",
            actor=self.actor,
        )
        self.hall = halls.hall_add(meeting=meeting, name="Điểm cầu 001", actor=self.actor)
        for status in ("scheduled", "live"):
            meeting = meeting_services.meeting_transition(
                meeting=meeting, to_status=status, actor=self.actor
            )
        self.meeting = meeting
        self.hall.meeting = meeting
        self.counter = 0
        self.payload_bytes = len(canonical_json(typical_payload(10_000)).encode())
        # The bare row is as long as the raw entry's row: its payload, type, label, time and
        # its two hashes.
        self.bare_body = "x" * (self.payload_bytes + len("question.edited") + 200)
        key = {
            "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
            "postgresql": "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        }[connection.vendor]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} "
                f"(id {key}, meeting_id bigint NOT NULL, body text NOT NULL)"
            )

    def bare(self) -> None:
        """A plain INSERT of a row of the same size, in the same kind of transaction: no
        hashing, no head to lock, no ORM."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {BARE_TABLE} (meeting_id, body) VALUES (%s, %s)",
                [self.meeting.pk, self.bare_body],
            )

    def append(self) -> None:
        """The record's own path: record_write, then one event_append of a typical payload."""
        self.counter += 1
        with record_write(meeting=self.meeting):
            event_append(
                meeting=self.meeting,
                type="question.edited",
                audience=Audience.STAFF,
                payload=typical_payload(10_000 + self.counter % 1000),
                actor=self.actor,
            )

    def attendance(self) -> None:
        """An ordinary write through a service: a moderator sets a hall's attendance (one
        entry; the count changes every time, so each call appends)."""
        self.counter += 1
        halls.hall_set_attendance(hall=self.hall, count=1 + self.counter % 5000, actor=self.actor)


def run(plan: dict, commands: TextIO, answers: TextIO) -> dict:
    """Set up and warm up, answer "ready", then do one round for each "round" read from
    ``commands`` (answering "done"), until "finish"."""
    session = Session(plan)
    writes = {name: getattr(session, name) for name in plan["writes"]}
    pid = server_pid()
    head = EventLogHead.objects.get(meeting=session.meeting)
    seq_before = head.seq
    batch = plan["batch"]
    for write in writes.values():
        for _ in range(plan["warmup_batches"] * batch):
            write()
    measured = {name: {"batches": [], "entries_us": [], "entries_cpu_us": []} for name in writes}
    # Each write but the bare one appends exactly one entry (checked at the end), so the seq
    # of every entry timed is known without asking: the checkpoints' seqs then name the
    # entries that signed one in their transaction.
    seqs = {name: [] for name in writes}
    appending = [name for name in writes if name != "bare"]
    last_seq = head.seq + len(appending) * plan["warmup_batches"] * batch
    names = list(writes)
    rounds = 0
    answer(answers, "ready")
    while (command := commands.readline().strip()) == "round":
        turn = rounds % len(names)
        for name in names[turn:] + names[:turn]:
            measured[name]["batches"].append(time_batch(writes[name], batch, pid, measured[name]))
            if name in appending:
                seqs[name].extend(range(last_seq + 1, last_seq + batch + 1))
                last_seq += batch
        rounds += 1
        answer(answers, "done")
    if command != "finish":
        raise SystemExit(f"expected 'round' or 'finish', read {command!r}")
    appended = (plan["warmup_batches"] + rounds) * batch * len(appending)
    head.refresh_from_db()
    signed = set(checkpoint_seqs(session.meeting))
    for name in writes:
        # Indexes into the entries' lists of those that signed a checkpoint.
        measured[name]["signing"] = [
            index for index, entry_seq in enumerate(seqs[name]) if entry_seq in signed
        ]
    out = io.StringIO()
    call_command("verify_record", session.meeting.slug, stdout=out)
    return {
        "tree": str(Path(meetings.__file__).resolve().parents[1]),
        "database": connection.vendor,
        "server_pid": {"start": pid, "end": server_pid()},
        "payload_bytes": session.payload_bytes,
        "bare_row_bytes": len(session.bare_body),
        "writes": measured,
        "checks": {
            "entries_expected": appended,
            "entries_appended": head.seq - seq_before,
            "verify_record": out.getvalue().strip().splitlines()[0],
            **what_the_tree_wrote(session.meeting),
        },
    }


def time_batch(write, batch: int, pid: int | None, figures: dict) -> dict:
    """``batch`` entries one after the other; each entry's wall and CPU time go to
    ``figures``' lists."""
    entry_times, entry_cpu = figures["entries_us"], figures["entries_cpu_us"]
    server_before = cpu_seconds_of(pid)
    waited_before = runqueue_wait_seconds()
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    for _ in range(batch):
        started, started_cpu = time.perf_counter(), time.process_time()
        write()
        entry_times.append(round((time.perf_counter() - started) * 1e6, 1))
        entry_cpu.append(round((time.process_time() - started_cpu) * 1e6, 1))
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    return {
        "wall_s": round(wall, 6),
        "cpu_s": round(cpu, 6),
        "server_cpu_s": round(cpu_seconds_of(pid) - server_before, 3),
        "waited_s": round(runqueue_wait_seconds() - waited_before, 6),
    }


def answer(answers: TextIO, word: str) -> None:
    answers.write(word + "\n")
    answers.flush()


def checkpoint_seqs(meeting) -> list[int]:
    """The seqs of the conference's signed checkpoints, if the tree has them."""
    try:
        checkpoint = apps.get_model("rooms", "RecordCheckpoint")
    except LookupError:
        return []
    return list(checkpoint.objects.filter(meeting=meeting).values_list("seq", flat=True))


def what_the_tree_wrote(meeting) -> dict:
    """Entries with a payload salt (format 2) and signed checkpoints, where the tree has them."""
    found = {}
    if any(field.name == "payload_salt" for field in Event._meta.get_fields()):
        entries = Event.objects.filter(meeting=meeting)
        found["entries_with_salt"] = entries.filter(payload_salt__isnull=False).count()
    try:
        checkpoint = apps.get_model("rooms", "RecordCheckpoint")
    except LookupError:
        return found
    found["checkpoints"] = checkpoint.objects.filter(meeting=meeting).count()
    return found


def main() -> None:
    plan_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    plan = json.loads(plan_path.read_text())
    plan.setdefault("slug", f"record-{uuid.uuid4().hex[:8]}")
    # The conversation has its own copy of stdout; anything else printed goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    result = asyncio.run(serve(plan, sys.stdin, answers))
    result_path.write_text(json.dumps(result))
    answer(answers, "finished")


async def serve(plan: dict, commands: TextIO, answers: TextIO) -> dict:
    """Run the session as a server runs a write: in a thread under an event loop (asgiref's
    sync_to_async, as Daphne runs Django), so that publishing an entry after its commit
    (async_to_sync of the channel layer) uses the loop and its Redis connections, instead of
    making a new loop and connection each time, as a bare script would."""
    return await sync_to_async(run, thread_sensitive=True)(plan, commands, answers)


if __name__ == "__main__":
    main()
