"""The writes benchmark's load generator: N clients in a closed loop (each sends its next request
when the last is answered), for one operation against one server. Run by bench/writes/run.py
in its own process, pinned to its own core:

    python -m bench.writes.load PLAN.json RESULT.json

The plan names the server, the operation and what it needs (links, sessions, question ids);
the result has the answers counted in the measuring window, their latencies, and the CPU the
server's process (and, on PostgreSQL, the database's backends) used in that window.
"""

import asyncio
import itertools
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import numpy as np
import psutil

SLUG = "load"
TEXT = "Đề nghị cho biết khi nào sửa đường liên thôn và cầu treo bản {n}, bà con đi lại khó khăn."


class Requests:
    """The requests of one client of one operation, the same against the product and against
    the baseline (which ignores what they say)."""

    def __init__(self, plan: dict, client: int, to_approve: Iterator[int]):
        self.plan, self.client, self.to_approve = plan, client, to_approve
        self.sent = 0

    def next(self) -> tuple[str, dict, dict | None] | None:
        """(path, headers, JSON body), or None when this client has nothing left to send."""
        plan, n = self.plan, self.sent
        self.sent += 1
        halls = plan["halls"]
        if plan["operation"] == "submit":
            hall = halls[(self.client + n * plan["concurrency"]) % len(halls)]
            device = hall["devices"][(n // len(halls)) % len(hall["devices"])]
            return (
                f"/api/meetings/{SLUG}/questions",
                {"X-Join-Link": hall["voter"], "X-Device-Id": device},
                {"client_id": str(uuid.uuid4()), "text": TEXT.format(n=n)},
            )
        if plan["operation"] == "approve":
            question = next(self.to_approve, None)
            if question is None:
                return None
            moderator = plan["moderators"][self.client % len(plan["moderators"])]
            session = f"{plan['session_cookie']}={moderator['session']}"
            return (
                f"/api/meetings/{SLUG}/questions/{question}/approve",
                {
                    "Cookie": f"{session}; csrftoken={moderator['csrf']}",
                    "X-CSRFToken": moderator["csrf"],
                },
                {},
            )
        # vote: each phone supports every question of the pool once, then the next phone of the
        # client's hall comes (a phone votes again only once the hall's have all voted)
        questions = plan["questions"]
        question = questions[(self.client + n) % len(questions)]
        hall = halls[self.client % len(halls)]
        device = hall["devices"][(n // len(questions)) % len(hall["devices"])]
        return (
            f"/api/meetings/{SLUG}/questions/{question}/vote",
            {"X-Join-Link": hall["voter"], "X-Device-Id": device},
            None,
        )


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def database_backends(database: str) -> list[int]:
    """The PostgreSQL backends serving our database (the pool keeps them open)."""
    if not database:
        return []
    pids = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and f" {database} " in cmdline:
            pids.append(process.pid)
    return pids


async def measure(plan: dict) -> dict:
    concurrency, warmup, seconds = plan["concurrency"], plan["warmup"], plan["seconds"]
    latencies: list[float] = []
    statuses: Counter = Counter()
    window = {"start": float("inf"), "end": float("inf")}
    stop = asyncio.Event()
    exhausted = 0

    # The clients take the questions to approve from one pool, each question once; the
    # baseline, which reads no id, may go round it.
    pool = plan["questions"]
    to_approve = itertools.cycle(pool) if plan["target"] == "baseline" and pool else iter(pool)

    async def client(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal exhausted
        requests = Requests(plan, index, to_approve)
        while not stop.is_set():
            request = requests.next()
            if request is None:
                exhausted += 1
                return
            path, headers, body = request
            began = time.monotonic()
            try:
                async with session.post(plan["base"] + path, headers=headers, json=body) as answer:
                    await answer.read()
                    status = str(answer.status)
            except aiohttp.ClientError as error:
                status = type(error).__name__
            ended = time.monotonic()
            if window["start"] <= ended <= window["end"]:
                latencies.append(ended - began)
                statuses[status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(client(i, session)) for i in range(concurrency)]
        await asyncio.sleep(warmup)
        backends = database_backends(plan.get("database", ""))
        server_cpu, database_cpu = cpu_seconds([plan["server_pid"]]), cpu_seconds(backends)
        window["start"] = time.monotonic()
        window["end"] = window["start"] + seconds
        await asyncio.sleep(seconds)
        server_cpu = cpu_seconds([plan["server_pid"]]) - server_cpu
        database_cpu = cpu_seconds(backends) - database_cpu
        stop.set()
        await asyncio.gather(*tasks)

    answered = sum(count for status, count in statuses.items() if status.startswith("2"))
    ms = np.array(latencies) * 1000
    return {
        "operation": plan["operation"],
        "target": plan["target"],
        "concurrency": concurrency,
        "seconds": seconds,
        "answered_2xx": answered,
        "per_second": round(answered / seconds, 1),
        "statuses": dict(statuses),
        "errors": sum(statuses.values()) - answered,
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
        "server_cpu_percent": round(server_cpu / seconds * 100, 1),
        "database_cpu_percent": round(database_cpu / seconds * 100, 1) if backends else None,
        # Clients that ran out of work (approvals: the questions to approve) before the end.
        "clients_out_of_work": exhausted,
    }


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(measure(plan))
    Path(sys.argv[2]).write_text(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
