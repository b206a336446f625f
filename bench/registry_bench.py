"""make bench-registry: the public registry at scale.

Generates a registry of N synthetic experts (default 1,000,000; realistic Russian names) in a bench
database, serves it with uvicorn as in production, and measures through the public API:

* name search (a surname with a typo, or surname and first name): p50/p95 with the trigram index,
  and the same searches with the index dropped (the ratio shows what the index buys);
* certificate lookup by number;
* the full CSV export, streamed: its duration and the peak resident memory of the server process
  that served it (constant memory: it must not grow with N).

Ends with one line: ``entries=N search_p95_ms=X noindex_ratio=R export_s=S export_peak_mb=M``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import quote

import aiohttp

from bench.common import (
    BIN,
    BenchError,
    Config,
    Proc,
    check_services,
    log,
    recreate_database,
    run_python,
    snapshot_source,
)

# The search reads the dictionary of surnames through its trigram and (first letter, length) indexes,
# then the experts of the chosen surnames through the (search_last, search_name, id) index of the
# published entries: "without the index" drops all three.
INDEXES = {
    "registry_surname_word_trgm": "CREATE INDEX registry_surname_word_trgm ON registry_surname USING gin (word gin_trgm_ops)",
    "registry_surname_first_length": (
        "CREATE INDEX registry_surname_first_length ON registry_surname (left(word, 1), length(word))"
    ),
    "registry_cert_surname_order": (
        "CREATE INDEX registry_cert_surname_order ON registry_certificate (search_last, search_name, id)"
        " WHERE published_at IS NOT NULL"
    ),
}


def drop_indexes(cfg: Config) -> None:
    with cfg.pg() as conn:
        for name in INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(cfg: Config) -> None:
    with cfg.pg() as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in INDEXES.values():
            conn.execute(statement)
        # What autovacuum does to a table in service: statistics, and the visibility map that lets
        # the search read the index alone.
        conn.execute("VACUUM ANALYZE registry_certificate")
        conn.execute("ANALYZE registry_surname")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def manage(cfg: Config, *args: str, timeout: float = 3600) -> str:
    proc = run_python(cfg, "manage.py", *args, timeout=timeout)
    if proc.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def typo(word: str, rng: random.Random) -> str:
    """One substitution, deletion or transposition inside the word (never the first letter)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("sub", "del", "swap"))
    if kind == "sub":
        return word[:i] + rng.choice("аеиоуы") + word[i + 1 :]
    if kind == "del":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def queries(cfg: Config, count: int, seed: int) -> tuple[list[str], list[str]]:
    """Search queries (misspelt surnames, some with a first name) and certificate numbers."""
    rng = random.Random(seed)
    with cfg.pg() as conn:
        conn.execute("SELECT setseed(%s)", [seed / 1000])
        rows = conn.execute(
            "SELECT last_name, first_name, number FROM registry_certificate ORDER BY random() LIMIT %s", [count]
        ).fetchall()
    names = []
    for last, first, _number in rows[:count]:
        misspelt = typo(last, rng)
        names.append(f"{misspelt} {first}" if rng.random() < 0.3 else misspelt)
    numbers = [number for _l, _f, number in rows[:count]]
    return names, numbers


async def timed_gets(base: str, paths: list[str], concurrency: int) -> tuple[list[float], int]:
    """GET every path with ``concurrency`` clients; latencies in ms and the number of non-200s."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    async with aiohttp.ClientSession(base_url=base, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def client() -> None:
            nonlocal errors
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                async with session.get(path) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, errors


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def export(cfg: Config, web: Proc) -> tuple[float, int, float, float]:
    """Stream the whole CSV; (seconds, rows, baseline MB, peak MB of the busiest web process)."""
    pids = [pid for pid in web.group_pids() if pid != web.pid] or web.group_pids()
    baseline = max(rss_mb(pid) for pid in pids)
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], *(rss_mb(pid) for pid in pids))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    rows = 0
    with urllib.request.urlopen(f"{cfg.base_url}/api/v1/registry/open-data.csv", timeout=600) as response:
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, rows - 1, baseline, peak[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--noindex-queries", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the generated database of the last run")
    args = parser.parse_args()

    cfg = Config(db_name="sout_bench_registry", redis_db=4, port=8766)
    cfg.extra_env.update({"API_THROTTLE_REGISTRY": "100000000/min", "API_THROTTLE_ANON": "100000000/min"})
    check_services(cfg)
    log(f"source: {snapshot_source(cfg)}")
    with cfg.pg("postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg.db_name]).fetchone()
    count = 0
    if args.reuse and exists:
        with cfg.pg() as conn:
            count = conn.execute("SELECT count(*) FROM registry_certificate").fetchone()[0]  # type: ignore[index]
    if count != args.entries:
        recreate_database(cfg)
        log("migrate")
        manage(cfg, "migrate", "--noinput", "-v0")
        drop_indexes(cfg)
        log(f"generate {args.entries} entries (COPY)")
        started = time.perf_counter()
        manage(cfg, "registry_generate", "--count", str(args.entries), "--batch", "100000")
        log(f"generated in {time.perf_counter() - started:.0f} s; building the search indexes")
        started = time.perf_counter()
        create_indexes(cfg)
        log(f"indexes built in {time.perf_counter() - started:.0f} s")

    names, numbers = queries(cfg, args.queries, args.seed)
    # 4 server processes on 2 cores, as in make bench-exam: the searches are CPU-bound in Python, and
    # with fewer processes the clients' kept-alive connections pile up on one of them.
    web = Proc(
        "registry-web",
        [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(cfg.port),
         "--workers", "4", "--no-access-log", "--log-level", "warning"],
        cfg,
    )  # fmt: skip
    web.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{cfg.base_url}/api/v1/registry/keys/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or not web.alive():
                    raise BenchError(f"uvicorn did not start:\n{web.tail()}") from None
                time.sleep(0.3)
        search_paths = [f"/api/v1/registry/experts/?q={quote(q)}" for q in names]
        asyncio.run(timed_gets(cfg.base_url, search_paths[:20], args.concurrency))  # warm-up
        log("search with the index")
        with_index, errors = asyncio.run(timed_gets(cfg.base_url, search_paths, args.concurrency))
        log("lookup by number")
        lookups, lookup_errors = asyncio.run(
            timed_gets(cfg.base_url, [f"/api/v1/registry/certificates/{n}/" for n in numbers], args.concurrency)
        )
        log("full CSV export")
        export_s, rows, base_mb, peak_mb = export(cfg, web)
        log("search without the indexes")
        drop_indexes(cfg)
        try:
            without, _ = asyncio.run(timed_gets(cfg.base_url, search_paths[: args.noindex_queries], 1))
        finally:
            log("rebuilding the indexes")
            create_indexes(cfg)
    finally:
        web.stop()

    result: dict[str, Any] = {
        "search_p50": percentile(with_index, 50),
        "search_p95": percentile(with_index, 95),
        "noindex_p50": percentile(without, 50),
        "noindex_p95": percentile(without, 95),
        "lookup_p50": percentile(lookups, 50),
        "lookup_p95": percentile(lookups, 95),
    }
    print()
    print(f"{'measure':34} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9}")
    for label, values in [
        ("name search (indexes)", with_index),
        ("name search (no index)", without),
        ("lookup by number", lookups),
    ]:
        print(
            f"{label:34} {len(values):6d} {percentile(values, 50):9.1f} {percentile(values, 95):9.1f} {statistics.fmean(values):9.1f}"
        )
    print(f"errors: search {errors}, lookup {lookup_errors}")
    print(
        f"CSV export: {rows} rows in {export_s:.1f} s; web process RSS {base_mb:.0f} MB before, {peak_mb:.0f} MB at peak"
    )
    if rows != args.entries:
        print(f"WARNING: the export has {rows} rows, the registry {args.entries}")
    ratio = result["noindex_p95"] / result["search_p95"] if result["search_p95"] else float("nan")
    print(
        f"entries={args.entries} search_p95_ms={result['search_p95']:.1f} noindex_ratio={ratio:.1f} "
        f"export_s={export_s:.1f} export_peak_mb={peak_mb:.0f}"
    )
    return 0 if not errors and not lookup_errors and rows == args.entries else 1


if __name__ == "__main__":
    sys.exit(main())
