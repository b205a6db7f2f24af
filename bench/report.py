"""Rewrite the tables of docs/benchmarks.md from the results in bench/results/.

Each benchmark's section lies between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the text
around the markers (what was measured, how to read it) is written by hand and kept.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"


def media_table(result: dict) -> str:
    lines = [
        f"Measured {result['date']} on {result['machine']}.",
        "",
        "| halls | our hub: CPU (% of a core) | programme fps | slowest hall fps "
        "| latency p50 / p95 (ms) | naive: CPU | slowest hall fps | latency p50 / p95 (ms) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = result["rows"]
    for halls in sorted({row["halls"] for row in rows}):
        ours = next(r for r in rows if r["halls"] == halls and r["mode"] == "ours")
        naive = next(r for r in rows if r["halls"] == halls and r["mode"] == "naive")
        cells = [
            halls,
            ours["hub_cpu_percent"],
            ours["hub_frames_per_second"],
            ours["hall_fps_min"],
            f"{ours['latency_p50_ms']} / {ours['latency_p95_ms']}",
            naive["hub_cpu_percent"],
            naive["hall_fps_min"],
            f"{naive['latency_p50_ms']} / {naive['latency_p95_ms']}",
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    direct = result["direct"]
    ours, naive = result.get("per_hall_ours"), result.get("per_hall_naive")
    ratio = f"{naive / ours:.0f}x" if ours and ours > 0 and naive else "n/a"
    verdict = (
        "met"
        if ours is not None and ours <= 0.5 and ratio != "n/a" and naive / ours >= 10
        else "**missed**"
    )
    lines += [
        "",
        f"- CPU per extra hall (least squares over the rows): ours **{ours}%** of a core, "
        f"naive **{naive}%**; naive / ours = **{ratio}**. Target (at most 0.5% per hall and "
        f"at least 10x below naive): {verdict}.",
        "- Without any hub (the test card straight to a decoding receiver): latency p50 "
        f"{direct['latency_p50_ms']} ms, p95 {direct['latency_p95_ms']} ms; "
        "the hub adds the difference.",
    ]
    base = result.get("base_ours")
    if ours and ours > 0 and base is not None:
        lines.append(
            f"- Projection: the hub costs {base}% of a core with no hall and {ours}% per hall, "
            f"so one hub process carries about **{int((100 - base) / ours)} halls** on one core."
        )
    for mode in ("ours", "naive"):
        saturated = [r["halls"] for r in rows if r["mode"] == mode and r.get("saturated")]
        if saturated:
            lines.append(
                f"- {'Our hub' if mode == 'ours' else 'The naive approach'} saturates this "
                f"machine from **{min(saturated)} halls** (a hall gets under 22 of the 25 "
                "frames per second, or the picture is more than 500 ms late); those rows are "
                "left out of its CPU-per-hall fit."
            )
    for line in result.get("notes", []):
        lines.append(f"- {line}")
    return "\n".join(lines)


WEAKLINK_TARGETS = {
    "audio_audible": "sound",
    "audio_continuous_whole": "continuous (whole)",
    "audio_continuous_steady": "continuous (steady)",
    "low_tier_video": "low-tier video",
    "under_64_kbps": "< 64 kbit/s",
    "under_64_kbps_all_traffic": "< 64 kbit/s with HTTP",
}


def weaklink_table(result: dict) -> str:
    link = result["link"]
    lines = [
        f"Measured {result['date']} on {result['machine']} "
        f"(1-minute load average {result['load_average_1min']['before']} before, "
        f"{result['load_average_1min']['after']} after).",
        "",
        f"Link: {link['rate_kbit']:g} kbit/s, {link['loss']:.0%} loss, {link['delay_ms']:g} ms "
        f"each way ({link['round_trip_ms']:g} ms round trip), a queue of {link['limit']} "
        f"packets, in both directions; {link['shaper_note']}. "
        f"{result['seconds_per_case']:g} s per case, from the kiosk's first programme media; "
        f'"steady" is from {result["settle_s"]:g} s on.',
    ]
    if result.get("product_overrides"):
        lines += ["", f"**Experiment, not the product:** {result['product_overrides']}."]
    lines += [
        "",
        "| hall | hub's tiers (s) | audio concealed, whole / steady | concealment events / min "
        "| sound played | video fps, size | longest video gap (s) "
        "| received kbit/s: RTP / IP (UDP) / all | targets |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | --- | --- |",
    ]
    names = {"adaptive": "placed by the hub", "low": "pinned low", "audio": "pinned audio-only"}
    for case, run in result["cases"].items():
        if "error" in run:
            lines.append(f"| {names.get(case, case)} | {run['error']} |" + " – |" * 7)
            continue
        whole, steady = run["whole"], run["steady"]
        video = steady["video"]
        received = whole["received"]
        verdicts = ", ".join(
            f"{WEAKLINK_TARGETS.get(name, name)} {'pass' if ok else '**fail**'}"
            for name, ok in run["pass"].items()
        )
        fps = "–" if video["fps"] is None else f"{video['fps']} ({video['frame_size_last'] or '–'})"
        if video.get("share_of_frames_made") is not None:
            fps += f", {video['share_of_frames_made']:.0%} of those made"
        gap = "–" if video["fps"] is None else video["longest_gap_without_a_new_frame_s"]
        cells = [
            names.get(case, case),
            ", ".join(f"{tier} {seconds:g}" for tier, seconds in whole["tier_seconds"].items()),
            f"{_weaklink_percent(whole['audio']['concealed_ratio'])} / "
            f"{_weaklink_percent(steady['audio']['concealed_ratio'])}",
            whole["audio"]["concealment_events_per_minute"],
            "yes" if run["pass"].get("audio_audible") else "**no**",
            fps,
            gap,
            f"{received['rtp_kbps']} / {received['ip_udp_kbps']} / {received['interface_rx_kbps']}",
            verdicts,
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines.append("")
    for case, run in result["cases"].items():
        if "error" in run:
            continue
        down = run.get("link_downlink") or {}
        studio = run.get("studio_reference") or {}
        resent = (run.get("downlink_by_kind") or {}).get("rtx", {}).get("offered_kbps")
        note = (
            f"- {names.get(case, case)}: page loaded in {run['page_load_s']} s, first media "
            f"after {run['first_media_s']} s, {run['rebuilds']} connection rebuild(s)"
        )
        if run["rebuilds"]:
            note += f" (last: {run['last_retry_reason']})"
        if run["tier_changes"]:
            changes = ", ".join(f"{c['tier']} at {c['t']:g} s" for c in run["tier_changes"])
            note += f"; tier: {changes}"
        if down:
            note += (
                f"; the link was offered {down['offered_kbps_mean']} kbit/s towards the hall"
                + (f" ({resent} of it retransmissions)" if resent else "")
                + f" and dropped {_weaklink_percent(down['drop_ratio'])} of its packets "
                f"(queue up to {down['queue_ms_max']:g} ms)"
            )
        if studio.get("packets_per_second") is not None:
            note += (
                f"; meanwhile the studio (no weak link) received {studio['packets_per_second']} "
                f"audio packets/s of 50, concealed "
                f"{_weaklink_percent(studio['concealed_ratio'])}, and decoded the programme at "
                f"{studio.get('programme_fps')} fps of 25"
            )
        lines.append(note + ".")
    for key, text in result["criteria"].items():
        lines.append(f"- Target `{key}`: {text}")
    for line in result.get("notes", []):
        lines.append(f"- {line}")
    return "\n".join(lines)


def _weaklink_percent(ratio) -> str:
    return "–" if ratio is None else f"{ratio:.1%}"


REALTIME_MODES = {
    "embedded": "embedded (one Daphne, SQLite, in-memory layer)",
    "services": "services (two Daphnes, PostgreSQL, Redis)",
}


def realtime_table(result: dict) -> str:
    target = result["target"]
    lines = [
        f"Measured {result['date']} on {result['machine']}.",
        "",
        "| mode | questions/s set (accepted) | votes/s set (accepted) "
        "| submit → moderators p50 / p95 / p99 (ms) "
        "| approve → kiosks and phones p50 / p95 / p99 (ms) "
        "| events lost | web CPU (% of a core) | web RSS (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    modes = result["modes"]
    for name, mode in modes.items():
        for row in mode["rows"]:
            cells = [
                name,
                f"{row['submit_rate']:g} ({row['submitted_per_second']:g})",
                f"{row['vote_rate']:g} ({row['votes_per_second']:g})",
                _latencies(row["submit_to_moderator_ms"]),
                _latencies(row["approve_to_screens_ms"]),
                row["events_lost"],
                row["server_cpu_percent"],
                row["server_rss_mib"],
            ]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines.append("")
    for name, mode in modes.items():
        met = "met" if mode["target"]["met"] else "**missed**"
        passes = mode["p99_over_250ms_at"]
        if isinstance(passes, dict):
            under = mode.get("p99_under_250ms_up_to")
            passes = (
                f"p99 passes 250 ms at **{passes['submit_rate']:g} question(s)/s** "
                f"({passes['vote_rate']:g} votes/s)"
                + (f"; under it up to {under['submit_rate']:g}/s" if under else "")
            )
        else:
            passes = f"p99 passes 250 ms: {passes}"
        clients = mode["clients"]
        load = mode.get("load_average_1min", {})
        lines.append(
            f"- {REALTIME_MODES.get(name, name)}, measured {mode['date']}: "
            f"{clients['phone']} phones, {clients['kiosk']} kiosks and {clients['moderator']} "
            f"moderators connected in {mode['connect_seconds']:g} s. Target "
            f"({target['submit_rate']:g} questions/s and {target['vote_rate']:g} votes/s with "
            f"p99 under {target['p99_ms']:g} ms and nothing lost): {met}. {passes}. "
            f"Events lost in all: {mode['events_lost']} "
            f"({mode['events_lost_detail']['undelivered']} never delivered, "
            f"{mode['events_lost_detail']['missing']} skipped in a client's sequence); "
            f"{mode['events_lost_detail']['skipped_by_snapshot']} replaced by a snapshot. "
            f"Idle with every client connected: {mode['idle_server_cpu_percent']}% CPU, "
            f"{mode['idle_server_rss_mib']} MiB."
            + (
                f" Load average {load['before']:.1f} before, {load['after']:.1f} after."
                if load
                else ""
            )
        )
    lines.append(
        "- A percentile shown as – fell among the screens that never showed the event (listed "
        "after it as a share of those expected); votes are announced in batches "
        "(`public.votes`), not one by one."
    )
    return "\n".join(lines)


def _latencies(latency: dict) -> str:
    values = [latency.get(key) for key in ("p50", "p95", "p99")]
    if "p50" not in latency:
        expected = latency["n"] + latency.get("missing", 0)
        return "none expected" if expected == 0 else f"too few ({latency['n']})"
    text = " / ".join("–" if value is None else f"{value:.0f}" for value in values)
    expected = latency["n"] + latency.get("missing", 0)
    if latency.get("missing"):
        text += f" ({latency['missing'] / expected:.0%} never)"
    return text


WRITES_MODES = {
    "embedded": "embedded (SQLite, in-memory layer)",
    "services": "services (PostgreSQL, Redis)",
}
WRITES_OPERATIONS = {
    "submit": "a phone sends a question",
    "approve": "a moderator approves",
    "vote": "a phone votes",
}


def writes_table(result: dict) -> str:
    settings = result["settings"]
    pinning = (
        "the server pinned to core 0 and the load generator to core 1"
        if settings["pinned"]
        else "not pinned (fewer than two cores)"
    )
    lines = [
        f"Measured {result['date']} on {result['machine']}: {settings['concurrency']} clients "
        f"in a closed loop, {settings['warmup_seconds']:g} s of warm-up then "
        f"{settings['measured_seconds']:g} s measured per figure, {pinning}.",
        "",
        "| mode | operation | per second (baseline) | ratio to the baseline "
        "| latency p50 / p99 in ms (baseline) | server CPU, % of a core (baseline) "
        "| database CPU (baseline) | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for name, mode in result["modes"].items():
        for row in mode["rows"]:
            ours, bare = row["product"], row["baseline"]
            database = (
                f"{ours['database_cpu_percent']} ({bare['database_cpu_percent']})"
                if ours.get("database_cpu_percent") is not None
                else "in the server"
            )
            cells = [
                WRITES_MODES.get(name, name),
                WRITES_OPERATIONS.get(row["operation"], row["operation"]),
                f"**{ours['per_second']:g}** ({bare['per_second']:g})",
                f"{row['ratio_to_baseline']:.2f}",
                f"{ours['p50_ms']} / {ours['p99_ms']} ({bare['p50_ms']} / {bare['p99_ms']})",
                f"{ours['server_cpu_percent']} ({bare['server_cpu_percent']})",
                database,
                ours["errors"] + bare["errors"],
            ]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
            if ours.get("clients_out_of_work"):
                notes.append(
                    f"{name}, {row['operation']}: {ours['clients_out_of_work']} of "
                    f"{ours['concurrency']} clients ran out of questions before the end, so "
                    "the figure is below what the server can do."
                )
            for side, figures in (("ours", ours), ("baseline", bare)):
                failed = {k: v for k, v in figures["statuses"].items() if not k.startswith("2")}
                if failed:
                    notes.append(f"{name}, {row['operation']} ({side}): answers {failed}.")
        load = mode["load_average_1min"]
        notes.append(
            f"{WRITES_MODES.get(name, name)}, measured {mode['date']} in "
            f"{mode['seconds_taken']} s: 1-minute load average {load['before']} before, "
            f"{load['after']} after."
        )
    lines.append("")
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines)


RENDERERS = {
    "media": media_table,
    "weaklink": weaklink_table,
    "realtime": realtime_table,
    "writes": writes_table,
}


def main() -> None:
    text = DOC.read_text()
    for name, render in RENDERERS.items():
        path = RESULTS / f"{name}.json"
        if not path.exists():
            print(f"no results for {name}", file=sys.stderr)
            continue
        table = render(json.loads(path.read_text()))
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(\n<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            sys.exit(f"docs/benchmarks.md has no markers for {name}")
        text = pattern.sub(lambda m, table=table: m.group(1) + table + m.group(2), text)
    DOC.write_text(text)


if __name__ == "__main__":
    main()
