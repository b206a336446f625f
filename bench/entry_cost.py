"""``make bench-cost``: what one entry and one answer save cost, for the capacity model (bench/README.md).

One uvicorn process (no workers) on the bench database, N candidates prepared as for the sitting
(their tests drawn ahead); the client enters them one after another (GET /exam/, sign-in, start),
then sends their answers one after another, and each submits. No concurrency: the figures are the CPU each request
costs, not a latency under load. Measured per request: the CPU of the server process (web), of
PostgreSQL's processes, of the client itself, and of the whole machine (those, Redis and the kernel).
Ends with one line: ``entry_web_ms=… entry_db_ms=… entry_machine_ms=… save_web_ms=… save_db_ms=…
save_machine_ms=… submit_web_ms=… submit_machine_ms=…``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Awaitable, Callable

import uvloop

from bench.client import API, Candidate, Http, Recorder, Sim
from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    Config,
    Stack,
    all_processes_cpu,
    check_services,
    cpu_seconds,
    install_signal_handlers,
    log,
    machine_cpu,
    quiet_collector,
    recreate_database,
    run_setup,
    snapshot_source,
)

# ms per request: the CPU of web, PostgreSQL, the client and the machine, and the wall clock
Cost = tuple[float, float, float, float, float]


def _cpu(stack: Stack) -> Cost:
    everything = all_processes_cpu()
    return (
        cpu_seconds(stack.web.group_pids()),
        sum(cpu for cpu, _group, comm in everything.values() if comm == "postgres"),
        time.process_time(),
        machine_cpu()[0],
        time.perf_counter(),
    )


async def measure(stack: Stack, count: int, step: Callable[[int], Awaitable[None]]) -> Cost:
    """The CPU of each part per call of ``step`` (ms), over ``count`` calls one after another. The
    PostgreSQL figure is its every process's (the backends of the server's pool, the WAL writer,
    the checkpointer); what the machine spent beyond the three is mostly Redis and the kernel."""
    before = _cpu(stack)
    for i in range(count):
        await step(i)
    after = _cpu(stack)
    return tuple((b - a) * 1000 / count for a, b in zip(before, after, strict=True))  # type: ignore[return-value]


async def step_ok(c: Candidate, method: str, path: str, body: dict[str, object] | None, expect: int) -> None:
    """One step of a candidate's entry, as the exam room sends it; its cookies are kept."""
    r = await c.http.call(method, path, cookies=c.cookies, client=c.login, body=body, csrf=body is not None)
    if r.status != expect:
        raise BenchError(f"{method} {path} answered {r.status}: {r.data}")
    c.cookies.update(r.cookies)


async def drive(cfg: Config, stack: Stack, args: argparse.Namespace) -> dict[str, Cost]:
    rec, sim = Recorder(), Sim()
    async with Http(cfg.base_url, pool=4) as http:
        cands = [
            Candidate(i, f"bench-{i}", PASSWORD, http, rec, sim, random.Random(i)) for i in range(args.candidates + 1)
        ]
        if not await cands[-1].enter():  # warm-up: imports, connections, templates
            raise BenchError(f"entry failed: {cands[-1].entry_failed}")

        async def page(i: int) -> None:
            await step_ok(cands[i], "GET", "/exam/", None, 200)

        async def login(i: int) -> None:
            await step_ok(cands[i], "POST", f"{API}/login/", {"login": cands[i].login, "password": PASSWORD}, 200)

        async def start(i: int) -> None:
            await step_ok(cands[i], "POST", f"{API}/attempt/start/", {"personally": True}, 201)

        async def save(i: int) -> None:
            c = cands[i % args.candidates]
            c.seq += 1
            r = await http.call(
                "PUT",
                f"{API}/attempt/answers/{1 + i // args.candidates % 40}/",
                cookies=c.cookies,
                client=c.login,
                body={"answer": [0], "flagged": False, "seq": c.seq},
                csrf=True,
            )
            if r.status != 200:
                raise BenchError(f"save answered {r.status}: {r.data}")

        steps = {
            name: await measure(stack, args.candidates, fn)
            for name, fn in (("page", page), ("login", login), ("start", start))
        }
        steps["save"] = await measure(stack, args.saves, save)

        async def submit(i: int) -> None:  # the candidate ends the test (the decision is the worker's)
            c = cands[i]
            r = await http.call("POST", f"{API}/attempt/submit/", cookies=c.cookies, client=c.login, csrf=True)
            if r.status != 200:
                raise BenchError(f"submit answered {r.status}: {r.data}")

        steps["submit"] = await measure(stack, args.candidates, submit)

        async def ping(i: int) -> None:  # the floor: the stack's own cost of a request
            r = await http.call("GET", "/bench/ping/")
            if r.status != 200:
                raise BenchError(f"ping answered {r.status}")

        async def ref(i: int) -> None:  # the bare reference upsert (bench/reference.py)
            r = await http.call("PUT", f"/bench/ref/cost-{i % 500}/", body={"answer": [i % 4], "seq": i})
            if r.status != 200:
                raise BenchError(f"reference answered {r.status}")

        steps["ping"] = await measure(stack, args.saves, ping)
        steps["ref"] = await measure(stack, args.saves, ref)
    return steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", type=int, default=300)
    p.add_argument("--saves", type=int, default=3000)
    p.add_argument("--port", type=int, default=8768)
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the server (e.g. LOG_FORMAT=json, as the nodes of a cluster run)",
    )
    args = p.parse_args()
    install_signal_handlers()
    cfg = Config(
        db_name="sout_bench_cost",
        redis_db=5,
        port=args.port,
        web_workers=1,
        duration_minutes=40,
        var_dir=ROOT / "var" / "bench" / "cost",
        extra_env=dict(e.split("=", 1) for e in args.env),
    )
    check_services(cfg)
    log(f"code: {snapshot_source(cfg)}; extra env: {args.env or 'none'}")
    recreate_database(cfg)
    log(
        f"prepared: {run_setup(cfg, 'prepare', '--candidates', str(args.candidates + 1), '--capacity', '0', '--expiry', '0')}"
    )
    stack = Stack(cfg)
    stack.procs = [stack.web]  # the requests alone: no worker, no beat
    try:
        stack.web.start()
        stack.wait_web()
        time.sleep(1)
        quiet_collector()
        steps = uvloop.run(drive(cfg, stack, args))
    finally:
        stack.stop()
    for name, (web, database, client, machine, wall) in steps.items():
        log(
            f"{name:6} web {web:6.2f} ms  PostgreSQL {database:6.2f} ms  client {client:5.2f} ms  "
            f"machine {machine:6.2f} ms  wall {wall:6.2f} ms"
        )
    entry = [sum(steps[name][k] for name in ("page", "login", "start")) for k in range(5)]
    print(
        f"entry_web_ms={entry[0]:.1f} entry_db_ms={entry[1]:.1f} entry_machine_ms={entry[3]:.1f} "
        f"save_web_ms={steps['save'][0]:.2f} save_db_ms={steps['save'][1]:.2f} "
        f"save_machine_ms={steps['save'][3]:.2f} submit_web_ms={steps['submit'][0]:.1f} "
        f"submit_machine_ms={steps['submit'][3]:.1f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
