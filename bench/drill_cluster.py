"""``make drill-cluster``: the fault drill of a sitting in the production topology.

A cluster of its own (deploy/cluster.py: HAProxy, two app nodes, PostgreSQL's primary and a
streaming replica, Redis, a Celery worker and beat; var/bench/cluster, ports 8790-8792, 5450-5451,
6395) runs a sitting of simulated candidates through HAProxy (bench/client.py: the exam-room page's
queue of answers, each kept until acknowledged). Each candidate also keeps the exam room's WebSocket
(the clock) open through the balancer and opens it again when it drops. Beside them the public
searches the registry (a few thousand generated entries) all along. During the sitting:
  1. app node 1 is killed (SIGKILL to its process group) during the entry, and started again;
  2. the replica is stopped (``pg_ctl stop -m immediate``) and started again: the registry's reads
     go to the primary meanwhile;
  3. the Celery worker is killed (SIGKILL) shortly before the deadlines, and started again.
After the deadlines and the sweeper, every acknowledged answer must be in the primary and every
attempt finalised. Ends with one line:
``acknowledged=… lost=0 unfinalised=0 errors_during_failover=… save_p99_ms_failover=…
registry_p95_ms_replica_down=…`` (exit code 1 unless lost and unfinalised are 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp
import uvloop

from bench.client import Candidate, Http, Recorder, Sim, sitting_arguments
from bench.common import (
    PASSWORD,
    BenchError,
    Config,
    bench_cluster,
    cluster_bench_config,
    fmt,
    install_signal_handlers,
    log,
    percentile,
    quiet_collector,
    run_python,
    run_setup,
    table,
)
from bench.exam_bench import _lags, check_acks, wait_until_finalised
from deploy.cluster import Cluster

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков"]


@dataclass
class Window:
    """A fault: from ``at`` until the service is back (``back_at``)."""

    name: str
    at: float = 0.0
    back_at: float = 0.0
    note: str = ""


@dataclass
class Clock:
    """A candidate's WebSocket to the exam room's clock, opened again whenever it drops."""

    opened: int = 0
    dropped: int = 0
    deadlines: set[str] = field(default_factory=set)  # every deadline the server sent (ISO)


@dataclass
class ClusterDrill:
    args: argparse.Namespace
    cluster: Cluster
    cfg: Config
    rec: Recorder = field(default_factory=Recorder)
    cands: list[Candidate] = field(default_factory=list)
    clocks: dict[int, Clock] = field(default_factory=dict)
    faults: list[Window] = field(default_factory=list)

    # --- the load ------------------------------------------------------------------------------

    async def clock(self, candidate: Candidate, session: aiohttp.ClientSession) -> None:
        """The exam room's WebSocket: the clock at every (re)connection, through the balancer."""
        state = self.clocks.setdefault(candidate.index, Clock())
        url = f"{self.cluster.base_url.replace('http', 'ws', 1)}/ws/exam/attempt/"
        while candidate.attempt is None and time.time() < candidate.deadline + 60:
            await asyncio.sleep(0.5)
        while time.time() < candidate.deadline - 1 and not candidate.closed:
            cookie = "; ".join(f"{k}={v}" for k, v in candidate.cookies.items())
            try:
                async with session.ws_connect(
                    url, headers={"Cookie": cookie, "Origin": self.cluster.base_url}, heartbeat=20
                ) as ws:
                    state.opened += 1
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            break
                        data = json.loads(message.data)
                        if data.get("type") == "clock":
                            state.deadlines.add(str(data.get("deadline")))
                    state.dropped += 1
            except (aiohttp.ClientError, TimeoutError):
                state.dropped += 1
            await asyncio.sleep(1 + random.random())

    async def registry(self, http: Http, stop: asyncio.Event, seed: int) -> None:
        """The public searching the registry all along (the reads that go to the replica)."""
        rng = random.Random(seed)
        while not stop.is_set():
            q = quote(rng.choice(SURNAMES)[: rng.randint(4, 7)])
            r = await http.call("GET", f"/api/v1/registry/experts/?q={q}")
            self.rec.response("registry", r)
            await asyncio.sleep(self.args.registry_pause)

    # --- the faults ----------------------------------------------------------------------------

    async def fault(self, name: str, down: Callable[[], None], up: Callable[[], None], seconds: float) -> None:
        """``down()``, ``seconds`` later ``up()`` (which returns when the part serves again)."""
        fault = Window(name)
        fault.at = time.time()
        await asyncio.to_thread(down)
        self.faults.append(fault)
        log(f"  FAULT {name}")
        await asyncio.sleep(seconds)
        await asyncio.to_thread(up)
        fault.back_at = time.time()
        fault.note = f"down {seconds:.0f} s, serving again after {fault.back_at - fault.at:.1f} s"
        log(f"  back {fault.back_at - fault.at:.1f} s after the fault")

    def node_up(self) -> None:
        self.cluster.start_node(1)
        while not self.cluster.node_healthy(1):
            time.sleep(0.2)

    async def plan(self, begin: float, deadline: float) -> None:
        c, a = self.cluster, self.args
        steps = [
            (
                begin + a.start_spread * 0.6,
                "kill -9 app node 1 (its process group), start it again",
                lambda: c.kill_node(1),
                self.node_up,
                a.node_down,
            ),
            (
                begin + a.start_spread + 30,
                "stop the replica (immediate), start it again",
                c.replica_stop,
                c.replica_start,
                a.replica_down,
            ),
            (
                deadline - a.worker_kill_before,
                "kill -9 the Celery worker, start it again",
                lambda: c.kill_worker(1),
                lambda: c.start_worker(1),
                a.worker_down,
            ),
        ]
        for at, name, down, up, seconds in steps:
            await asyncio.sleep(max(0.0, at - time.time()))
            await self.fault(name, down, up, seconds)

    async def run(self) -> None:
        args = self.args
        sim = Sim(interval=args.interval, start_spread=args.start_spread, submit_fraction=args.submit_fraction)
        rng = random.Random(sim.seed)
        duration = float(self.cluster.cfg.extra_env["EXAM_DURATION_MINUTES"]) * 60
        async with (
            Http(self.cluster.base_url, pool=args.pool, timeout=15) as http,
            Http(self.cluster.base_url, pool=4, timeout=15) as public,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as sockets,
        ):
            self.cands = [
                Candidate(i, f"bench-{i}", PASSWORD, http, self.rec, sim, random.Random(sim.seed * 7919 + i))
                for i in range(args.candidates)
            ]
            submitters = set(rng.sample(range(args.candidates), round(args.candidates * sim.submit_fraction)))
            begin = time.time() + 1
            starts = [begin + rng.uniform(0, sim.start_spread) for _ in self.cands]
            for c in self.cands:
                c.deadline = starts[c.index] + duration + args.start_spread  # until the start says
            stop = asyncio.Event()
            readers = [
                asyncio.ensure_future(self.registry(public, stop, seed)) for seed in range(args.registry_clients)
            ]
            faults = asyncio.ensure_future(self.plan(begin, begin + duration))
            clocks = [asyncio.ensure_future(self.clock(c, sockets)) for c in self.cands]
            progress = asyncio.ensure_future(self.progress())
            try:
                await asyncio.gather(*(c.sit(starts[c.index], c.index in submitters) for c in self.cands))
                await faults
            finally:
                stop.set()
                progress.cancel()
                for task in clocks:
                    task.cancel()
                if not faults.done():
                    faults.cancel()
                await asyncio.gather(*readers, return_exceptions=True)

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(15)
            recent = [s for s in self.rec.samples.get("save", []) if s.at >= time.time() - 15]
            ok = sum(1 for s in recent if s.status == 200)
            entered = sum(1 for c in self.cands if c.attempt is not None)
            sockets = sum(c.opened - c.dropped for c in self.clocks.values())
            log(
                f"  sitting: {entered} in, {ok} saves acknowledged and {len(recent) - ok} failed in 15 s, {sockets} clocks"
            )


# --- Setting up ---------------------------------------------------------------------------------------


def drill_cluster(args: argparse.Namespace) -> Cluster:
    return bench_cluster(
        var_name="cluster",
        port=args.port,
        nodes=args.nodes,
        node_workers=args.node_workers,
        worker_concurrency=2,
        env={
            "EXAM_DURATION_MINUTES": str(args.duration_minutes),
            "EXAM_SWEEP_SECONDS": str(args.sweep_seconds),
            "API_THROTTLE_REGISTRY": "100000000/min",
            "API_THROTTLE_ANON": "100000000/min",
        },
    )


def prepare(cfg: Config, args: argparse.Namespace) -> None:
    prepared = run_setup(cfg, "prepare", "--candidates", str(args.candidates), "--capacity", "0", "--expiry", "0")
    log(f"prepared: {prepared}")
    proc = run_python(cfg, "manage.py", "registry_generate", "--count", str(args.registry_entries), timeout=600)
    if proc.returncode != 0:
        raise BenchError(f"registry_generate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    log(f"the registry: {args.registry_entries} generated entries")


# --- The report ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    acknowledged: int = -1
    lost: int = -1
    unfinalised: int = -1
    errors_during_failover: int = -1
    save_p99_ms_failover: float = float("nan")
    registry_p95_ms_replica_down: float = float("nan")

    def line(self) -> str:
        return (
            f"acknowledged={self.acknowledged} lost={self.lost} unfinalised={self.unfinalised} "
            f"errors_during_failover={self.errors_during_failover} "
            f"save_p99_ms_failover={fmt(self.save_p99_ms_failover)} "
            f"registry_p95_ms_replica_down={fmt(self.registry_p95_ms_replica_down)}"
        )


def failover_window(drill: ClusterDrill, settle: float) -> tuple[float, float]:
    node = next((f for f in drill.faults if "node" in f.name), None)
    if node is None:
        return (0.0, 0.0)
    return (node.at, (node.back_at or node.at) + settle)


def report(drill: ClusterDrill, figures: Figures, rows: list, wall: float) -> None:  # type: ignore[type-arg]
    rec = drill.rec
    args = drill.args
    print()
    print("=" * 100)
    print(
        f"make drill-cluster: {args.candidates} candidates through HAProxy, {args.nodes} app nodes "
        f"(uvicorn workers of each: {drill.cluster.cfg.node_workers}), EXAM_DURATION_MINUTES={args.duration_minutes}"
    )
    print("=" * 100)
    begin = min((s.at for s in rec.samples.get("page", [])), default=time.time())
    print("\nFaults (seconds from the first entry)")
    print(
        table(
            ["fault", "at s", "back after s", "note"],
            [[f.name, fmt(f.at - begin), fmt(f.back_at - f.at), f.note] for f in drill.faults],
        )
    )
    since, until = failover_window(drill, args.settle)
    lines = []
    for kind in ("page", "login", "start", "save", "submit", "registry"):
        samples = rec.samples.get(kind, [])
        ok = [s.ms for s in samples if 200 <= s.status < 300]
        during = [s for s in samples if since <= s.at <= until]
        lines.append(
            [
                kind,
                len(ok),
                len(samples) - len(ok),
                sum(1 for s in during if s.status == -1 or s.status >= 500),
                fmt(percentile(ok, 50)),
                fmt(percentile(ok, 99)),
                fmt(percentile([s.ms for s in during if 200 <= s.status < 300], 99)),
            ]
        )
    print("\nRequests through HAProxy (failed tries include each retried one; failover = node kill to back + settle)")
    print(table(["request", "ok", "failed tries", "failed in failover", "p50 ms", "p99 ms", "p99 ms failover"], lines))
    replica = next((f for f in drill.faults if "replica" in f.name), None)
    if replica is not None:
        down = [s for s in rec.samples.get("registry", []) if replica.at <= s.at <= replica.back_at]
        print(
            f"\nRegistry searches while the replica was down: {len(down)}, "
            f"failed {sum(1 for s in down if not 200 <= s.status < 300)}, "
            f"p95 {fmt(figures.registry_p95_ms_replica_down)} ms"
        )
    clocks = drill.clocks.values()
    moved = sum(1 for c in clocks if len(c.deadlines) > 1)
    print(
        f"\nWebSockets: {sum(c.opened for c in clocks)} opened by {sum(1 for c in clocks if c.opened)} candidates, "
        f"{sum(1 for c in clocks if c.opened > 1)} reconnected after a drop; clocks that moved: {moved}"
    )
    entered = [c for c in drill.cands if c.attempt is not None]
    deadline_rows = [r for r in rows if r[2] == "deadline" and r[4] is not None]
    lags = [r[4] - r[3] for r in deadline_rows]
    print("\nOutcome")
    print(
        table(
            ["check", "value"],
            [
                ["candidates entered", f"{len(entered)} of {len(drill.cands)}"],
                [
                    "entry failures",
                    "; ".join(sorted({c.entry_failed for c in drill.cands if c.entry_failed})) or "none",
                ],
                ["acknowledged saves", figures.acknowledged],
                ["lost (acknowledged, not in the primary)", figures.lost],
                ["submitted", sum(1 for r in rows if r[2] == "submitted")],
                ["finalised at the deadline", len(deadline_rows)],
                [
                    "finalisation lag p50 / max s",
                    f"{fmt(percentile(lags, 50))} / {fmt(max(lags, default=float('nan')))}",
                ],
                ["unfinalised", figures.unfinalised],
            ],
        )
    )
    if rec.errors:
        print("\nErrors seen by the clients")
        print(table(["request", "error", "count"], [[k, e, n] for (k, e), n in sorted(rec.errors.items())]))
    print(f"\nwall clock of the drill: {wall:.0f} s")


def figures_of(drill: ClusterDrill, cfg: Config) -> tuple[Figures, list]:  # type: ignore[type-arg]
    figures = Figures()
    entered = [c for c in drill.cands if c.attempt is not None]
    ids = [c.attempt for c in entered if c.attempt is not None]
    last_deadline = max((c.deadline for c in entered), default=time.time())
    log("the sitting is over; waiting for the deadlines and the sweeper")
    wait_until_finalised(cfg, ids, give_up_at=last_deadline + 4 * cfg.sweep_seconds + 60)
    rows = _lags(cfg, ids)
    figures.unfinalised = sum(1 for r in rows if r[1] == "in_progress")
    integrity = check_acks(cfg, entered)
    figures.acknowledged, figures.lost = integrity["acknowledged"], integrity["lost"]
    since, until = failover_window(drill, drill.args.settle)
    every = [s for kind in ("page", "login", "start", "save", "submit") for s in drill.rec.samples.get(kind, [])]
    figures.errors_during_failover = sum(
        1 for s in every if since <= s.at <= until and (s.status == -1 or s.status >= 500)
    )
    figures.save_p99_ms_failover = percentile([s.ms for s in drill.rec.ok("save", since, until)], 99)
    replica = next((f for f in drill.faults if "replica" in f.name), None)
    if replica is not None:
        figures.registry_p95_ms_replica_down = percentile(
            [s.ms for s in drill.rec.ok("registry", replica.at, replica.back_at)], 95
        )
    return figures, rows


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sitting_arguments(p, candidates=500, start_spread=30.0, pool=64)
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument(
        "--node-workers",
        type=int,
        default=0,
        help="uvicorn workers of each node (0: the machine's cores shared by the nodes)",
    )
    p.add_argument("--node-down", type=float, default=5.0, help="seconds node 1 stays dead")
    p.add_argument("--replica-down", type=float, default=25.0, help="seconds the replica stays stopped")
    p.add_argument(
        "--settle", type=float, default=10.0, help="the failover window lasts this long after the node is back"
    )
    p.add_argument("--registry-entries", type=int, default=20000)
    p.add_argument("--registry-clients", type=int, default=2)
    p.add_argument("--registry-pause", type=float, default=0.1)
    p.add_argument(
        "--port", type=int, default=8790, help="HAProxy; the nodes take the next ports, its stats page port + 10"
    )
    p.add_argument("--keep", action="store_true", help="leave the cluster running at the end (make cluster-stop)")
    return p.parse_args()


def main() -> int:
    args = parse()
    install_signal_handlers()
    cluster = drill_cluster(args)
    started = time.time()
    figures = Figures()
    try:
        log(f"starting the cluster ({args.nodes} app nodes, HAProxy on {args.port}); logs in {cluster.cfg.var_dir}")
        cluster.up(fresh=True, demo=False)
        cfg = cluster_bench_config(cluster, duration_minutes=args.duration_minutes, sweep_seconds=args.sweep_seconds)
        prepare(cfg, args)
        drill = ClusterDrill(args, cluster, cfg)
        log(f"the sitting: {args.candidates} candidates; faults: app node 1, the replica, the Celery worker")
        quiet_collector()
        uvloop.run(drill.run())
        figures, rows = figures_of(drill, cfg)
        report(drill, figures, rows, time.time() - started)
    except BenchError as exc:
        print(f"\nFAIL: {exc}", flush=True)
    finally:
        with contextlib.suppress(Exception):
            db_close()
        if not args.keep:
            log("stopping the cluster")
            cluster.down(clean=True)
    print(figures.line(), flush=True)
    return 0 if figures.lost == 0 and figures.unfinalised == 0 and figures.acknowledged > 0 else 1


def db_close() -> None:
    from bench.exam_bench import _dbs

    for conn in _dbs.values():
        conn.close()
    _dbs.clear()


if __name__ == "__main__":
    raise SystemExit(main())
