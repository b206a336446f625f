"""What the bench and the drill share: the environment of the stack, the service checks, the bench
database, the processes of the stack (uvicorn, Celery worker, Celery beat) and a few statistics.

This module does not import Django: the drivers talk to the stack over HTTP and read PostgreSQL with
psycopg; whatever needs the ORM runs in a subprocess (``python -m bench.setup_db``) with the bench
environment."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from deploy.cluster import DB_NAME, Cluster, ClusterConfig, group_pids

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/ (the drivers run with .venv/bin/python)
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"
PASSWORD = "bench-Password-2026"


class BenchError(RuntimeError):
    """A failure of the bench itself (a service down, a process that does not start)."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Config:
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    db_name: str = "sout_bench"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 3
    port: int = 8765
    web_workers: int = 2  # the drivers default to 4 (bench/README.md)
    worker_concurrency: int = 2
    duration_minutes: float = 3.0
    sweep_seconds: int = 15
    var_dir: Path = ROOT / "var" / "bench"
    extra_env: dict[str, str] = field(default_factory=dict)
    src: Path = ROOT  # the code the stack runs: a snapshot of the work tree (snapshot_source)

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@{self.pg_host}:{self.pg_port}/{self.db_name}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def env(self) -> dict[str, str]:
        """The environment of every process of the stack (and of the setup subprocess)."""
        env = {k: v for k, v in os.environ.items() if k not in {"TESTING", "CELERY_TASK_ALWAYS_EAGER"}}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": SECRET_KEY,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DEBUG": "false",
                "VAR_DIR": str(self.var_dir),
                # One collectstatic for every bench (it takes half a minute), whatever its var_dir.
                "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
                "EXAM_DURATION_MINUTES": str(self.duration_minutes),
                "EXAM_SWEEP_SECONDS": str(self.sweep_seconds),
                "BENCH_ENDPOINTS": "1",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                # BENCH_PYTHONPATH: packages of an experiment kept out of the venv (bench/settings_suggested.py).
                "PYTHONPATH": os.pathsep.join(p for p in (str(self.src), os.environ.get("BENCH_PYTHONPATH", "")) if p),
            }
        )
        env.update(self.extra_env)
        return env

    def pg(self, dbname: str | None = None, autocommit: bool = True) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.pg_host,
            port=self.pg_port,
            user="postgres",
            dbname=dbname or self.db_name,
            autocommit=autocommit,
            connect_timeout=3,
        )

    def redis(self) -> redis.Redis:
        return redis.Redis(
            host=self.redis_host, port=self.redis_port, db=self.redis_db, socket_connect_timeout=1, socket_timeout=2
        )


class Db:
    """The drivers' own PostgreSQL connection, opened once and kept: under overload the server may
    refuse new connections ("too many clients"), and a check of the bench must not fail because of
    that. Retries for a while on a connection error."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.conn: psycopg.Connection[Any] | None = None
        self.lock = threading.Lock()

    def rows(self, sql: str, params: list[Any] | None = None, tries: int = 60) -> list[tuple[Any, ...]]:
        last: Exception | None = None
        for _ in range(tries):
            with self.lock:
                try:
                    if self.conn is None or self.conn.closed:
                        self.conn = self.cfg.pg()
                    return self.conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
                except psycopg.OperationalError as exc:
                    last = exc
                    with contextlib.suppress(Exception):
                        if self.conn is not None:
                            self.conn.close()
                    self.conn = None
            time.sleep(1)
        raise BenchError(f"PostgreSQL unusable for the bench's checks: {last}")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()


# --- Services ---------------------------------------------------------------------------------------


def check_services(cfg: Config) -> None:
    """Fail loudly when PostgreSQL or Redis is unreachable."""
    try:
        with cfg.pg("postgres") as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL is not reachable at {cfg.pg_host}:{cfg.pg_port} as postgres: {exc}") from exc
    try:
        cfg.redis().ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis is not reachable at {cfg.redis_host}:{cfg.redis_port}: {exc}") from exc


def recreate_database(cfg: Config) -> None:
    """DROP and CREATE the bench database (never any other), and empty the bench's Redis db."""
    if not cfg.db_name.startswith("sout_bench"):
        raise BenchError(f"refusing to drop {cfg.db_name!r}: the bench database must be named sout_bench*")
    with cfg.pg("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg.db_name}" WITH (FORCE)')
        conn.execute(
            f"CREATE DATABASE \"{cfg.db_name}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    cfg.redis().flushdb()


SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "node_modules",
    "test-results",
    "staticfiles",
)


def snapshot_source(cfg: Config) -> str:
    """Copy the work tree (code, templates, static, locale; no venv, no data) to var/bench/src and run
    every process of the stack from there: a run of ten minutes sees one version of the code even
    when someone edits the tree meanwhile (a migration added mid-run would break it). Returns a
    description of the version (HEAD and the number of changed files)."""
    dest = cfg.var_dir / "src"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE, symlinks=True)
    cfg.src = dest
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        return f"HEAD {head} + {len(changed)} uncommitted changes (git status --porcelain lines)"
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"


def run_python(cfg: Config, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` in the source tree with the bench environment, its output captured."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cfg.src,
        env=cfg.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_setup(cfg: Config, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m bench.setup_db ARGS`` with the bench environment; it prints one JSON line last."""
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    proc = run_python(cfg, "-m", "bench.setup_db", *args, timeout=timeout)
    (cfg.log_dir / f"setup-{args[0]}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise BenchError(f"bench.setup_db {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# --- Processes of the stack ------------------------------------------------------------------------


class Proc:
    """One process group of the stack (uvicorn with its workers, the Celery worker with its pool, or
    beat), started in its own session so that a kill reaches every process of the group and nothing
    else, and so that Ctrl-C in make reaches only the driver, which then stops the stack."""

    def __init__(self, name: str, argv: list[str], cfg: Config, ready_line: str | None = None) -> None:
        self.name, self.argv, self.cfg, self.ready_line = name, argv, cfg, ready_line
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = cfg.log_dir / f"{name}.log"

    def start(self) -> None:
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== start #{self.starts} at {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.cfg.src,
                env=self.cfg.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def group_pids(self) -> list[int]:
        """Every live process of the group (the session of the leader)."""
        if self.popen is None:
            return []
        return [pid for pid, pgrp in _proc_groups() if pgrp == self.popen.pid]

    def pgids(self) -> list[int]:
        return [self.popen.pid] if self.popen else []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to the leader (uvicorn and Celery stop their own children: a warm shutdown), then
        SIGKILL to whatever is left of the group."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.alive() or self.group_pids()):
            time.sleep(0.1)
        self.kill(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def log_since_start(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _proc_stats() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, command name, the fields after it) of every live process, from /proc/<pid>/stat."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        yield int(entry), stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()


def _proc_groups() -> list[tuple[int, int]]:
    """(pid, process group) of every process on the machine, from /proc."""
    return [(pid, int(fields[2])) for pid, _comm, fields in _proc_stats()]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the given live processes (their own, not their dead children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def all_processes_cpu() -> dict[int, tuple[float, int, str]]:
    """pid -> (user + system CPU seconds, process group, command name) of every live process."""
    tick = os.sysconf("SC_CLK_TCK")
    return {
        pid: ((int(fields[11]) + int(fields[12])) / tick, int(fields[2]), comm) for pid, comm, fields in _proc_stats()
    }


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts) - idle) / tick, sum(parts) / tick


class Stack:
    """uvicorn + Celery worker + Celery beat against the bench PostgreSQL and Redis."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        web = [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(cfg.port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "30",
        ]
        if cfg.web_workers > 1:
            web += ["--workers", str(cfg.web_workers)]
        self.web = Proc("web", web, cfg)
        self.worker = Proc(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                f"--concurrency={cfg.worker_concurrency}",
                "--loglevel=INFO",
                "-n",
                "bench@%h",
            ],
            cfg,
            ready_line=" ready.",
        )
        schedule = cfg.var_dir / "celerybeat-schedule"
        self.beat = Proc(
            "beat",
            [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=INFO", f"--schedule={schedule}"],
            cfg,
            ready_line="beat: Starting",
        )
        self.procs = [self.web, self.worker, self.beat]

    def start(self) -> None:
        for path in self.cfg.var_dir.glob("celerybeat-schedule*"):
            path.unlink()
        for proc in self.procs:
            proc.start()
        self.wait_web()
        self.wait_ready(self.worker)
        self.wait_ready(self.beat)

    def wait_web(self, timeout: float = 60) -> float:
        """Until the server answers the bench's ping; returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.web.alive():
                raise BenchError(f"uvicorn exited at start:\n{self.web.tail()}")
            try:
                with urllib.request.urlopen(f"{self.cfg.base_url}/bench/ping/", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"uvicorn did not answer within {timeout} s:\n{self.web.tail()}")

    def wait_ready(self, proc: Proc, timeout: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not proc.alive():
                raise BenchError(f"{proc.name} exited at start:\n{proc.tail()}")
            if proc.ready_line and proc.ready_line in proc.log_since_start():
                return time.monotonic() - started
            time.sleep(0.2)
        raise BenchError(f"{proc.name} not ready within {timeout} s:\n{proc.tail()}")

    def check_alive(self) -> None:
        for proc in self.procs:
            if not proc.alive():
                raise BenchError(f"{proc.name} died:\n{proc.tail()}")

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stop()


def quiet_collector() -> None:
    """Keep the load generator's own garbage collector out of the latencies it measures. The driver
    is one Python process holding every simulated candidate and every acknowledgement (100,000 of
    them in a sitting of 2,000); with Python's default thresholds its full collections scanned
    500,000-700,000 objects every 30-45 s and stopped its event loop for 270-370 ms, which every
    request in flight then counted as the server's latency (bench/README.md). What exists now is
    moved out of the collector's reach, young objects are still collected, full collections are
    left for after the run: the few cycles that grow old in a run of minutes cost some memory."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 1_000_000)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end the driver through its finally blocks (which stop the stack)."""

    def _exit(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


# --- Statistics ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def fmt(value: float, digits: int = 1) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.{digits}f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- The cluster (bench-exam --cluster, drill-cluster) ------------------------------------------------


class ClusterPart:
    """A role of the cluster (the web: HAProxy and the app nodes; the Celery workers; beat) seen as
    one part of the stack by the CPU meter and the logs."""

    def __init__(self, cluster: Cluster, name: str, members: list[str]) -> None:
        self.cluster, self.name, self.members = cluster, name, members
        self.log_path = cluster.cfg.log_dir / f"{members[0]}.log"

    def pgids(self) -> list[int]:
        return [pgid for member in self.members if (pgid := self.cluster._pgid(member)) is not None]

    def group_pids(self) -> list[int]:
        return [pid for pgid in self.pgids() for pid in group_pids(pgid)]

    def alive(self) -> bool:
        return all(self.cluster.alive(member) for member in self.members)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.cluster.tail(member, lines) for member in self.members)


class ClusterStack:
    """The production topology of deploy/cluster.py in place of the one-server Stack: the bench
    drives it through HAProxy. Started by ``up`` before the candidates are prepared (it owns its
    PostgreSQL); ``stop`` takes it down with its databases."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.web = ClusterPart(cluster, "web", ["haproxy", *cluster.node_names()])
        self.worker = ClusterPart(cluster, "worker", cluster.worker_names())
        self.beat = ClusterPart(cluster, "beat", ["beat"])
        self.procs = [self.web, self.worker, self.beat]

    def up(self) -> None:
        self.cluster.up(fresh=True, demo=False)

    def start(self) -> None:
        """Up already (``up``)."""

    def check_alive(self) -> None:
        for part in self.procs:
            if not part.alive():
                raise BenchError(f"{part.name} of the cluster died:\n{part.tail()}")

    def stop(self) -> None:
        self.cluster.down(clean=True)


def bench_cluster(
    *, var_name: str, port: int, nodes: int, node_workers: int, worker_concurrency: int, env: dict[str, str]
) -> Cluster:
    """A cluster of the bench's own (var/bench/<var_name>, HAProxy on ``port``, the nodes on the
    next ports, its stats page on port + 10, PostgreSQL on 5450-5451, Redis on 6395) with the
    bench's settings in every process."""
    return Cluster(
        ClusterConfig(
            var_dir=ROOT / "var" / "bench" / var_name,
            static_root=ROOT / "var" / "bench" / "static",  # shared with the other benches (setup_db.py)
            port=port,
            stats_port=port + 10,
            node_port=port + 1,
            pg_port=5450,
            replica_port=5451,
            redis_port=6395,
            nodes=nodes,
            node_workers=node_workers,
            celery_workers=1,
            worker_concurrency=worker_concurrency,
            extra_env={"SECRET_KEY": SECRET_KEY, "BENCH_ENDPOINTS": "1", "LOG_LEVEL": "WARNING", **env},
        )
    )


def cluster_bench_config(cluster: Cluster, **fields: Any) -> Config:
    """The bench's view of the cluster: its primary, its Redis and HAProxy (setup and checks)."""
    c = cluster.cfg
    cfg = Config(
        pg_port=c.pg_port,
        db_name=DB_NAME,
        redis_port=c.redis_port,
        redis_db=0,
        port=c.port,
        var_dir=c.var_dir / "bench",
        **fields,
    )
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    return cfg
