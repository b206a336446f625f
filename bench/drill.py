"""``make drill-exam``: the fault drill of the attestation test.

The real stack (uvicorn, Celery worker, beat, PostgreSQL, Redis) runs a short sitting of simulated
candidates that behave like the exam-room page (a queue of changes sent in order, each kept until
acknowledged, retried with backoff). During the sitting:
  1. every uvicorn process is killed with SIGKILL and the server is started again;
  2. the machine's Redis (6379) is shut down without saving and started again (it is running again
     at the end whatever happens);
  3. the Celery worker is killed with SIGKILL shortly before the deadlines and started again.
After the deadlines and the sweeper, every acknowledged answer must be in the database (seq >= the
acknowledged one, the same answer at the same seq) and every attempt finalised.
Ends with: acknowledged=A lost=L unfinalised=U (exit code 1 unless L and U are 0).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import uvloop

from bench.client import Candidate, Http, Recorder, Sim, sitting_arguments
from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    Config,
    Proc,
    Stack,
    check_services,
    fmt,
    install_signal_handlers,
    log,
    percentile,
    quiet_collector,
    recreate_database,
    run_setup,
    snapshot_source,
    table,
)
from bench.exam_bench import _lags, check_acks, wait_until_finalised

REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def redis_up(cfg: Config) -> bool:
    try:
        return bool(cfg.redis().ping())
    except redis.RedisError:
        return False


def redis_start(cfg: Config, timeout: float = 20) -> None:
    for folder in ("/var/lib/redis", "/var/log/redis"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(REDIS_START, check=False, capture_output=True, timeout=30)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if redis_up(cfg):
            return
        time.sleep(0.2)
    raise BenchError("Redis did not come back on 6379")


def redis_stop(cfg: Config) -> None:
    subprocess.run(
        ["redis-cli", "-h", cfg.redis_host, "-p", str(cfg.redis_port), "shutdown", "nosave"],
        check=False,
        capture_output=True,
        timeout=30,
    )
    deadline = time.time() + 10
    while time.time() < deadline and redis_up(cfg):
        time.sleep(0.1)


def ensure_redis(cfg: Config) -> None:
    """Whatever happened, the machine's Redis is running when the drill ends."""
    if not redis_up(cfg):
        log("Redis is down: starting it again")
        redis_start(cfg)


@dataclass
class Fault:
    name: str
    at: float = 0.0
    back_at: float = 0.0  # the service answers again (ready)
    clients_ok_at: float = 0.0  # the first acknowledged save after the fault started
    note: str = ""


@dataclass
class Drill:
    cfg: Config
    stack: Stack
    args: argparse.Namespace
    rec: Recorder = field(default_factory=Recorder)
    cands: list[Candidate] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)  # processes of the stack that died by themselves
    killing: set[str] = field(default_factory=set)

    async def watch(self) -> None:
        """Every second: a process of the stack that exits while the drill did not kill it is a
        finding (reported, and left dead: the drill does not play supervisor)."""
        known: dict[str, int | None] = {}
        while True:
            for proc in self.stack.procs:
                if proc.popen is None or proc.name in self.killing:
                    continue
                code = proc.popen.poll()
                if code is not None and known.get(proc.name) != proc.popen.pid:
                    known[proc.name] = proc.popen.pid
                    message = f"{proc.name} (pid {proc.popen.pid}) exited by itself with code {code}"
                    self.exits.append(f"{time.strftime('%H:%M:%S')} {message}")
                    log(f"  !! {message}")
            await asyncio.sleep(1.0)

    async def restart(self, proc: Proc, down: float) -> float:
        await asyncio.sleep(down)
        await asyncio.to_thread(proc.start)
        if proc is self.stack.web:
            await asyncio.to_thread(self.stack.wait_web)
        else:
            await asyncio.to_thread(self.stack.wait_ready, proc)
        return time.time()

    async def kill_and_restart(self, proc: Proc, *, role: str, name: str, down: float, back: str, dead: str) -> None:
        """kill -9 the process group of ``proc``, wait ``down`` seconds, start it again and wait until
        it is ready; the fault is recorded with the time it took."""
        fault = Fault(name)
        self.killing.add(role)
        was_alive = proc.alive()
        pids = proc.group_pids()
        fault.at = time.time()
        proc.kill()
        if proc.popen:
            await asyncio.to_thread(proc.popen.wait)
        fault.note = f"killed {len(pids)} processes, restarted after {down:.0f} s"
        if not was_alive:
            fault.note += f" ({dead})"
        self.faults.append(fault)
        log(f"  FAULT {fault.name}: {fault.note}")
        fault.back_at = await self.restart(proc, down)
        self.killing.discard(role)
        log(f"  {back} {fault.back_at - fault.at:.1f} s after the kill")

    async def kill_web(self) -> None:
        await self.kill_and_restart(
            self.stack.web,
            role="web",
            name="kill -9 uvicorn (all processes), restart",
            down=self.args.web_down,
            back="uvicorn answers again",
            dead="it was already dead",
        )

    async def restart_redis(self) -> None:
        fault = Fault("Redis shutdown nosave, start again")
        fault.at = time.time()
        await asyncio.to_thread(redis_stop, self.cfg)
        fault.note = f"down for {self.args.redis_down:.0f} s (all keys lost: queued tasks, cached sessions)"
        self.faults.append(fault)
        log(f"  FAULT {fault.name}: {fault.note}")
        await asyncio.sleep(self.args.redis_down)
        await asyncio.to_thread(redis_start, self.cfg)
        fault.back_at = time.time()
        log(f"  Redis answers again {fault.back_at - fault.at:.1f} s after the shutdown")

    async def kill_worker(self) -> None:
        await self.kill_and_restart(
            self.stack.worker,
            role="worker",
            name="kill -9 Celery worker (main + pool), restart",
            down=self.args.worker_down,
            back="the worker is ready again",
            dead="it was already dead: see the exits below",
        )

    async def faults_plan(self, begin: float) -> None:
        duration = self.cfg.duration_minutes * 60
        plan = [
            (begin + self.args.start_spread * 0.6, self.kill_web),
            (begin + self.args.start_spread + (duration - self.args.start_spread) * 0.35, self.restart_redis),
        ]
        if not self.args.no_worker_kill:
            plan.append((begin + duration - self.args.worker_kill_before, self.kill_worker))
        for at, action in sorted(plan, key=lambda p: p[0]):
            await asyncio.sleep(max(0.0, at - time.time()))
            await action()

    async def run(self) -> None:
        args = self.args
        sim = Sim(interval=args.interval, start_spread=args.start_spread, submit_fraction=args.submit_fraction)
        rng = random.Random(sim.seed)
        async with Http(self.cfg.base_url, pool=args.pool, timeout=10) as http:
            self.cands = [
                Candidate(i, f"bench-{i}", PASSWORD, http, self.rec, sim, random.Random(sim.seed * 7919 + i))
                for i in range(args.candidates)
            ]
            submitters = set(rng.sample(range(args.candidates), round(args.candidates * sim.submit_fraction)))
            begin = time.time() + 1
            starts = [begin + rng.uniform(0, sim.start_spread) for _ in self.cands]
            faults = asyncio.ensure_future(self.faults_plan(begin))
            progress = asyncio.ensure_future(self.progress())
            watcher = asyncio.ensure_future(self.watch())
            try:
                await asyncio.gather(*(c.sit(starts[c.index], c.index in submitters) for c in self.cands))
                await faults
            finally:
                progress.cancel()
                watcher.cancel()
                if not faults.done():
                    faults.cancel()
        for fault in self.faults:
            after = [s.at for s in self.rec.samples.get("save", []) if s.status == 200 and s.at > fault.at]
            fault.clients_ok_at = min(after) if after else 0.0

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(15)
            recent = [s for s in self.rec.samples.get("save", []) if s.at >= time.time() - 15]
            ok = sum(1 for s in recent if s.status == 200)
            entered = sum(1 for c in self.cands if c.attempt is not None)
            pending = sum(len(c.pending) for c in self.cands)
            log(
                f"  sitting: {entered} in, {ok} saves acknowledged and {len(recent) - ok} failed in the last 15 s, "
                f"{pending} queued"
            )


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sitting_arguments(p, candidates=100, start_spread=20.0, pool=32)
    p.add_argument("--web-workers", type=int, default=4)
    p.add_argument("--web-down", type=float, default=3.0, help="seconds uvicorn stays dead")
    p.add_argument("--redis-down", type=float, default=5.0, help="seconds Redis stays down")
    p.add_argument("--settings", default="config.settings", help="DJANGO_SETTINGS_MODULE of the stack")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment of the stack")
    p.add_argument(
        "--no-worker-kill",
        action="store_true",
        help="leave out the worker fault (and so its restart): shows whether the stack recovers by itself",
    )
    p.add_argument("--port", type=int, default=8767)
    return p.parse_args()


def main() -> int:
    args = parse()
    install_signal_handlers()
    cfg = Config(
        var_dir=ROOT / "var" / "bench" / "drill",  # its own: other benches share var/bench
        port=args.port,
        web_workers=args.web_workers,
        duration_minutes=args.duration_minutes,
        sweep_seconds=args.sweep_seconds,
        extra_env={"DJANGO_SETTINGS_MODULE": args.settings, **dict(e.split("=", 1) for e in args.env)},
    )
    started = time.time()
    stack: Stack | None = None
    drill: Drill | None = None
    acknowledged = lost = unfinalised = -1
    try:
        check_services(cfg)
        version = snapshot_source(cfg)
        log(f"code: {version}, copied to {cfg.src}")
        log(f"recreating the database {cfg.db_name} and emptying Redis db {cfg.redis_db}")
        recreate_database(cfg)
        prepared = run_setup(cfg, "prepare", "--candidates", str(args.candidates), "--capacity", "0", "--expiry", "0")
        log(f"prepared: {prepared}")
        stack = Stack(cfg)
        log(f"starting uvicorn ({cfg.web_workers} workers), the Celery worker and beat; logs in {cfg.log_dir}")
        stack.start()
        drill = Drill(cfg, stack, args)
        log(
            f"the sitting: {args.candidates} candidates, {cfg.duration_minutes} min, faults: uvicorn, Redis, "
            "the Celery worker"
        )
        quiet_collector()
        uvloop.run(drill.run())
        ensure_redis(cfg)
        entered = [c for c in drill.cands if c.attempt is not None]
        ids = [c.attempt for c in entered if c.attempt is not None]
        last_deadline = max((c.deadline for c in entered), default=time.time())
        log("the sitting is over; waiting for the deadlines and the sweeper")
        wait_until_finalised(cfg, ids, give_up_at=last_deadline + 4 * cfg.sweep_seconds + 60)
        rows = _lags(cfg, ids)
        unfinalised = sum(1 for r in rows if r[1] == "in_progress")
        integrity = check_acks(cfg, entered)
        acknowledged, lost = integrity["acknowledged"], integrity["lost"]
        dead = [p.name for p in stack.procs if not p.alive()]
        report(cfg, drill, rows, time.time() - started, dead)
    except BenchError as exc:
        print(f"\nFAIL: {exc}", flush=True)
    finally:
        if stack is not None:
            log("stopping the stack")
            stack.stop()
        try:
            ensure_redis(cfg)
        except BenchError as exc:
            print(f"FAIL: {exc}", flush=True)
    print(f"acknowledged={acknowledged} lost={lost} unfinalised={unfinalised}", flush=True)
    return 0 if lost == 0 and unfinalised == 0 and acknowledged > 0 else 1


def report(cfg: Config, drill: Drill, rows: list, wall: float, dead: list[str]) -> None:  # type: ignore[type-arg]
    rec = drill.rec
    print()
    print("=" * 100)
    print(
        f"make drill-exam: {drill.args.candidates} candidates, EXAM_DURATION_MINUTES={cfg.duration_minutes}, "
        f"uvicorn workers={cfg.web_workers}, EXAM_SWEEP_SECONDS={cfg.sweep_seconds}"
    )
    print("=" * 100)
    begin = min((s.at for s in rec.samples.get("page", [])), default=time.time())
    print("\nFaults (seconds from the start of the sitting)")
    print(
        table(
            ["fault", "at s", "service back after s", "first acknowledged save after s", "note"],
            [
                [
                    f.name,
                    fmt(f.at - begin),
                    fmt(f.back_at - f.at),
                    fmt(f.clients_ok_at - f.at) if f.clients_ok_at else "-",
                    f.note,
                ]
                for f in drill.faults
            ],
        )
    )
    print("\nProcesses of the stack that died by themselves (not killed by the drill)")
    print("\n".join(f"  {e}" for e in drill.exits) or "  none")
    lines = []
    for kind in ("page", "login", "start", "save", "submit"):
        samples = rec.samples.get(kind, [])
        ok = [s.ms for s in samples if 200 <= s.status < 300]
        lines.append(
            [
                kind,
                len(ok),
                len(samples) - len(ok),
                fmt(percentile(ok, 50)),
                fmt(percentile(ok, 99)),
                fmt(max(ok, default=float("nan"))),
            ]
        )
    print("\nRequests (errors include every failed try that was retried)")
    print(table(["request", "ok", "failed tries", "p50 ms", "p99 ms", "max ms"], lines))
    cands = drill.cands
    entered = [c for c in cands if c.attempt is not None]
    deadline_rows = [r for r in rows if r[2] == "deadline" and r[4] is not None]
    lags = [r[4] - r[3] for r in deadline_rows]
    print("\nOutcome")
    print(
        table(
            ["check", "value"],
            [
                ["candidates entered", f"{len(entered)} of {len(cands)}"],
                ["entry failures", "; ".join(sorted({c.entry_failed for c in cands if c.entry_failed})) or "none"],
                ["retried requests (all candidates)", sum(c.retries for c in cands)],
                ["longest backoff wait s", fmt(max((c.max_backoff_wait for c in cands), default=0))],
                ["acknowledged saves", sum(len(c.acks) for c in entered)],
                ["changes never acknowledged (deadline or finished first)", sum(c.unacked_at_end for c in entered)],
                ["submitted", sum(1 for r in rows if r[2] == "submitted")],
                ["finalised at the deadline", len(deadline_rows)],
                [
                    "finalisation lag after the deadline, p50 / max s",
                    f"{fmt(percentile(lags, 50))} / {fmt(max(lags, default=float('nan')))}",
                ],
                ["unfinalised", sum(1 for r in rows if r[1] == "in_progress")],
                ["stack processes dead at the end", ", ".join(dead) or "none"],
            ],
        )
    )
    if rec.errors:
        print("\nErrors seen by the clients")
        print(table(["request", "error", "count"], [[k, e, n] for (k, e), n in sorted(rec.errors.items())]))
    print(f"\nwall clock of the drill: {wall:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
