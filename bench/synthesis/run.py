"""The time to make a round's synthesis: a round of 14 conferences with about a hundred
questions each (tests/questions/synthesis_script.py, imported from its spreadsheet and run
through the services, every conference live at once), then the synthesis DOCX and XLSX made
by the same call as `manage.py export_synthesis` and the organiser's downloads
(meetings/questions/synthesis/export.py), and the suggestions of the same concern across
conferences (meetings/questions/synthesis/similar.py).

    python -m bench.synthesis.run                       14 conferences x ~100 questions
    python -m bench.synthesis.run --fillers 10 --repeat 1   a smoke test

The baseline, measured in the same run on the same database: each conference's minutes as
DOCX and as XLSX (meetings/questions/minutes/export.py, the staff's copy, as
`manage.py export_minutes`), all 14 one after the other: what an organiser assembles the
synthesis from by hand today. Each figure is the median of ``--repeat`` runs, wall-clock and
CPU time of this process (the database is SQLite, in this process). The target: the synthesis
in either format in under a minute. Building the round is not timed. Results go to
bench/results/synthesis.json; `python -m bench.report` writes the table of docs/benchmarks.md.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "synthesis.json"
TARGET_SECONDS = 60


def timed(work, repeat: int) -> dict:
    walls, cpus, size = [], [], 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        size = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall_s": round(statistics.median(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conferences", type=int, default=14)
    parser.add_argument(
        "--fillers",
        type=int,
        default=96,
        help="questions per conference besides the planted "
        "ones and the four merged, rejected, withdrawn or unmoderated (96: about 100 each)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="bench-synthesis-")
    os.environ["VAR_DIR"] = var
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "meetings.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from bench.machine import describe
    from meetings.questions.minutes.export import export_minutes
    from meetings.questions.models import Question
    from meetings.questions.synthesis.data import gather
    from meetings.questions.synthesis.export import export_synthesis
    from meetings.questions.synthesis.similar import suggestions
    from meetings.rooms.models import BridgePoint
    from tests.questions.synthesis_script import run_round

    started = time.perf_counter()
    ran = run_round(fillers=args.fillers, conferences=args.conferences)
    built = time.perf_counter() - started
    the_round, meetings = ran.round, [c.meeting for c in ran.conferences]
    questions = Question.objects.filter(meeting__round=the_round).count()
    print(f"round built in {built:.0f} s: {questions} questions", file=sys.stderr)

    def minutes(fmt: str):
        return lambda: sum(len(export_minutes(m, fmt, "vi", staff=True)) for m in meetings)

    rows = {
        "synthesis_docx": timed(lambda: len(export_synthesis(the_round, "docx")), args.repeat),
        "synthesis_xlsx": timed(lambda: len(export_synthesis(the_round, "xlsx")), args.repeat),
        "gather": timed(lambda: len(gather(the_round).rows), args.repeat),
        "suggestions": timed(lambda: len(suggestions(the_round)), args.repeat),
        "minutes_docx": timed(minutes("docx"), args.repeat),
        "minutes_xlsx": timed(minutes("xlsx"), args.repeat),
    }
    for name, row in rows.items():
        print(f"{name}: {row}", file=sys.stderr)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe(),
        "database": "sqlite",
        "conferences": len(meetings),
        "halls": BridgePoint.objects.filter(meeting__in=meetings).count(),
        "questions": questions,
        "repeat": args.repeat,
        "build_seconds": round(built),
        "rows": rows,
        "target_seconds": TARGET_SECONDS,
        "load": " / ".join(f"{n:.1f}" for n in os.getloadavg()),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
