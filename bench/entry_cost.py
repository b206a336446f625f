"""``make bench-cost``: what one entry and one answer save cost, for the capacity model (bench/README.md).

One uvicorn process (no workers) on the bench database, N candidates prepared as for the sitting
(their tests drawn ahead); the client enters them one after another (GET /exam/, sign-in, start),
then sends their answers one after another. No concurrency: the figures are the CPU each request
costs, not a latency under load. Measured: the CPU of the server process (web) and of the whole
machine (web, PostgreSQL, Redis and the client itself), per entry and per save.
Ends with one line: ``entry_web_ms=… entry_machine_ms=… save_web_ms=… save_machine_ms=…``.
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


async def measure(stack: Stack, count: int, step: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    """(web CPU ms, machine CPU ms) per call of ``step``, over ``count`` calls one after another."""
    web, machine = cpu_seconds(stack.web.group_pids()), machine_cpu()[0]
    for i in range(count):
        await step(i)
    return (
        (cpu_seconds(stack.web.group_pids()) - web) * 1000 / count,
        (machine_cpu()[0] - machine) * 1000 / count,
    )


async def step_ok(c: Candidate, method: str, path: str, body: dict[str, object] | None, expect: int) -> None:
    """One step of a candidate's entry, as the exam room sends it; its cookies are kept."""
    r = await c.http.call(method, path, cookies=c.cookies, client=c.login, body=body, csrf=body is not None)
    if r.status != expect:
        raise BenchError(f"{method} {path} answered {r.status}: {r.data}")
    c.cookies.update(r.cookies)


async def drive(cfg: Config, stack: Stack, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
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
    args = p.parse_args()
    install_signal_handlers()
    cfg = Config(
        db_name="sout_bench_cost",
        redis_db=5,
        port=args.port,
        web_workers=1,
        duration_minutes=40,
        var_dir=ROOT / "var" / "bench" / "cost",
    )
    check_services(cfg)
    log(f"code: {snapshot_source(cfg)}")
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
    for name, (web, machine) in steps.items():
        log(f"{name:6} web {web:6.2f} ms  machine {machine:6.2f} ms")
    entry = [sum(steps[name][k] for name in ("page", "login", "start")) for k in (0, 1)]
    print(
        f"entry_web_ms={entry[0]:.1f} entry_machine_ms={entry[1]:.1f} "
        f"save_web_ms={steps['save'][0]:.2f} save_machine_ms={steps['save'][1]:.2f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
