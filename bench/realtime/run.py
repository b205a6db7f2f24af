"""The realtime benchmark: the meeting stream at a conference's real size, on the platform and,
in the same run with the same client harness, on a bare asyncio server that does the same job
minus the platform's work (bench/realtime/baseline.py): the distance to the hardware's limit.

The servers run pinned to core 0 (`taskset -c 0`), the load generators and this orchestrator to
core 1. PostgreSQL and Redis are the machine's own services, not pinned; their CPU is measured
on its own. Scenarios (each on the platform and on the baseline):

  fanout       500, 1,000 and 2,150 screens (150 kiosks + the rest phones, kiosks scaled down
               for the smaller counts) and two moderators: the time for every screen to connect
               and get its first state; the idle cost (everyone pinging every 20 s, no events);
               a steady step at 5 questions/s and 100 votes/s (the moderators approve each
               question): server CPU per delivered frame, and at 2,150 screens the latencies;
               then a ramp of the question rate until the server's core saturates or its frames
               fall behind (frames per core-second), and the rate at which p99 passes 100 ms
               (moderators and kiosks) or 500 ms (phones).
  services     the platform on PostgreSQL + Redis with two Daphnes (both on core 0), 2,150
               screens at 5 questions/s and 100 votes/s; beside it the baseline's 2,150 run.
  conferences  three meetings at once, 100 kiosks and 1,600 phones each, each at 5 questions/s
               and 100 votes/s (the platform in services mode): every screen connected, nothing
               lost.
  restart      2,150 screens, events flowing; the server is killed (SIGKILL) and started again:
               how long until every screen is back, with every event it missed.

    python -m bench.realtime.run                        every scenario (about 25 minutes)
    python -m bench.realtime.run --quick                a smoke test: small and short
    python -m bench.realtime.run --scenario fanout      one scenario (repeat to pick several)
    python -m bench.realtime.run --target baseline      only one side
    python -m bench.realtime.run --sizes 500 --rates 5,10 --step 8

Results go to bench/results/realtime.json (a run of some scenarios keeps the others' last
results); `python -m bench.report` turns them into the tables of docs/benchmarks.md.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe
from bench.realtime.measure import (
    BEHIND_P99_MS,
    SATURATED_CPU_PERCENT,
    p99_over,
)
from bench.realtime.servers import (
    GENERATOR_CORE,
    ROOT,
    SERVER_CORE,
    Baseline,
    Platform,
    RunFailed,
    Server,
    pinned,
)
from bench.realtime.session import Session, progress_line

RESULTS = ROOT / "bench" / "results" / "realtime.json"
SCENARIOS = ("fanout", "services", "conferences", "restart")
FULL_SCREENS, FULL_KIOSKS = 2150, 150
TARGET_SUBMIT_RATE, TARGET_VOTE_RATE = 5, 100  # questions and votes per second (issue 10)
BOUND_STAFF_MS, BOUND_PHONES_MS = 100, 500
TARGETS = {
    "cpu_per_frame_ratio": 2.0,  # platform / baseline, at 500, 1,000 and 2,150 screens
    "idle_ratio": 2.0,
    "approve_to_staff_and_kiosks_p99_ms": BOUND_STAFF_MS,
    "approve_to_phones_p99_ms": BOUND_PHONES_MS,
    "connect_seconds": 10,
    "back_after_restart_seconds": 15,
}


def kiosks_for(screens: int) -> int:
    return max(1, round(FULL_KIOSKS * screens / FULL_SCREENS))


# --- the scenarios ------------------------------------------------------------------------


def new_server(target: str, label: str) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix=f"meetings-bench-realtime-{label}-"))
    if target == "baseline":
        return Baseline(workdir, ARGS.coalesce_ms, ARGS.baseline_drop_one_in)
    return Platform(workdir, "services" if target == "platform-services" else "embedded")


def screens_layout(screens: int, slug: str = "load") -> tuple[str, int, int]:
    kiosks = kiosks_for(screens)
    return (slug, kiosks, screens - kiosks)


def session_run(label: str, target: str, layout, body) -> dict:
    """Start a session, run `body(session, result)`, finish and close it, whatever happens."""
    began = time.time()
    load_before = os.getloadavg()[0]
    session = Session(label, new_server(target, label), layout, ARGS)
    try:
        result = {"server": session.server.name, **session.start()}
        body(session, result)
        result["load_average_1min_after_load"] = round(os.getloadavg()[0], 2)
        result.update(session.finish())
        result["rows"] = session.rows()
        for key in ("steady", "restart_step"):
            if key in result:
                result[key] = next(r for r in result["rows"] if r["step"] == result[key])
        result["load_average_1min_before"] = round(load_before, 2)
        result["run_seconds"] = round(time.time() - began)
        session.say(
            f"done in {result['run_seconds']} s; events lost {result['events_lost']} "
            f"{result['events_lost_detail']}"
        )
        return result
    finally:
        session.close()


def ramp(session: Session, result: dict) -> None:
    """The steady step at the target rate, then higher question rates until the server's core
    saturates, its frames fall behind, or the generators' core saturates."""
    steady = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
    row = session.row(steady)
    session.say(progress_line(row))
    result["steady"] = steady["name"]
    if ARGS.no_ramp:
        return
    limited = row["limited_by"]
    for rate in ARGS.rates:
        if limited or rate <= TARGET_SUBMIT_RATE:
            continue
        step = session.step(f"{rate:g}/s", rate, ARGS.step)
        row = session.row(step)
        session.say(progress_line(row))
        limited = row["limited_by"]


def summarise_ramp(result: dict) -> None:
    """Frames per core-second at saturation, and the rate at which p99 passes the bounds."""
    rows = result["rows"]
    stop = next((r for r in rows if r["limited_by"]), None)
    if stop is None:
        result["saturation"] = {
            "limited_by": None,
            "frames_per_core_second": None,
            "note": f"not saturated up to {rows[-1]['submit_rate']:g} questions/s"
            if rows
            else "no step",
        }
    else:
        server_figure = stop["limited_by"].startswith("server")
        result["saturation"] = {
            "limited_by": stop["limited_by"],
            "at_submit_rate": stop["submit_rate"],
            "frames_per_second": stop["frames_per_second"],
            "server_cpu_percent": stop["server_cpu_percent"],
            "generators_cpu_percent": stop["generators_cpu_percent"],
            "frames_per_core_second": stop["frames_per_core_second"] if server_figure else None,
        }
    passed = next(
        (
            r
            for r in rows
            if p99_over(r["approve_to_staff_and_kiosks_ms"], BOUND_STAFF_MS)
            or p99_over(r["approve_to_phones_ms"], BOUND_PHONES_MS)
        ),
        None,
    )
    result["p99_passes_bounds_at"] = (
        {"submit_rate": passed["submit_rate"], "vote_rate": passed["vote_rate"]}
        if passed
        else f"not passed up to {max((r['submit_rate'] for r in rows), default=0):g} questions/s"
    )


def fanout(target: str, screens: int) -> dict:
    def body(session: Session, result: dict) -> None:
        result["idle"] = session.idle(ARGS.idle)
        ramp(session, result)

    result = session_run(f"{target}-{screens}", target, [screens_layout(screens)], body)
    summarise_ramp(result)
    return result


def services(target: str) -> dict:
    def body(session: Session, result: dict) -> None:
        result["idle"] = session.idle(ARGS.idle)
        step = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
        session.say(progress_line(session.row(step)))
        result["steady"] = step["name"]

    return session_run(f"{target}-services", target, [screens_layout(ARGS.screens_full)], body)


def conferences(target: str) -> dict:
    kiosks, phones = ARGS.conference_kiosks, ARGS.conference_phones
    layout = [(f"load-{n}", kiosks, phones) for n in range(1, 4)]

    def body(session: Session, result: dict) -> None:
        step = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
        session.say(progress_line(session.row(step)))
        result["steady"] = step["name"]

    return session_run(f"{target}-conferences", target, layout, body)


def restart(target: str) -> dict:
    def body(session: Session, result: dict) -> None:
        votes = ARGS.restart_rate * TARGET_VOTE_RATE / TARGET_SUBMIT_RATE
        flowing = session.step("flowing", ARGS.restart_rate, ARGS.step, vote_rate=votes)
        session.say(progress_line(session.row(flowing)))
        moments: dict = {}

        def kill_and_start() -> None:
            session.say("SIGKILL, and starting again")
            try:
                moments.update(session.server.restart())
            except RunFailed as error:
                moments["error"] = str(error)

        session.step(
            "restart",
            ARGS.restart_rate,
            ARGS.restart_window,
            at=(3.0, kill_and_start),
            vote_rate=votes,
        )
        if "killed_at" not in moments:
            raise RunFailed(f"the restart failed: {moments.get('error')}")
        reports = session.generators.command(
            {
                "type": "back",
                "after": moments["killed_at"],
                "deadline": moments["killed_at"] + ARGS.back_deadline,
            },
            timeout=ARGS.back_deadline + 120,
        )
        session.absorb(reports)
        back = sorted(t for r in reports for t in r["back_seconds"])
        not_back = sum(r["not_back"] for r in reports)
        result["restart"] = {
            "server_listening_seconds": round(moments["ready_at"] - moments["started_at"], 2),
            "clients_back": len(back),
            "clients_not_back": not_back,
            "all_back_seconds": round(back[-1], 2) if back and not not_back else None,
            "back_p50_seconds": round(back[len(back) // 2], 2) if back else None,
            "last_back_seconds": round(back[-1], 2) if back else None,
            "deadline_seconds": ARGS.back_deadline,
        }
        session.say(f"restart: {result['restart']}")
        result["restart_step"] = "restart"

    layout = [screens_layout(ARGS.screens_full)]
    result = session_run(f"{target}-restart", target, layout, body)
    restart_row = result["restart_step"]
    result["restart"]["events_lost_in_restart_step"] = restart_row["events_lost"]
    result["restart"]["events_lost"] = result["events_lost"]
    return result


# --- the whole run ------------------------------------------------------------------------


def verdicts(results: dict) -> list[dict]:
    """Each target of the issue, met or missed, with the measured figure."""
    found = []

    def add(name: str, met: bool | None, figure: str) -> None:
        found.append({"target": name, "met": met, "figure": figure})

    fan = results.get("fanout", {})
    for screens in map(str, sorted(int(s) for s in fan.get("platform", {}))):
        platform, baseline = fan["platform"][screens], fan.get("baseline", {}).get(screens)
        ours = platform.get("steady", {}).get("cpu_us_per_frame")
        theirs = (baseline or {}).get("steady", {}).get("cpu_us_per_frame")
        ratio = ours / theirs if ours and theirs else None
        add(
            f"server CPU per delivered frame within 2x of the baseline at {screens} screens",
            None if ratio is None else ratio <= TARGETS["cpu_per_frame_ratio"],
            f"{ours} µs vs {theirs} µs" + (f" ({ratio:.1f}x)" if ratio else ""),
        )
        ours, theirs = platform["idle"]["per_1000_screens_cpu_percent"], None
        if baseline:
            theirs = baseline["idle"]["per_1000_screens_cpu_percent"]
        ratio = ours / theirs if theirs else None
        add(
            f"idle cost within 2x of the baseline's at {screens} screens",
            None if ratio is None else ratio <= TARGETS["idle_ratio"],
            f"{ours}% vs {theirs}% of a core per 1,000 screens"
            + (f" ({ratio:.1f}x)" if ratio else ""),
        )
        if int(screens) == results.get("full_screens", FULL_SCREENS):
            seconds = platform["connect_seconds"]
            every = platform["connected"] == platform["clients"]
            add(
                f"{screens} screens connect in under {TARGETS['connect_seconds']} s",
                every and seconds is not None and seconds < TARGETS["connect_seconds"],
                f"{platform['connected']} of {platform['clients']} in {seconds} s",
            )
            steady = platform["steady"]
            staff = steady["approve_to_staff_and_kiosks_ms"].get("p99")
            phones = steady["approve_to_phones_ms"].get("p99")
            add(
                f"at {TARGET_SUBMIT_RATE} q/s + {TARGET_VOTE_RATE} votes/s (embedded): approve → "
                f"moderators and kiosks p99 < {BOUND_STAFF_MS} ms, → phones p99 < "
                f"{BOUND_PHONES_MS} ms, nothing lost",
                staff is not None
                and phones is not None
                and staff < BOUND_STAFF_MS
                and phones < BOUND_PHONES_MS
                and steady["events_lost"] == 0,
                f"{staff} ms, {phones} ms, {steady['events_lost']} lost",
            )
    for name in ("services", "conferences"):
        platform = results.get(name, {}).get("platform")
        if platform:
            every = platform["connected"] == platform["clients"]
            every = every and platform["clients_given_up"] == 0
            add(
                f"{name}: every screen connected, nothing lost",
                every and platform["events_lost"] == 0,
                f"{platform['connected']} of {platform['clients']} connected, "
                f"{platform['events_lost']} lost",
            )
    platform = results.get("restart", {}).get("platform")
    if platform:
        back = platform["restart"]
        met = (
            back["all_back_seconds"] is not None
            and back["all_back_seconds"] < TARGETS["back_after_restart_seconds"]
            and back["events_lost"] == 0
        )
        add(
            f"after a restart every screen is back with every missed event within "
            f"{TARGETS['back_after_restart_seconds']} s",
            met,
            f"{back['clients_back']} back (last at {back['last_back_seconds']} s), "
            f"{back['clients_not_back']} not back, {back['events_lost']} lost",
        )
    return found


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="default: all")
    parser.add_argument(
        "--target", choices=["both", "platform", "baseline"], default="both", help="which side"
    )
    parser.add_argument("--sizes", default="500,1000,2150", help="screens, for fanout")
    parser.add_argument(
        "--rates", default="10,20,40,80,160", help="questions/s of the ramp after the steady 5/s"
    )
    parser.add_argument("--no-ramp", action="store_true", help="the steady step only")
    parser.add_argument("--vote-rate", type=float, default=TARGET_VOTE_RATE, help="per meeting")
    parser.add_argument("--idle", type=float, default=20, help="seconds of the idle window")
    parser.add_argument("--steady", type=float, default=20, help="seconds at 5 questions/s")
    parser.add_argument("--step", type=float, default=10, help="seconds of each ramp step")
    parser.add_argument("--drain", type=float, default=3, help="seconds without load after each")
    parser.add_argument("--sync", type=float, default=30, help="seconds for the final catch-up")
    parser.add_argument(
        "--screens",
        type=int,
        default=FULL_SCREENS,
        help="screens of the services and restart runs, and of the fan-out size whose steady "
        "step gives the latencies",
    )
    parser.add_argument("--conference-kiosks", type=int, default=100)
    parser.add_argument("--conference-phones", type=int, default=1600)
    parser.add_argument(
        "--restart-rate", type=float, default=1, help="questions/s meanwhile (20 votes each)"
    )
    parser.add_argument("--restart-window", type=float, default=30, help="seconds of that step")
    parser.add_argument("--back-deadline", type=float, default=90, help="seconds to wait")
    parser.add_argument("--generators", type=int, default=2, help="processes (+1 for moderators)")
    parser.add_argument("--connects-at-once", type=int, default=50, help="per generator process")
    parser.add_argument(
        "--generator-loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="the load generators' event loop (the servers keep their own)",
    )
    parser.add_argument(
        "--coalesce-ms",
        type=float,
        default=200,
        help="the baseline sends phones the events that come within this interval of their "
        "last frame together, in one batch frame; default: as the platform does "
        "(PHONE_BATCH_MS), so that both send the same frames",
    )
    parser.add_argument(
        "--baseline-drop-one-in",
        type=int,
        default=0,
        help="a test of the harness: the baseline leaves one socket out of one broadcast in N",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke test: small and short")
    parser.add_argument("--note", help="printed above the tables (e.g. how busy the machine was)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work folders and logs")
    args = parser.parse_args(argv)
    args.screens_full = args.screens
    if args.quick:
        args.sizes, args.rates, args.screens_full = "200", "10,20", 200
        args.idle, args.steady, args.step, args.drain, args.sync = 5, 6, 5, 2, 10
        args.conference_kiosks, args.conference_phones = 10, 60
        args.restart_window, args.back_deadline = 15, 60
    args.sizes = sorted(int(s) for s in str(args.sizes).split(","))
    args.rates = sorted(float(r) for r in str(args.rates).split(","))
    args.scenarios = args.scenario or list(SCENARIOS)
    return args


def run_scenario(scenario: str, target: str, into: dict, results: dict, save) -> None:
    if scenario == "fanout":
        sizes = into.setdefault(target, {})
        sizes.pop("error", None)
        for screens in ARGS.sizes:
            sizes[str(screens)] = fanout(target, screens)
            save()
        return
    if scenario == "services" and target == "baseline":
        # The baseline has no services: its figures at this load are those of its 2,150-screen
        # fan-out run (one process), measured now unless this run already did.
        fan = results.get("fanout", {}).get("baseline", {}).get(str(ARGS.screens_full))
        fresh = fan and "fanout" in ARGS.scenarios and "error" not in fan
        into[target] = fan if fresh else fanout(target, ARGS.screens_full)
        return
    runner = {"services": services, "conferences": conferences, "restart": restart}
    in_services = target == "platform" and scenario in ("services", "conferences")
    into[target] = runner[scenario]("platform-services" if in_services else target)


def main() -> None:
    global ARGS
    ARGS = parse_arguments()
    # The orchestrator shares the generators' core: the servers' core is theirs alone.
    if pinned(GENERATOR_CORE):
        os.sched_setaffinity(0, {GENERATOR_CORE})
    # A plain kill still stops the servers and drops the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    targets = ["platform", "baseline"] if ARGS.target == "both" else [ARGS.target]
    output = ARGS.output
    results = json.loads(output.read_text()) if output.exists() else {}
    if results.get("quick") != ARGS.quick:
        results = {}  # a smoke test and a real run are not mixed in one file
    began = time.time()

    def save() -> None:
        results.update(
            {
                "benchmark": "realtime",
                "machine": describe(),
                "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                "quick": ARGS.quick,
                "note": ARGS.note,
                "pinning": {
                    "servers": f"core {SERVER_CORE} (taskset -c {SERVER_CORE})"
                    if pinned(SERVER_CORE)
                    else "not pinned (fewer than two cores, or no taskset)",
                    "generators": f"core {GENERATOR_CORE} (taskset -c {GENERATOR_CORE}), with "
                    "the orchestrator"
                    if pinned(GENERATOR_CORE)
                    else "not pinned",
                    "postgresql_and_redis": "the machine's services, not pinned (on either "
                    "core); their CPU is measured on its own",
                },
                "load": {
                    "submit_rate": TARGET_SUBMIT_RATE,
                    "vote_rate": ARGS.vote_rate,
                    "ramp_rates": ARGS.rates,
                    "idle_seconds": ARGS.idle,
                    "steady_seconds": ARGS.steady,
                    "step_seconds": ARGS.step,
                    "drain_seconds": ARGS.drain,
                    "coalesce_ms": ARGS.coalesce_ms,
                    "generator_loop": ARGS.generator_loop,
                    "baseline_drop_one_in": ARGS.baseline_drop_one_in,
                    "saturated_cpu_percent": SATURATED_CPU_PERCENT,
                    "behind_p99_ms": BEHIND_P99_MS,
                },
                "full_screens": ARGS.screens_full,
                "targets": TARGETS,
            }
        )
        results["verdicts"] = verdicts(results)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    for scenario in ARGS.scenarios:
        into = results.setdefault(scenario, {})
        for target in targets:
            # One run that fails is reported as such; the others still run.
            try:
                run_scenario(scenario, target, into, results, save)
            except Exception as error:
                print(f"[{scenario} {target}] failed: {error!r}", flush=True)
                if scenario == "fanout":
                    into.setdefault(target, {})["error"] = repr(error)
                else:
                    into[target] = {"error": repr(error)}
            save()
    print(f"\nrealtime benchmark done in {time.time() - began:.0f} s")
    for verdict in results.get("verdicts", []):
        state = {True: "met", False: "MISSED", None: "n/a"}[verdict["met"]]
        print(f"  {state:6} {verdict['target']}: {verdict['figure']}")
    print(f"written: {output}")


ARGS = parse_arguments([])

if __name__ == "__main__":
    main()
