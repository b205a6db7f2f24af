"""The cost of one entry appended to a conference's record, before and after a change to the
record (issue 13: payload commitments and signed checkpoints), on the same harness in the same
run, on SQLite (the embedded default) and on PostgreSQL.

    python -m bench.record.run                                  this tree against 4d89489
    python -m bench.record.run --after /work/main               main's tree as it is now
    python -m bench.record.run --before /work/wt-bench-old      a checked-out "before" tree
    python -m bench.record.run --before-commit A --after-commit B  two commits, exported
    python -m bench.record.run --database sqlite --entries 400  one database, a smoke test
    python -m bench.record.run --env RECORD_CHECKPOINT_SECONDS=1  a setting for both trees (its
                                                                 results are kept apart)

"After" is a source tree (this one by default), "before" another: each a directory, or a
commit of this repository (--before-commit, 4d89489 by default: main just before issue 13;
--after-commit) exported with `git archive` into a temporary directory. Each tree gets its own
database, migrated by its own manage.py: a SQLite file in a temporary directory, or a PostgreSQL
database meetings_bench_record_* on 127.0.0.1 (dropped at the end) with Redis db 5 as the
channel layer, as the services deployment runs. The same script, bench/record/measure.py, runs
in each tree (PYTHONPATH at the tree, the same Python), pinned to core 1 with taskset; the
PostgreSQL server is a system service and is not pinned.

Three writes are timed, every entry in its own transaction: "bare", a plain INSERT of a row
of the same size in the same kind of transaction (no hashing, no head lock, no ORM); "append",
record_write + event_append with a typical 300-byte staff payload; "attendance", a moderator
setting a hall's attendance (meetings/rooms/services/halls.py), one entry through a service.
The machine is shared and its speed drifts, so the two trees' processes run side by side and
take turns round by round (each round: a batch of every write, the writes' order turning), on
the same core: whatever the machine does meets both alike. Results go to
bench/results/record.json; `python -m bench.report` writes the table of docs/benchmarks.md.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.machine import describe

ROOT = Path(__file__).resolve().parents[2]
MEASURE = Path(__file__).resolve().with_name("measure.py")
RESULTS = ROOT / "bench" / "results" / "record.json"
BEFORE_COMMIT = "4d89489"  # main just before issue 13's commitments and checkpoints
WRITES = ("bare", "append", "attendance")
DATABASES = ("sqlite", "postgresql")
CLIENT_CORE = "1"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_RECORD_REDIS_URL", "redis://127.0.0.1:6379/5")


def pinned(core: str) -> list[str]:
    """taskset's prefix for one core, when the machine has more than one and taskset."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", core]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        capture_output=True,
    )


def describe_tree(tree: Path, commit: str | None = None) -> dict:
    """The tree's commit as git names it, and whether it has changes not committed."""
    if commit is not None:
        return {"path": str(tree), "commit": commit, "exported": True}

    def git(*args: str) -> str:
        found = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
        return found.stdout.strip() if found.returncode == 0 else ""

    return {
        "path": str(tree),
        "commit": git("log", "-1", "--format=%h %s")[:100],
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def export_commit(commit: str, into: Path) -> Path:
    """The tree of ``commit`` of this repository, unpacked into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class TreeDatabase:
    """One tree's database for one kind of database: made, migrated by the tree, dropped."""

    def __init__(self, *, tree: Path, database: str, workdir: Path, args: argparse.Namespace):
        self.tree = tree
        self.python = args.python
        tag = uuid.uuid4().hex[:8]
        self.env = dict(
            os.environ,
            PYTHONPATH=str(tree),
            DJANGO_SETTINGS_MODULE="meetings.settings",
            VAR_DIR=str(workdir / f"var-{tag}"),
            SECRET_KEY=secrets.token_hex(32),
            DEBUG="0",
            LOG_LEVEL="WARNING",
            MEDIA_WORKER="thread",
        )
        for variable in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX"):
            self.env.pop(variable, None)
        self.env.update(args.env)
        self.database = ""
        if database == "postgresql":
            self.database = f"meetings_bench_record_{tag}"
            psql(f"CREATE DATABASE {self.database}")
            self.env["DATABASE_URL"] = f"{POSTGRES}/{self.database}"
            self.env["REDIS_URL"] = REDIS_URL
            self.env["REDIS_PREFIX"] = self.redis_prefix = f"bench-record-{tag}"
        subprocess.run(
            [self.python, "manage.py", "migrate", "--verbosity", "0"],
            cwd=tree,
            env=self.env,
            check=True,
        )

    def start(self, plan: dict, workdir: Path) -> None:
        """This tree's measuring process, set up and warmed up, waiting for its first turn."""
        self.result_path = workdir / f"result-{uuid.uuid4().hex[:8]}.json"
        plan_path = self.result_path.with_suffix(".plan")
        plan_path.write_text(json.dumps(plan))
        self.process = subprocess.Popen(
            [
                *pinned(CLIENT_CORE),
                self.python,
                str(MEASURE),
                str(plan_path),
                str(self.result_path),
            ],
            cwd=self.tree,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.expect("ready")

    def say(self, command: str, then: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self.expect(then)

    def expect(self, word: str) -> None:
        line = self.process.stdout.readline().strip()
        if line != word:
            self.process.kill()
            raise SystemExit(f"{self.tree}: the measuring process said {line!r}, not {word!r}")

    def finish(self) -> dict:
        self.say("finish", "finished")
        self.process.wait()
        result = json.loads(self.result_path.read_text())
        if Path(result["tree"]) != self.tree.resolve():
            raise SystemExit(f"measured {result['tree']}, not {self.tree}: check PYTHONPATH")
        return result

    def drop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if self.database:
            psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            forget_redis_keys(self.redis_prefix)


def forget_redis_keys(prefix: str) -> None:
    """The channel layer's keys under this run's prefix, if it left any."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    except Exception as error:  # the figures are taken; a key that expires anyway is no failure
        print(f"could not clean Redis keys {prefix}*: {error}", file=sys.stderr)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(result: dict, write: str, batch: int) -> dict:
    """One tree's figures for one write, over its batches."""
    batches = result["writes"][write]["batches"]
    entries_us = result["writes"][write]["entries_us"]
    entries_cpu_us = result["writes"][write]["entries_cpu_us"]
    signing = set(result["writes"][write].get("signing", []))
    per_entry = [b["wall_s"] / batch * 1e6 for b in batches]
    entries = len(batches) * batch
    server = sum(b["server_cpu_s"] for b in batches) if result["server_pid"]["start"] else None
    half = len(per_entry) // 2
    return {
        "entries": entries,
        "batches": len(batches),
        "wall_us_p50": round(statistics.median(per_entry), 1),
        "wall_us_p95": round(percentile(per_entry, 0.95), 1),
        "wall_us_p50_by_half": [
            round(statistics.median(per_entry[:half])),
            round(statistics.median(per_entry[half:])),
        ],
        "cpu_us": round(sum(b["cpu_s"] for b in batches) / entries * 1e6, 1),
        "server_cpu_us": None if server is None else round(server / entries * 1e6, 1),
        "waited_us": round(sum(b["waited_s"] for b in batches) / entries * 1e6, 1),
        "entries_per_second": round(entries / sum(b["wall_s"] for b in batches), 1),
        "entry_us_p99": round(percentile(entries_us, 0.99), 1),
        "slowest_entry_ms": round(max(entries_us) / 1000, 2),
        "entry_us_p50": round(statistics.median(entries_us), 1),
        "entry_cpu_us_p50": round(statistics.median(entries_cpu_us), 1),
        # The entries that signed a checkpoint in their transaction, beside those that opened
        # a batch (as a signing entry often does: the first after a pause) and did not.
        "signing_entries": len(signing),
        **entry_medians(
            "signing", [i for i in range(len(entries_us)) if i in signing], result, write
        ),
        **entry_medians(
            "opening",
            [i for i in range(0, len(entries_us), batch) if i not in signing],
            result,
            write,
        ),
    }


def entry_medians(name: str, indexes: list[int], result: dict, write: str) -> dict:
    """The median wall and CPU time of the entries at ``indexes``."""
    figures = result["writes"][write]
    if not indexes:
        return {f"{name}_entry_us_p50": None, f"{name}_entry_cpu_us_p50": None}
    return {
        f"{name}_entry_us_p50": round(
            statistics.median(figures["entries_us"][i] for i in indexes), 1
        ),
        f"{name}_entry_cpu_us_p50": round(
            statistics.median(figures["entries_cpu_us"][i] for i in indexes), 1
        ),
    }


def run_database(
    database: str, trees: dict[str, Path], described: dict, args: argparse.Namespace
) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"meetings-bench-record-{database}-"))
    began = time.time()
    load_before = os.getloadavg()[0]
    made: dict[str, TreeDatabase] = {}
    try:
        for side, tree in trees.items():
            print(f"[{database}] migrating the {side} tree's database", flush=True)
            made[side] = TreeDatabase(tree=tree, database=database, workdir=workdir, args=args)
        plan = {"writes": list(WRITES), "batch": args.batch, "warmup_batches": 1}
        for side in trees:
            made[side].start(plan, workdir)
        print(f"[{database}] {args.batches} rounds, the trees taking turns", flush=True)
        for round_number in range(args.batches):
            # Each goes first in every other round: neither always follows the other.
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for side in order:
                made[side].say("round", "done")
        figures = {}
        for side in trees:
            result = made[side].finish()
            figures[side] = {
                "writes": {w: summarise(result, w, args.batch) for w in WRITES},
                "checks": result["checks"],
            }
            print(
                f"[{database}] {side:6} "
                + "  ".join(
                    f"{w} {f['wall_us_p50']:.0f} µs ({f['cpu_us']:.0f} CPU)"
                    for w, f in figures[side]["writes"].items()
                )
                + f"  {result['checks']}",
                flush=True,
            )
        return {
            "database": database,
            "label": args.label,
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "trees_measured": described,
            "settings": {
                "entries": args.batches * args.batch,
                "batch": args.batch,
                "client_core": CLIENT_CORE if pinned(CLIENT_CORE) else None,
                "env": args.env,
                "python": args.python,
            },
            "payload_bytes": result["payload_bytes"],
            "bare_row_bytes": result["bare_row_bytes"],
            "trees": figures,
            "seconds_taken": round(time.time() - began),
            "load_average_1min": {
                "before": round(load_before, 2),
                "after": round(os.getloadavg()[0], 2),
            },
        }
    finally:
        for tree_database in made.values():
            tree_database.drop()
        if args.keep:
            print(f"[{database}] raw results kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--after", type=Path, help="the tree under test (default: this one)")
    parser.add_argument(
        "--after-commit", help="instead of --after: this commit of this repository, exported"
    )
    parser.add_argument("--before", type=Path, help="the tree to compare with (a directory)")
    parser.add_argument(
        "--before-commit",
        default=BEFORE_COMMIT,
        help=f"without --before: this commit, exported (default {BEFORE_COMMIT})",
    )
    parser.add_argument("--database", choices=[*DATABASES, "both"], default="both")
    parser.add_argument("--entries", type=int, default=1500, help="entries per write and per tree")
    parser.add_argument("--batch", type=int, default=25, help="entries per batch")
    parser.add_argument(
        "--python", default=sys.executable, help="the Python both trees run with (its venv)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for both trees (e.g. a shorter checkpoint interval); repeatable",
    )
    parser.add_argument(
        "--label",
        help="keep this run's results beside the plain run's, under this name "
        "(by default the --env settings, if any)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep", action="store_true", help="keep the raw results (every entry's time)"
    )
    args = parser.parse_args(argv)
    if args.after is None and args.after_commit is None:
        args.after = ROOT
    args.batches = max(2, round(args.entries / args.batch))
    args.env = dict(item.split("=", 1) for item in args.env)
    if args.label is None and args.env:
        args.label = ", ".join(f"{name}={value}" for name, value in args.env.items())
    return args


def main() -> None:
    args = parse_arguments()
    # A plain kill still drops the databases (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    exported = Path(tempfile.mkdtemp(prefix="meetings-bench-record-trees-"))
    trees, described = {}, {}
    for side, directory, commit in (
        ("before", args.before, args.before_commit),
        ("after", args.after, args.after_commit),
    ):
        if directory is None:
            trees[side] = export_commit(commit, exported / side)
            described[side] = describe_tree(trees[side], commit=commit)
        else:
            trees[side] = directory.resolve()
            described[side] = describe_tree(trees[side])
    try:
        output = args.output
        previous = json.loads(output.read_text()) if output.exists() else {}
        results = {"databases": previous.get("databases", {})}
        databases = DATABASES if args.database == "both" else (args.database,)
        for database in databases:
            key = f"{database} ({args.label})" if args.label else database
            results["databases"][key] = run_database(database, trees, described, args)
            results.update({"benchmark": "record", "machine": describe()})
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    finally:
        shutil.rmtree(exported, ignore_errors=True)
    print(f"\nwritten: {output}")


if __name__ == "__main__":
    main()
