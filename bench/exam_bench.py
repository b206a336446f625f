"""``make bench-exam``: the attestation test under load on the real stack (uvicorn, Celery worker and
beat, PostgreSQL, Redis). See bench/README.md for what is measured and how.

Phases, in one run:
  1. capacity: closed loop at maximum rate with the same concurrency, alternating rounds of the
     answer save (PUT .../answers/<p>/) and of the bare reference upsert (PUT /bench/ref/<k>/);
     their throughput ratio is ``save_ratio``;
  2. the sitting: N candidates enter within the start spread, change an answer every ~5 s, 20 %
     submit early, the rest run out of time (their browsers closed: the worker and beat finalise);
  3. the reference at the sitting's offered rate: N virtual clients, same think time, one upsert each;
  4. expiry: 1,000 attempts written straight into the database with deadlines spread over one
     minute, finalised by the worker (their tasks queued for the deadline, as attempt_start does) and
     again with no task at all (only the beat sweeper: tasks lost).
Ends with: candidates=N save_p99_ms=X save_ratio=R finalised_within_s=S lost_answers=L
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvloop

from bench.client import Ack, Candidate, Http, Recorder, Sample, Sim, loop_lag
from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    ClusterStack,
    Config,
    Db,
    Stack,
    all_processes_cpu,
    bench_cluster,
    check_services,
    cluster_bench_config,
    cpu_seconds,
    fmt,
    install_signal_handlers,
    log,
    machine_cpu,
    percentile,
    quiet_collector,
    recreate_database,
    run_setup,
    snapshot_source,
    table,
)

_dbs: dict[int, Db] = {}


def db(cfg: Config) -> Db:
    """The driver's kept connection to the bench database (one per Config)."""
    if id(cfg) not in _dbs:
        _dbs[id(cfg)] = Db(cfg)
    return _dbs[id(cfg)]


# --- Measuring the machine --------------------------------------------------------------------------


def _driver_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Snapshot:
    wall: float
    busy: float
    total: float
    web: float
    worker: float
    beat: float
    driver: float
    sessions: int
    commits: int
    procs: dict[int, tuple[float, int, str]]


class Meter:
    """CPU of each part of the stack and PostgreSQL's counters, per phase; PostgreSQL connections
    sampled every second by a thread."""

    def __init__(self, cfg: Config, stack: Stack) -> None:
        self.cfg, self.stack = cfg, stack
        self.phases: list[tuple[str, Snapshot, Snapshot]] = []
        self.connections: list[tuple[float, int]] = []
        self.cpu: list[tuple[float, float, float, float, float, float]] = []  # wall, busy, total, web, worker, driver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def snapshot(self) -> Snapshot:
        busy, total = machine_cpu()
        (row,) = db(self.cfg).rows(
            "SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = %s", [self.cfg.db_name]
        )
        return Snapshot(
            time.time(),
            busy,
            total,
            cpu_seconds(self.stack.web.group_pids()),
            cpu_seconds(self.stack.worker.group_pids()),
            cpu_seconds(self.stack.beat.group_pids()),
            _driver_cpu(),
            int(row[0]),
            int(row[1]),
            all_processes_cpu(),
        )

    def _sample(self) -> None:
        try:
            conn = self.cfg.pg("postgres")
        except Exception:
            return
        with conn:
            while not self._stop.wait(1.0):
                try:
                    busy, total = machine_cpu()
                    web, worker = cpu_seconds(self.stack.web.group_pids()), cpu_seconds(self.stack.worker.group_pids())
                    self.cpu.append((time.time(), busy, total, web, worker, _driver_cpu()))
                except Exception:  # a process gone between the listing and the reading
                    pass
                try:
                    (n,) = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.cfg.db_name]
                    ).fetchone() or (0,)
                    self.connections.append((time.time(), int(n)))
                except Exception:  # a sample missed is no failure
                    continue

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def phase(self, name: str) -> _PhaseContext:
        return _PhaseContext(self, name)

    def cpu_between(self, since: float, until: float) -> list[str]:
        """Busy, web, worker and driver CPU between two moments, as shares of all the cores (%)."""
        inside = [c for c in self.cpu if since <= c[0] <= until]
        if len(inside) < 2:
            return ["-"] * 4
        a, b = inside[0], inside[-1]
        total = (b[2] - a[2]) or 1
        wall = (b[0] - a[0]) or 1
        cores = os.cpu_count() or 1
        return [
            f"{100 * (b[1] - a[1]) / total:.0f}",
            *(f"{100 * (b[i] - a[i]) / wall / cores:.0f}" for i in (3, 4, 5)),
        ]

    def max_connections(self, since: float, until: float) -> int:
        return max((n for t, n in self.connections if since <= t <= until), default=0)


class _PhaseContext:
    def __init__(self, meter: Meter, name: str) -> None:
        self.meter, self.name = meter, name

    def __enter__(self) -> _PhaseContext:
        self.begin = self.meter.snapshot()
        return self

    def __exit__(self, *exc: object) -> None:
        self.meter.phases.append((self.name, self.begin, self.meter.snapshot()))


# --- Phases -----------------------------------------------------------------------------------------


@dataclass
class Results:
    rec: Recorder = field(default_factory=Recorder)
    capacity_rounds: list[tuple[str, int, float]] = field(default_factory=list)  # kind, count, seconds
    sitting: list[Candidate] = field(default_factory=list)
    capacity_candidates: list[Candidate] = field(default_factory=list)
    sitting_window: tuple[float, float] = (0.0, 0.0)  # all started .. first deadline
    sitting_span: tuple[float, float] = (0.0, 0.0)
    ref_open_span: tuple[float, float] = (0.0, 0.0)
    ref_open_offered: int = 0
    api_results: dict[str, int] = field(default_factory=dict)
    finalisation: dict[str, Any] = field(default_factory=dict)
    expiry: list[dict[str, Any]] = field(default_factory=list)
    integrity: dict[str, int] = field(default_factory=dict)


async def capacity_phase(args: argparse.Namespace, http: Http, res: Results, sim: Sim) -> None:
    """Closed loop at maximum rate, the same concurrency for both, alternating rounds."""
    rec = res.rec
    cands = [
        Candidate(i, f"cap-{i}", PASSWORD, http, rec, sim, random.Random(10_000 + i)) for i in range(args.concurrency)
    ]
    entered = await asyncio.gather(*(c.enter() for c in cands))
    if not all(entered):
        failed = [c.entry_failed for c in cands if c.entry_failed][:5]
        raise BenchError(f"capacity candidates could not start: {failed}")
    res.capacity_candidates = cands

    async def save_worker(c: Candidate, until: float, count_from: float, counter: list[int]) -> None:
        while time.time() < until:
            c.act()
            position = max(c.pending, key=lambda p: c.pending[p][2])
            answer, flagged, seq = c.pending.pop(position)
            r = await http.call(
                "PUT",
                f"/api/v1/exam/attempt/answers/{position}/",
                cookies=c.cookies,
                client=c.login,
                body={"answer": answer, "flagged": flagged, "seq": seq},
                csrf=True,
            )
            if r.status == 200 and isinstance(r.data, dict):
                c.acks.append(Ack(int(r.data["position"]), int(r.data["seq"]), list(r.data["answer"])))
            if time.time() >= count_from:
                rec.response("cap_save", r)
                if r.status == 200 and time.time() <= until:
                    counter[0] += 1

    async def ref_worker(i: int, until: float, count_from: float, counter: list[int]) -> None:
        seq = 0
        while time.time() < until:
            seq += 1
            r = await http.call(
                "PUT",
                f"/bench/ref/cap-{i}-{seq % 40 + 1}/",
                body={"answer": [seq % 4], "flagged": False, "seq": seq},
                client=f"cap-ref-{i}",
            )
            if time.time() >= count_from:
                rec.response("cap_ref", r)
                if r.status == 200 and time.time() <= until:
                    counter[0] += 1

    for round_no in range(args.capacity_rounds):
        for kind in ("ref", "save"):
            begin = time.time()
            count_from, until = begin + args.capacity_warmup, begin + args.capacity_warmup + args.capacity_seconds
            counter = [0]
            if kind == "save":
                await asyncio.gather(*(save_worker(c, until, count_from, counter) for c in cands))
            else:
                await asyncio.gather(*(ref_worker(i, until, count_from, counter) for i in range(args.concurrency)))
            res.capacity_rounds.append((kind, counter[0], args.capacity_seconds))
            log(
                f"  capacity round {round_no + 1} {kind}: {counter[0] / args.capacity_seconds:.0f} req/s "
                f"at concurrency {args.concurrency}"
            )
    # Finish the capacity attempts now so that they do not expire during the sitting.
    await asyncio.gather(*(c.submit() for c in cands))


async def sitting_phase(args: argparse.Namespace, http: Http, res: Results, sim: Sim) -> None:

    rng = random.Random(sim.seed)
    cands = [
        Candidate(i, f"bench-{i}", PASSWORD, http, res.rec, sim, random.Random(sim.seed * 1_000_003 + i))
        for i in range(args.candidates)
    ]
    submitters = set(rng.sample(range(args.candidates), round(args.candidates * sim.submit_fraction)))
    begin = time.time() + 1.0
    starts = [begin + rng.uniform(0, sim.start_spread) for _ in cands]
    res.sitting = cands
    progress = asyncio.ensure_future(_progress(res))
    try:
        await asyncio.gather(*(c.sit(starts[c.index], c.index in submitters) for c in cands))
    finally:
        progress.cancel()
    entered = [c for c in cands if c.attempt is not None]
    if entered:
        all_started = max(c.entered_at for c in entered)
        first_deadline = min(c.deadline for c in entered)
        res.sitting_window = (all_started, first_deadline)
        res.sitting_span = (begin, max(c.deadline for c in entered))


async def _progress(res: Results) -> None:
    while True:
        await asyncio.sleep(15)
        saves = res.rec.samples.get("save", [])
        recent = [s for s in saves if s.at >= time.time() - 15]
        ok = [s.ms for s in recent if s.status == 200]
        entered = sum(1 for c in res.sitting if c.attempt is not None)
        log(
            f"  sitting: {entered} in, {len(ok) / 15:.0f} saves/s last 15 s, p99 {fmt(percentile(ok, 99))} ms, "
            f"errors {sum(1 for s in recent if s.status != 200)}"
        )


async def reference_open_phase(args: argparse.Namespace, http: Http, res: Results, sim: Sim) -> None:
    """The bare upsert at the sitting's offered rate: N clients, the same think time."""

    begin = time.time() + 0.5
    end = begin + args.reference_seconds
    offered = [0]

    async def client(i: int) -> None:
        rng = random.Random(77 + i)
        t = begin + rng.uniform(0, sim.interval)
        seq = 0
        while t < end:
            await asyncio.sleep(max(0.0, t - time.time()))
            seq += 1
            offered[0] += 1
            r = await http.call(
                "PUT",
                f"/bench/ref/open-{i}-{seq % 40 + 1}/",
                body={"answer": [rng.randrange(4)], "flagged": False, "seq": seq},
                client=f"open-{i}",
            )
            res.rec.response("ref_open", r)
            t += sim.interval * rng.uniform(1 - sim.jitter, 1 + sim.jitter)

    await asyncio.gather(*(client(i) for i in range(args.candidates)))
    res.ref_open_span = (begin + sim.interval, end)  # after every client has sent its first one
    res.ref_open_offered = offered[0]


async def read_results(http: Http, res: Results) -> None:
    """Each candidate asks for the result, as the page does after the end (and so checks the API)."""
    sem = asyncio.Semaphore(32)
    statuses: dict[str, int] = {}

    async def one(c: Candidate) -> None:
        async with sem:
            r = await http.call("GET", "/api/v1/exam/attempt/", cookies=c.cookies, client=c.login)
            res.rec.response("result", r)
            key = (r.data or {}).get("status", f"HTTP {r.status}") if isinstance(r.data, dict) else f"HTTP {r.status}"
            statuses[key] = statuses.get(key, 0) + 1

    await asyncio.gather(*(one(c) for c in res.sitting if c.attempt is not None))
    res.api_results = statuses


async def drive(args: argparse.Namespace, cfg: Config, stack: Stack, meter: Meter, res: Results) -> None:
    sim = Sim(interval=args.interval, start_spread=args.start_spread, submit_fraction=args.submit_fraction)
    stop_lag = asyncio.Event()
    lag = asyncio.ensure_future(loop_lag(res.rec, stop_lag))
    async with Http(cfg.base_url, pool=args.pool, timeout=30) as http:
        if args.capacity_seconds > 0:
            log(f"phase 1: capacity, closed loop, concurrency {args.concurrency}")
            with meter.phase("capacity"):
                await capacity_phase(args, http, res, sim)
            stack.check_alive()
        if args.candidates > 0:
            log(
                f"phase 2: the sitting: {args.candidates} candidates, starts over {sim.start_spread:.0f} s, "
                f"an answer every ~{sim.interval:.0f} s, {cfg.duration_minutes} min"
            )
            with meter.phase("sitting"):
                await sitting_phase(args, http, res, sim)
            stack.check_alive()
            log("  sitting over; waiting for every attempt to be finalised")
            res.finalisation = await asyncio.to_thread(wait_finalised_sitting, cfg, res)
            await read_results(http, res)
            if args.reference_seconds > 0:
                # What the sitting's end set going (the decisions drafted for each attempt) runs
                # first: the reference is measured on a machine as quiet as the sitting found it.
                settled = await asyncio.to_thread(worker_settled, stack)
                log(f"  the Celery worker settled after {settled:.0f} s")
                log(f"phase 3: the reference upsert at the same offered rate, {args.reference_seconds:.0f} s")
                with meter.phase("reference"):
                    await reference_open_phase(args, http, res, sim)
    stop_lag.set()
    await lag


def worker_settled(stack: Stack, *, idle_share: float = 0.05, give_up: float = 180.0) -> float:
    """Wait until the Celery worker uses less than ``idle_share`` of a core over a second; the
    seconds waited."""
    began = time.time()
    last = cpu_seconds(stack.worker.group_pids())
    while time.time() - began < give_up:
        time.sleep(1.0)
        now = cpu_seconds(stack.worker.group_pids())
        if now - last < idle_share:
            break
        last = now
    return time.time() - began


# --- Database checks --------------------------------------------------------------------------------


def _lags(cfg: Config, ids: list[int]) -> list[tuple[int, str, str, float, float | None, float | None]]:
    """(attempt, status, finish_reason, deadline, finalised at, finished_at) for the attempts; the
    moment of finalisation is the time of its 'expired' or 'submitted' event, since finished_at is
    the deadline by design."""
    rows = db(cfg).rows(
        """
            SELECT a.id, a.status, a.finish_reason, EXTRACT(EPOCH FROM a.deadline_at)::float8,
                   (SELECT EXTRACT(EPOCH FROM min(e.at))::float8 FROM exam_attemptevent e
                     WHERE e.attempt_id = a.id AND e.kind IN ('expired', 'submitted')),
                   EXTRACT(EPOCH FROM a.finished_at)::float8
            FROM exam_attempt a WHERE a.id = ANY(%s)
            """,
        [ids],
    )
    return [(int(r[0]), r[1], r[2], float(r[3]), r[4], r[5]) for r in rows]


def wait_until_finalised(cfg: Config, ids: list[int], give_up_at: float, poll: float = 0.5) -> dict[int, float]:
    """Poll until no attempt of ``ids`` is in progress; returns when each was first seen finished."""
    seen: dict[int, float] = {}
    while True:
        rows = db(cfg).rows("SELECT id, status FROM exam_attempt WHERE id = ANY(%s)", [ids])
        now = time.time()
        for pk, status in rows:
            if status != "in_progress" and pk not in seen:
                seen[pk] = now
        if len(seen) == len(ids) or now > give_up_at:
            return seen
        time.sleep(poll)


def wait_finalised_sitting(cfg: Config, res: Results) -> dict[str, Any]:
    ids = [c.attempt for c in res.sitting if c.attempt is not None]
    if not ids:
        return {"attempts": 0}
    last_deadline = max(c.deadline for c in res.sitting if c.attempt is not None)
    wait_until_finalised(cfg, ids, give_up_at=last_deadline + 4 * cfg.sweep_seconds + 60)
    rows = _lags(cfg, ids)
    expired = [r for r in rows if r[2] == "deadline" and r[4] is not None]
    lags = [r[4] - r[3] for r in expired]  # type: ignore[operator]
    return {
        "attempts": len(ids),
        "submitted": sum(1 for r in rows if r[2] == "submitted"),
        "deadline": len(expired),
        "unfinalised": sum(1 for r in rows if r[1] == "in_progress"),
        "finished_at_is_deadline": sum(1 for r in expired if r[5] is not None and abs(r[5] - r[3]) < 0.001),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags, default=float("nan")),
    }


def check_acks(cfg: Config, cands: list[Candidate]) -> dict[str, int]:
    """Every acknowledged save (a 200 with seq S for position P) must be in the database: the item's
    seq >= S, and the same answer when the seq is S."""
    by_attempt = {c.attempt: c for c in cands if c.attempt is not None}
    rows = db(cfg).rows(
        "SELECT attempt_id, position, seq, answer FROM exam_attemptitem WHERE attempt_id = ANY(%s)",
        [list(by_attempt)],
    )
    stored = {(int(a), int(p)): (int(s), list(ans)) for a, p, s, ans in rows}
    acks = lost = 0
    for attempt, c in by_attempt.items():
        for ack in c.acks:
            acks += 1
            seq, answer = stored.get((attempt, ack.position), (0, []))
            if seq < ack.seq or (seq == ack.seq and sorted(answer) != sorted(ack.answer)):
                lost += 1
    return {"acknowledged": acks, "lost": lost}


# --- Expiry -----------------------------------------------------------------------------------------


def expiry_test(
    cfg: Config, stack: Stack, meter: Meter, count: int, eta: bool, lead: float, spread: float
) -> dict[str, Any]:
    label = "tasks at deadline + sweeper" if eta else "sweeper only (no tasks)"
    log(f"expiry: {count} attempts, deadlines over {spread:.0f} s, {label}")
    args = ["expiry", "--count", str(count), "--lead", str(lead), "--spread", str(spread)]
    seeded = run_setup(cfg, *(args + (["--eta"] if eta else [])))
    ids = [int(i) for i in seeded["attempts"]]
    first, last = float(seeded["first_deadline"]), float(seeded["last_deadline"])
    log_offset = stack.worker.log_path.stat().st_size
    with meter.phase(f"expiry {'eta' if eta else 'sweeper'}"):  # after the seeding subprocess
        seen = wait_until_finalised(cfg, ids, give_up_at=last + 180)
    stack.check_alive()
    rows = _lags(cfg, ids)
    lags = [r[4] - r[3] for r in rows if r[4] is not None]  # type: ignore[operator]
    finalised_at = [r[4] for r in rows if r[4] is not None]
    with open(stack.worker.log_path, "rb") as f:
        f.seek(log_offset)
        worker_log = f.read().decode(errors="replace")
    sweeps = [
        (float(m.group(1)), int(m.group(2)))
        for m in re.finditer(r"exam\.tasks\.attempt_sweep\[[^\]]+\] succeeded in ([\d.]+)s: (\d+)", worker_log)
    ]
    finalize_tasks = [
        int(m.group(1))
        for m in re.finditer(r"exam\.tasks\.attempt_finalize_second\[[^\]]+\] succeeded in [\d.]+s: (\d+)", worker_log)
    ]
    return {
        "label": label,
        "count": count,
        "finalised": sum(1 for r in rows if r[1] != "in_progress"),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags, default=float("nan")),
        "within_60": sum(1 for x in lags if x <= 60),
        "last_after_first_deadline": (max(finalised_at) - first) if finalised_at else float("nan"),
        "last_after_last_deadline": (max(finalised_at) - last) if finalised_at else float("nan"),
        "observed_last_after_last_deadline": (max(seen.values()) - last) if seen else float("nan"),
        "finished_at_is_deadline": sum(1 for r in rows if r[5] is not None and abs(r[5] - r[3]) < 0.001),
        "sweeps": sweeps,
        "finalize_tasks": finalize_tasks,
    }


# --- Report -----------------------------------------------------------------------------------------


def latency_row(rec: Recorder, label: str, kind: str, since: float = 0, until: float = float("inf")) -> list[Any]:
    all_samples = [s for s in rec.samples.get(kind, []) if since <= s.at <= until]
    ok = [s.ms for s in all_samples if 200 <= s.status < 300]
    errors = len(all_samples) - len(ok)
    span = (until - since) if until != float("inf") and since else 0
    rate = f"{len(ok) / span:.1f}" if span > 0 else "-"
    return [
        label,
        len(ok),
        errors,
        rate,
        fmt(percentile(ok, 50)),
        fmt(percentile(ok, 95)),
        fmt(percentile(ok, 99)),
        fmt(max(ok, default=float("nan"))),
    ]


def tail_row(label: str, samples: list[Sample]) -> list[Any]:
    """Where the time of the slowest 1 % of ``samples`` (answered ones) went, in mean ms each: the
    client's wait for a connection of its pool, the server's wait for a thread, the application, and
    the rest (the server's event loop, the network, the client's event loop); and the share of all
    of them served by the busiest server process."""
    ok = [s for s in samples if s.status > 0]
    p99 = percentile([s.ms for s in ok], 99)
    slow = [s for s in ok if s.ms >= p99]
    if not slow:
        return [label, len(ok), "-", "-", "-", "-", "-", "-", "-"]

    def mean(values: list[float]) -> float:
        known = [v for v in values if v == v]  # without NaN: no Server-Timing
        return sum(known) / len(known) if known else float("nan")

    pool, wait, app = mean([s.pool_ms for s in slow]), mean([s.wait_ms for s in slow]), mean([s.app_ms for s in slow])
    total = mean([s.ms for s in slow])
    by_process = Counter(s.process for s in ok if s.process)
    busiest = f"{100 * max(by_process.values()) / sum(by_process.values()):.0f}" if by_process else "-"
    return [
        label,
        len(ok),
        fmt(p99),
        fmt(total),
        fmt(pool),
        fmt(wait),
        fmt(app),
        fmt(total - pool - wait - app),
        busiest,
    ]


def report(args: argparse.Namespace, cfg: Config, res: Results, meter: Meter, wall: float) -> float:
    rec = res.rec
    print()
    print("=" * 100)
    print(
        f"make bench-exam: {args.candidates} candidates, EXAM_DURATION_MINUTES={cfg.duration_minutes}, "
        f"uvicorn workers={cfg.web_workers}, Celery --concurrency={cfg.worker_concurrency}, "
        f"EXAM_SWEEP_SECONDS={cfg.sweep_seconds}, client connections={args.pool or 'one per candidate'}, capacity concurrency={args.concurrency}"
    )
    print(
        f"code: {getattr(args, 'version', '?')}; DJANGO_SETTINGS_MODULE={args.settings}; extra env: {args.env or 'none'}"
    )
    print("=" * 100)
    steady_from, steady_to = res.sitting_window
    s_begin, s_end = res.sitting_span
    rows = [
        latency_row(rec, "GET /exam/ (sitting)", "page", s_begin, s_end),
        latency_row(rec, "login (sitting)", "login", s_begin, s_end),
        latency_row(rec, "start (sitting)", "start", s_begin, s_end),
        latency_row(rec, "save, whole sitting", "save", s_begin, s_end),
        latency_row(rec, "save, steady state", "save", steady_from, steady_to),
        latency_row(rec, "submit", "submit", s_begin, s_end),
        latency_row(rec, "reference upsert, same rate", "ref_open", *res.ref_open_span),
        latency_row(rec, "result (GET attempt)", "result"),
    ]
    cap_save = sum(n for kind, n, _s in res.capacity_rounds if kind == "save")
    cap_ref = sum(n for kind, n, _s in res.capacity_rounds if kind == "ref")
    cap_secs = sum(s for kind, _n, s in res.capacity_rounds if kind == "save") or 1
    if res.capacity_rounds:
        rows.append(latency_row(rec, f"save, closed loop c={args.concurrency}", "cap_save"))
        rows.append(latency_row(rec, f"reference, closed loop c={args.concurrency}", "cap_ref"))
    print("\nLatency (ms) and throughput (req/s over the window); errors = non-2xx or no response")
    print(table(["request", "ok", "errors", "req/s", "p50", "p95", "p99", "max"], rows))
    lag = [s.ms for s in rec.samples.get("loop_lag", [])]
    print(
        f"(client event-loop lag, an upper bound of the client's own error: p50 {fmt(percentile(lag, 50))} ms, "
        f"p99 {fmt(percentile(lag, 99))} ms, max {fmt(max(lag, default=float('nan')))} ms)"
    )
    print(
        f"steady state = from the last start ({time.strftime('%H:%M:%S', time.localtime(steady_from))}) "
        f"to the first deadline ({time.strftime('%H:%M:%S', time.localtime(steady_to))}), {steady_to - steady_from:.0f} s"
    )

    if res.sitting:
        print(
            "\nThe sitting, 15 s at a time (seconds from the first entry; client lag = the longest the load "
            "generator's event loop woke late, which every request in flight then counts; CPU as shares of all the cores)"
        )
        series = []
        entries = sorted(c.entered_at for c in res.sitting if c.attempt is not None)
        t = s_begin
        while t < s_end:
            window = [x for x in rec.samples.get("save", []) if t <= x.at < t + 15]
            ok = [x.ms for x in window if x.status == 200]
            starts = [x.ms for x in rec.samples.get("start", []) if t <= x.at < t + 15 and x.status == 201]
            lag = [x.ms for x in rec.samples.get("loop_lag", []) if t <= x.at < t + 15]
            series.append(
                [
                    f"{t - s_begin:4.0f}-{t - s_begin + 15:.0f}",
                    sum(1 for e in entries if e < t + 15),
                    len(starts),
                    f"{len(ok) / 15:.0f}",
                    fmt(percentile(ok, 50)),
                    fmt(percentile(ok, 99)),
                    fmt(max(ok, default=float("nan"))),
                    len(window) - len(ok),
                    fmt(max(lag, default=float("nan"))),
                    *meter.cpu_between(t, t + 15),
                ]
            )
            t += 15
        cpu_headers = ["busy %", "web %", "worker %", "driver %"]
        print(
            table(
                [
                    "s",
                    "in",
                    "starts",
                    "saves/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "errors",
                    "client lag max ms",
                    *cpu_headers,
                ],
                series,
            )
        )

        print(
            "\nWhere the slowest 1 % of the sitting's requests spent their time, 15 s at a time (mean ms: the "
            "client waiting for a connection, the server's request waiting for a thread, the application; rest = "
            "the server's event loop, the network and the client's event loop; busiest process = its share of "
            "the window's requests)"
        )
        kinds = ("page", "login", "start", "save", "submit")
        tails = []
        t = s_begin
        while t < s_end:
            window = [x for k in kinds for x in rec.samples.get(k, []) if t <= x.at < t + 15]
            tails.append(tail_row(f"{t - s_begin:4.0f}-{t - s_begin + 15:.0f}", window))
            t += 15
        for kind in (*kinds, "ref_open"):
            since, until = res.ref_open_span if kind == "ref_open" else (s_begin, s_end)
            tails.append(tail_row(kind, [x for x in rec.samples.get(kind, []) if since <= x.at <= until]))
        headers = ["s / request", "n", "p99", "slowest 1 %", "client pool", "server wait", "app", "rest"]
        print(table([*headers, "busiest process %"], tails))

    save_ratio = float("nan")
    if res.capacity_rounds:
        save_ratio = cap_save / cap_ref if cap_ref else float("nan")
        print("\nCapacity (closed loop, maximum rate, same concurrency, alternating rounds)")
        cap_rows = [
            [f"round {i // 2 + 1} {kind}", f"{n / s:.1f}"] for i, (kind, n, s) in enumerate(res.capacity_rounds)
        ]
        cap_rows.append(["answer save, all rounds", f"{cap_save / cap_secs:.1f}"])
        cap_rows.append(["reference upsert, all rounds", f"{cap_ref / cap_secs:.1f}"])
        cap_rows.append(["save_ratio = save / reference", f"{save_ratio:.2f}"])
        print(table(["round", "req/s"], cap_rows))
    open_save = latency_row(rec, "", "save", steady_from, steady_to)
    open_ref = latency_row(rec, "", "ref_open", *res.ref_open_span)
    print(
        f"\nOpen loop at the sitting's offered rate: saves {open_save[3]} /s (steady state) vs reference "
        f"{open_ref[3]} /s (offered {res.ref_open_offered} in {args.reference_seconds:.0f} s)"
    )

    fin = res.finalisation
    print("\nFinalisation")
    fin_rows = [
        [
            "sitting (browsers closed at the deadline)",
            fin.get("attempts", 0),
            f"{fin.get('deadline', 0)} by deadline, {fin.get('submitted', 0)} submitted",
            fin.get("unfinalised", 0),
            fmt(fin.get("lag_p50", float("nan")), 2),
            fmt(fin.get("lag_p99", float("nan")), 2),
            fmt(fin.get("lag_max", float("nan")), 2),
            "-",
        ]
    ]
    for e in res.expiry:
        fin_rows.append(
            [
                f"expiry: {e['label']}",
                e["count"],
                f"{e['finalised']} finalised, {e['within_60']} within 60 s",
                e["count"] - e["finalised"],
                fmt(e["lag_p50"], 2),
                fmt(e["lag_p99"], 2),
                fmt(e["lag_max"], 2),
                f"{fmt(e['last_after_first_deadline'])} / {fmt(e['last_after_last_deadline'])}",
            ]
        )
    print(
        table(
            [
                "attempts",
                "n",
                "how",
                "unfinalised",
                "lag p50 s",
                "lag p99 s",
                "lag max s",
                "last finalised after first/last deadline s",
            ],
            fin_rows,
        )
    )
    print(
        "(lag = time of the attempt's 'expired' event - deadline_at; finished_at itself is recorded as the "
        "deadline by design)"
    )
    for e in res.expiry:
        sweeps = ", ".join(f"{n} in {d:.1f}s" for d, n in e["sweeps"] if n) or "none finalised anything"
        tasks = e["finalize_tasks"]
        print(
            f"  {e['label']}: tasks of a second of deadlines run {len(tasks)}, finalising {sum(tasks)}; sweeps: {sweeps}"
        )
    print(f"API result after the end: {res.api_results}")

    print("\nIntegrity")
    print(
        table(
            ["check", "value"],
            [
                ["acknowledged saves (sitting + capacity)", res.integrity.get("acknowledged", 0)],
                ["lost answers", res.integrity.get("lost", 0)],
                ["saves left unacknowledged at the end", sum(c.unacked_at_end for c in res.sitting)],
                ["candidates that could not enter", sum(1 for c in res.sitting if c.entry_failed)],
            ],
        )
    )

    print(
        "\nCPU by phase (share of the 2 cores = 100 %; PG live = PostgreSQL processes alive at the end of the phase; "
        "foreign = processes not of the bench (another developer's tests, other services); other = the rest, "
        "mostly PostgreSQL backends that ended during the phase)"
    )
    cpu_rows = []
    for name, a, b in meter.phases:
        total = (b.total - a.total) or 1
        wall_s = b.wall - a.wall
        parts = {
            "web": b.web - a.web,
            "worker": b.worker - a.worker,
            "beat": b.beat - a.beat,
            "driver": b.driver - a.driver,
            "postgres": 0.0,
            "redis": 0.0,
            "foreign": 0.0,
        }
        ours = {pgid for p in meter.stack.procs for pgid in p.pgids()} | {os.getpid()}
        for pid, (cpu, pgrp, comm) in b.procs.items():
            if pgrp in ours or pid in ours:
                continue
            used = cpu - a.procs[pid][0] if pid in a.procs and a.procs[pid][2] == comm else cpu
            label = "postgres" if comm.startswith("postgres") else "redis" if comm.startswith("redis") else "foreign"
            parts[label] += used
        busy = b.busy - a.busy
        other = busy - sum(parts.values())
        requests = b.commits - a.commits
        cpu_rows.append(
            [
                name,
                f"{wall_s:.0f}",
                f"{100 * busy / total:.0f}",
                *(f"{100 * v / total:.0f}" for v in parts.values()),
                f"{100 * max(other, 0) / total:.0f}",
                b.sessions - a.sessions,
                requests,
                meter.max_connections(a.wall, b.wall),
            ]
        )
    print(
        table(
            [
                "phase",
                "s",
                "busy %",
                "web %",
                "worker %",
                "beat %",
                "driver %",
                "PG live %",
                "redis %",
                "foreign %",
                "other %",
                "PG sessions opened",
                "PG commits",
                "PG conns max",
            ],
            cpu_rows,
        )
    )

    if rec.errors:
        print("\nErrors")
        print(table(["request", "error", "count"], [[k, e, n] for (k, e), n in sorted(rec.errors.items())]))
    print(f"\nwall clock of the run: {wall:.0f} s")
    return save_ratio


# --- Main -------------------------------------------------------------------------------------------


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", type=int, default=500)
    p.add_argument("--duration-minutes", type=float, default=3.0)
    p.add_argument("--interval", type=float, default=5.0, help="mean seconds between two saves of a candidate")
    p.add_argument("--start-spread", type=float, default=45.0)
    p.add_argument("--submit-fraction", type=float, default=0.2)
    p.add_argument(
        "--web-workers",
        type=int,
        default=0,
        help="uvicorn workers: 0 for 4 on one server, or with --cluster one per core shared by the nodes (deploy.cluster)",
    )
    p.add_argument("--worker-concurrency", type=int, default=2)
    p.add_argument("--sweep-seconds", type=int, default=15)
    p.add_argument(
        "--pool",
        type=int,
        default=0,
        help="client connections: 0 = each candidate its own, as a browser (default); N = one pool of N shared",
    )
    p.add_argument("--concurrency", type=int, default=32, help="closed-loop concurrency of the capacity phase")
    p.add_argument("--capacity-seconds", type=float, default=15.0, help="per round; 0 skips the phase")
    p.add_argument("--capacity-warmup", type=float, default=2.0)
    p.add_argument("--capacity-rounds", type=int, default=2)
    p.add_argument("--reference-seconds", type=float, default=60.0, help="0 skips the open-loop reference")
    p.add_argument("--expiry", type=int, default=1000, help="attempts of the expiry test; 0 skips it")
    p.add_argument("--expiry-modes", default="eta,sweeper", help="eta (tasks + sweeper), sweeper (no tasks)")
    p.add_argument("--expiry-spread", type=float, default=60.0)
    p.add_argument("--expiry-lead", type=float, default=15.0)
    p.add_argument("--settings", default="config.settings", help="DJANGO_SETTINGS_MODULE of the stack")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment of the stack")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--no-prepare", action="store_true", help="no test drawn ahead: every start draws its own")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="through HAProxy to the app nodes of a cluster of its own (deploy/cluster.py), --web-workers shared among them",
    )
    p.add_argument("--cluster-nodes", type=int, default=2)
    return p.parse_args()


def main() -> int:
    args = parse()
    install_signal_handlers()
    cfg = Config(
        var_dir=ROOT / "var" / "bench" / "exam",  # its own: other benches share var/bench
        port=args.port,
        web_workers=args.web_workers or 4,
        worker_concurrency=args.worker_concurrency,
        duration_minutes=args.duration_minutes,
        sweep_seconds=args.sweep_seconds,
        extra_env={
            "DJANGO_SETTINGS_MODULE": args.settings,
            "HTTP_SERVER_TIMING": "1",
            **dict(e.split("=", 1) for e in args.env),
        },
    )
    modes = [m.strip() for m in args.expiry_modes.split(",") if m.strip()] if args.expiry else []
    started = time.time()
    stack: Stack | ClusterStack | None = None
    meter: Meter | None = None
    res = Results()
    failures: list[str] = []
    save_ratio = float("nan")
    try:
        if args.cluster:
            cluster = bench_cluster(
                var_name="exam-cluster",
                port=args.port,
                nodes=args.cluster_nodes,
                node_workers=args.web_workers // args.cluster_nodes,
                worker_concurrency=args.worker_concurrency,
                env={k: v for k, v in cfg.env().items() if k in cfg.extra_env or k.startswith("EXAM_")},
            )
            cfg = cluster_bench_config(
                cluster,
                web_workers=cluster.cfg.nodes * cluster.cfg.node_workers,
                worker_concurrency=args.worker_concurrency,
                duration_minutes=args.duration_minutes,
                sweep_seconds=args.sweep_seconds,
                extra_env=cfg.extra_env,
            )
            stack = ClusterStack(cluster)
            log(
                f"starting the cluster: HAProxy on {args.port}, {args.cluster_nodes} app nodes; logs in {cluster.cfg.log_dir}"
            )
            stack.up()
        check_services(cfg)
        version = snapshot_source(cfg)
        log(f"code: {version}, copied to {cfg.src}")
        args.version = version
        if stack is None:
            log(f"recreating the database {cfg.db_name} and emptying Redis db {cfg.redis_db}")
            recreate_database(cfg)
        prepared = run_setup(
            cfg,
            "prepare",
            "--candidates",
            str(args.candidates),
            "--capacity",
            str(args.concurrency if args.capacity_seconds > 0 else 0),
            "--expiry",
            str(args.expiry * len(modes)),
            *(["--no-prepare"] if args.no_prepare else []),
        )
        log(f"prepared: {prepared}")
        db(cfg).rows("SELECT 1")  # the driver's connection, opened before any load
        if stack is None:
            stack = Stack(cfg)
            log(f"starting uvicorn ({cfg.web_workers} workers), the Celery worker and beat; logs in {cfg.log_dir}")
            stack.start()
        meter = Meter(cfg, stack)
        meter.start()
        try:
            quiet_collector()
            uvloop.run(drive(args, cfg, stack, meter, res))
        except BenchError as exc:
            failures.append(f"load phases: {exc}")
        for mode in modes:
            try:
                res.expiry.append(
                    expiry_test(cfg, stack, meter, args.expiry, mode == "eta", args.expiry_lead, args.expiry_spread)
                )
            except BenchError as exc:
                failures.append(f"expiry {mode}: {exc}")
        res.integrity = check_acks(cfg, res.sitting + res.capacity_candidates)
        meter.stop()
        save_ratio = report(args, cfg, res, meter, time.time() - started)
    except BenchError as exc:
        failures.append(str(exc))
    finally:
        if meter is not None:
            meter.stop()
        if stack is not None:
            log("stopping the stack")
            stack.stop()
    for failure in failures:
        print(f"\nFAIL: {failure}", flush=True)
    s_begin, s_end = res.sitting_span
    saves = [s.ms for s in res.rec.ok("save", s_begin, s_end)]
    within = [res.finalisation.get("lag_max", float("nan"))] + [e["lag_max"] for e in res.expiry]
    unfinalised = res.finalisation.get("unfinalised", 0) + sum(e["count"] - e["finalised"] for e in res.expiry)
    finalised_within = max((x for x in within if x == x), default=float("nan"))
    if unfinalised:
        finalised_within = float("inf")
    lost = res.integrity.get("lost", 0)
    p99 = percentile(saves, 99)
    start_p99 = percentile([s.ms for s in res.rec.ok("start", s_begin, s_end)], 99)  # the sitting's entries
    ref_p99 = percentile([s.ms for s in res.rec.ok("ref_open", *res.ref_open_span)], 99)
    vs_reference = p99 / ref_p99 if ref_p99 > 0 else float("nan")
    print("\nTargets (2 cores)")
    print(
        table(
            ["target", "measured", "met"],
            [
                [
                    "save p99 < 100 ms with 500 candidates",
                    f"{fmt(p99)} ms, {args.candidates} candidates",
                    _yes(p99 < 100 and args.candidates >= 500),
                ],
                ["save throughput >= 70 % of the reference", fmt(save_ratio, 2), _yes(save_ratio >= 0.7)],
                [
                    "1,000 expiring attempts finalised within 60 s",
                    f"{fmt(finalised_within)} s" if args.expiry >= 1000 else f"not measured (--expiry {args.expiry})",
                    _yes(finalised_within <= 60 and args.expiry >= 1000),
                ],
                ["no acknowledged answer lost", lost, _yes(lost == 0 and bool(res.integrity))],
                ["start p99 < 1 s", f"{fmt(start_p99)} ms", _yes(start_p99 < 1000)],
                [
                    "save p99 within 2x the reference's at the same rate",
                    f"{fmt(vs_reference, 2)} ({fmt(p99)} / {fmt(ref_p99)} ms)",
                    _yes(vs_reference <= 2),
                ],
            ],
        )
    )
    print(
        f"candidates={args.candidates} save_p99_ms={fmt(p99)} save_ratio={fmt(save_ratio, 2)} "
        f"finalised_within_s={fmt(finalised_within)} lost_answers={lost} start_p99_ms={fmt(start_p99)} "
        f"save_vs_reference_p99={fmt(vs_reference, 2)}",
        flush=True,
    )
    if failures:
        return 2
    return 1 if lost or unfinalised else 0


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
