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


async def drive(cfg: Config, stack: Stack, args: argparse.Namespace) -> tuple[float, float, float, float]:
    rec, sim = Recorder(), Sim()
    async with Http(cfg.base_url, pool=4) as http:
        cands = [
            Candidate(i, f"bench-{i}", PASSWORD, http, rec, sim, random.Random(i)) for i in range(args.candidates + 1)
        ]
        if not await cands[-1].enter():  # warm-up: imports, connections, templates
            raise BenchError(f"entry failed: {cands[-1].entry_failed}")

        async def enter(i: int) -> None:
            if not await cands[i].enter():
                raise BenchError(f"entry failed: {cands[i].entry_failed}")

        async def save(i: int) -> None:
            c = cands[i % args.candidates]
            c.seq += 1
            r = await http.call(
                "PUT",
                f"{API}/attempt/answers/{1 + i // args.candidates % 40}/",
                cookies=c.cookies,
                body={"answer": [0], "flagged": False, "seq": c.seq},
                csrf=True,
            )
            if r.status != 200:
                raise BenchError(f"save answered {r.status}: {r.data}")

        entry = await measure(stack, args.candidates, enter)
        saves = await measure(stack, args.saves, save)
    return (*entry, *saves)


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
        entry_web, entry_machine, save_web, save_machine = uvloop.run(drive(cfg, stack, args))
    finally:
        stack.stop()
    print(
        f"entry_web_ms={entry_web:.1f} entry_machine_ms={entry_machine:.1f} "
        f"save_web_ms={save_web:.2f} save_machine_ms={save_machine:.2f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
