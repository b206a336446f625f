"""The production topology on one machine: ``python -m deploy.cluster up|down|status``.

``up`` starts, all on 127.0.0.1: its own PostgreSQL primary and a streaming replica (two clusters made
with initdb and pg_basebackup under ``var/cluster/pg``), its own Redis, the migrations (and the demo
data), N app nodes (uvicorn, each its own process group and port), Celery workers and one beat, and
HAProxy in front of the nodes; it waits until every node is healthy and HAProxy sees every node UP,
prints the addresses and returns, leaving everything running. ``down`` stops exactly what the state
file (``var/cluster/state.json``) names. Every process is started in its own session, so that a
signal reaches its whole group and nothing else, and Ctrl-C in the shell that ran ``up`` reaches none.

The cluster drill and the benchmarks drive a cluster through ``Cluster`` (another var dir and other
ports through ``ClusterConfig``, so they can run beside a developer's). This module imports no Django.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import glob
import hashlib
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/ (run with .venv/bin/python)
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg"
DB_NAME = "sout"
REPLICATION_SLOT = "cluster_replica"


class ClusterError(RuntimeError):
    """The cluster cannot start or stop (a missing binary, a process that does not come up)."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def shared_node_workers(nodes: int) -> int:
    """uvicorn workers of each node when the nodes share one machine: one process per core in all
    (at least one a node). Their threads wait for PostgreSQL without holding a core, and on this
    machine the two PostgreSQL clusters and HAProxy want the cores too: `make bench-exam N=2000
    --cluster` on 2 cores kept the saves' p99 within twice the reference's with 2 nodes of one
    process, not with 2 nodes of two (bench/README.md)."""
    return max(1, (os.cpu_count() or 1) // max(1, nodes))


@dataclass
class ClusterConfig:
    port: int = 8000  # HAProxy: the site
    stats_port: int = 8404  # HAProxy's stats page
    node_port: int = 8001  # node i (1-based) listens on node_port + i - 1
    nodes: int = 2
    node_workers: int = 0  # uvicorn --workers of each node; 0: shared_node_workers(nodes)
    celery_workers: int = 1
    worker_concurrency: int = 2
    pg_port: int = 5440
    replica_port: int = 5441
    redis_port: int = 6390
    var_dir: Path = ROOT / "var" / "cluster"
    # collectstatic takes half a minute: clusters may share one static root (the smoke test does).
    static_root: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.node_workers = self.node_workers or shared_node_workers(self.nodes)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    @property
    def pg_dir(self) -> Path:
        return self.var_dir / "pg"

    @property
    def state_path(self) -> Path:
        return self.var_dir / "state.json"

    def ports(self) -> list[int]:
        nodes = [self.node_port + i for i in range(self.nodes)]
        return [self.port, self.stats_port, *nodes, self.pg_port, self.replica_port, self.redis_port]


# --- Processes -------------------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a process, None when there is none."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def group_pids(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None and stat[1] == pgid and stat[0] != "Z":
                pids.append(int(entry))
    return pids


def pid_alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def stop_group(pgid: int, timeout: float = 15) -> None:
    """SIGTERM to the group's leader (uvicorn and Celery then stop their own children: a warm
    shutdown, the tasks under way finished), or to the whole group when the leader is gone; SIGKILL
    to whatever is left after the timeout."""
    try:
        os.kill(pgid, signal.SIGTERM)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and group_pids(pgid):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and group_pids(pgid):
        time.sleep(0.05)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_get(url: str, timeout: float = 3) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of a GET; an HTTP error status is an answer,
    not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


# --- PostgreSQL ------------------------------------------------------------------------------------


def pg_bindir() -> Path:
    """The PostgreSQL server binaries: ``pg_config --bindir``, else the newest /usr/lib/postgresql/*/bin."""
    candidates = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout
        candidates.append(Path(out.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions]
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists() and (path / "pg_basebackup").exists():
            return path
    raise ClusterError(
        "PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are missing: apt-get install postgresql"
    )


def which(name: str) -> str | None:
    """A command on the PATH or in /usr/sbin (haproxy and runuser live there, often off a user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def missing_binaries() -> list[str]:
    """What the machine lacks to start a cluster (empty: nothing)."""
    missing = [name for name in ("haproxy", "redis-server", "redis-cli") if which(name) is None]
    try:
        pg_bindir()
    except ClusterError:
        missing.append("initdb/pg_ctl/pg_basebackup")
    return missing


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the postgres user."""
    return [which("runuser") or "runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _check_traversable(path: Path, user: str) -> None:
    """The postgres user must reach its data directory: every folder above it searchable by others
    (pytest's tmp folders are 0700, for instance)."""
    for parent in path.resolve().parents:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise ClusterError(f"{parent} is not searchable by others: the {user} user cannot reach {path}")


class Postgres:
    """One PostgreSQL cluster (the primary or the replica) of the cluster's var dir."""

    def __init__(self, name: str, data_dir: Path, port: int, log_path: Path) -> None:
        self.name, self.data_dir, self.port, self.log_path = name, data_dir, port, log_path

    def run(self, tool: str, *args: str, timeout: float = 120) -> None:
        argv = [*_as_postgres(), str(pg_bindir() / tool), *args]
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, start_new_session=True, cwd="/"
        )
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")

    def own(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in paths:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def write_settings(self) -> None:
        """The cluster's own settings, in cluster.conf (included by postgresql.conf; a replica made
        by pg_basebackup copies both and gets its own port here)."""
        conf = self.data_dir / "cluster.conf"
        conf.write_text(
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''  # TCP only: the machine's own PostgreSQL keeps the usual socket\n"
            "wal_level = replica\n"
            "max_wal_senders = 5\n"
            "max_replication_slots = 5\n"
            "hot_standby = on\n"
            "hot_standby_feedback = on\n"
            # uvicorn workers x (HTTP threads + 4) pooled connections on each node, and the workers.
            "max_connections = 300\n"
        )
        self.own(conf)

    def initdb(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.own(self.data_dir.parent)
        self.run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write("\ninclude_if_exists = 'cluster.conf'\n")
        (self.data_dir / "pg_hba.conf").write_text(
            "# The cluster of `make cluster`: 127.0.0.1 only, trusted (a development machine).\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        self.write_settings()

    def basebackup(self, *, primary_port: int) -> None:
        """A streaming replica of the primary, with its replication slot (the primary keeps the WAL
        a stopped replica needs to catch up)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.own(self.data_dir.parent)
        self.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(self.data_dir),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",  # a spread checkpoint would make it wait minutes on an idle primary
            "-C",
            "-S",
            REPLICATION_SLOT,
        )
        self.write_settings()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        self.own(self.log_path)
        self.run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        if self.running():
            self.run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and pid_alive(pid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"


# --- The cluster -----------------------------------------------------------------------------------


class Cluster:
    def __init__(self, cfg: ClusterConfig | None = None) -> None:
        self.cfg = cfg or ClusterConfig()
        logs = self.cfg.log_dir
        self.primary = Postgres("primary", self.cfg.pg_dir / "primary", self.cfg.pg_port, logs / "primary.log")
        self.replica = Postgres("replica", self.cfg.pg_dir / "replica", self.cfg.replica_port, logs / "replica.log")
        # The Popen objects of the processes this object started (reaped when they die).
        self.popens: dict[str, subprocess.Popen[bytes]] = {}
        self._static_stamp = ""
        self.log_offsets: dict[str, int] = {}  # where each process's log stood at its last start

    # -- Addresses and environment

    @property
    def base_url(self) -> str:
        return self.cfg.base_url

    def node_port(self, i: int) -> int:
        if not 1 <= i <= self.cfg.nodes:
            raise ValueError(f"node {i}: the cluster has nodes 1 to {self.cfg.nodes}")
        return self.cfg.node_port + i - 1

    def node_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.node_port(i)}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.cfg.redis_port}/0"

    @property
    def static_root(self) -> Path:
        return self.cfg.static_root or self.cfg.var_dir / "static"

    def secret_key(self) -> str:
        """One SECRET_KEY for every node (sessions, CSRF and signed cookies cross nodes), made once."""
        path = self.cfg.var_dir / "secret_key"
        if not path.exists():
            self.cfg.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()

    def env(self) -> dict[str, str]:
        """The environment of every process of the product in the cluster."""
        inherited = {
            "TESTING",
            "CELERY_TASK_ALWAYS_EAGER",
            "SITE_URL",
            "PROMETHEUS_MULTIPROC_DIR",
            "DJANGO_SETTINGS_MODULE",
        }
        env = {k: v for k, v in os.environ.items() if k not in inherited}
        hosts = f"http://127.0.0.1:{self.cfg.port},http://localhost:{self.cfg.port}"
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": self.primary.url,
                "DATABASE_REPLICA_URL": self.replica.url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": self.secret_key(),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": hosts,
                "DEBUG": "false",
                "LOG_FORMAT": "json",
                "SITE_URL_DEFAULT": self.base_url,
                # One proxy (HAProxy) in front: the rate limits read the client from X-Forwarded-For.
                "API_NUM_PROXIES": "1",
                # Media, the beat schedule: shared by every node (one machine, one folder).
                "VAR_DIR": str(self.cfg.var_dir),
                "STATIC_ROOT": str(self.static_root),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.cfg.extra_env)
        return env

    # -- State

    def load_state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.cfg.state_path.read_text()))
        except (OSError, ValueError):
            return {}

    def save_state(self, state: dict[str, Any]) -> None:
        self.cfg.var_dir.mkdir(parents=True, exist_ok=True)
        draft = self.cfg.state_path.with_suffix(".tmp")
        draft.write_text(json.dumps(state, indent=2, default=str))
        draft.replace(self.cfg.state_path)

    def _record(self, name: str, **fields: Any) -> None:
        state = self.load_state()
        state.setdefault("procs", {})[name] = fields
        self.save_state(state)

    # -- Process groups

    def _argv(self, name: str) -> list[str]:
        cfg = self.cfg
        if name.startswith("node"):
            argv = [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.node_port(int(name[4:]))),
                "--workers",
                str(cfg.node_workers),
                "--proxy-headers",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--no-access-log",
            ]
            return argv
        if name.startswith("worker"):
            return [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-n",
                f"{name}@%h",
                f"--concurrency={cfg.worker_concurrency}",
                "--loglevel=INFO",
            ]
        if name == "beat":
            return [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={cfg.var_dir / 'celerybeat-schedule'}",
            ]
        if name == "redis":
            # No persistence: sessions are written through to PostgreSQL, and a task lost with the
            # broker is redone by its sweeper (README, Operations); a restart starts empty.
            return [
                which("redis-server") or "redis-server",
                "--port",
                str(cfg.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(cfg.var_dir),
            ]
        if name == "haproxy":
            return [which("haproxy") or "haproxy", "-f", str(cfg.var_dir / "haproxy.cfg"), "-db"]
        raise ValueError(f"no process named {name}")

    def _spawn(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Start a process group (its leader in a new session), its output appended to its log."""
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
        argv = self._argv(name)
        env = self.env()
        env.update(extra_env or {})
        with open(self.cfg.log_dir / f"{name}.log", "ab") as out:
            self.log_offsets[name] = out.tell()
            out.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv)}\n".encode())
            out.flush()
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.popens[name] = popen
        self._record(name, pid=popen.pid, pgid=popen.pid, argv=argv, log=str(self.cfg.log_dir / f"{name}.log"))

    def _pgid(self, name: str) -> int | None:
        proc = self.load_state().get("procs", {}).get(name)
        return int(proc["pgid"]) if proc else None

    def alive(self, name: str) -> bool:
        popen = self.popens.get(name)
        if popen is not None:
            popen.poll()  # reap it if it died
        pgid = self._pgid(name)
        return pgid is not None and bool(group_pids(pgid))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        pgid = self._pgid(name)
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            if sig == signal.SIGKILL:  # returns when the group is gone
                popen = self.popens.get(name)
                if popen is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        popen.wait(timeout=10)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and group_pids(pgid):
                    time.sleep(0.05)

    def stop(self, name: str, timeout: float = 15) -> None:
        pgid = self._pgid(name)
        if pgid is not None:
            stop_group(pgid, timeout)
        popen = self.popens.pop(name, None)
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=5)

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            text = (self.cfg.log_dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_since_start(self, name: str) -> str:
        """The log of a process since this object last started it."""
        try:
            with open(self.cfg.log_dir / f"{name}.log", "rb") as f:
                f.seek(self.log_offsets.get(name, 0))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def node_names(self) -> list[str]:
        return [f"node{i}" for i in range(1, self.cfg.nodes + 1)]

    def worker_names(self) -> list[str]:
        return [f"worker{i}" for i in range(1, self.cfg.celery_workers + 1)]

    # -- The parts the drill and the benchmarks act on

    def start_node(self, i: int) -> None:
        """Start node i (1-based) with its own Prometheus folder, emptied first (core.metrics)."""
        name = f"node{i}"
        self.node_port(i)
        metrics = self.cfg.var_dir / "prometheus" / name
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        self._spawn(name, {"NODE_NAME": name, "PROMETHEUS_MULTIPROC_DIR": str(metrics)})

    def kill_node(self, i: int) -> None:
        """SIGKILL to node i's whole group: a crash, not a shutdown."""
        self.node_port(i)
        self.kill(f"node{i}")

    def start_worker(self, i: int, wait: bool = True) -> None:
        """Start Celery worker i (1-based); with ``wait``, until it says it is ready."""
        name = f"worker{i}"
        metrics = self.cfg.var_dir / "prometheus" / name
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        # INFO whatever LOG_LEVEL says: its readiness is read from its log (" ready.").
        self._spawn(name, {"NODE_NAME": name, "PROMETHEUS_MULTIPROC_DIR": str(metrics), "LOG_LEVEL": "INFO"})
        if wait:
            self._wait_log(name, " ready.")

    def kill_worker(self, i: int) -> None:
        self.kill(f"worker{i}")

    def replica_stop(self) -> None:
        """The replica goes away abruptly (pg_ctl stop -m immediate): reads fall back to the primary."""
        self.replica.stop(mode="immediate")

    def replica_start(self) -> None:
        """The replica comes back and catches up from its slot."""
        self.replica.start()

    # -- Waiting

    def node_healthy(self, i: int) -> bool:
        with contextlib.suppress(OSError):
            return http_get(f"{self.node_url(i)}/health/", timeout=3)[0] == 200
        return False

    def haproxy_servers(self) -> dict[str, str]:
        """node name -> status (UP, DOWN, ...) as HAProxy's stats page says."""
        with contextlib.suppress(OSError):
            status, _headers, body = http_get(f"http://127.0.0.1:{self.cfg.stats_port}/;csv", timeout=3)
            if status == 200:
                rows = csv.DictReader(io.StringIO(body.decode().lstrip("# ")))
                return {
                    row["svname"]: row["status"].split()[0]
                    for row in rows
                    if row["pxname"] == "nodes" and row["svname"] not in ("FRONTEND", "BACKEND")
                }
        return {}

    def wait_healthy(self, timeout: float = 90) -> float:
        """Until every node answers /health/ with 200 and HAProxy has every node UP; returns the
        seconds waited. A process of the cluster that dies meanwhile fails at once."""
        started = time.monotonic()
        names = ["haproxy", *self.node_names()]
        while time.monotonic() - started < timeout:
            for name in names:
                if not self.alive(name):
                    raise ClusterError(f"{name} is not running:\n{self.tail(name)}")
            healthy = all(self.node_healthy(i) for i in range(1, self.cfg.nodes + 1))
            servers = self.haproxy_servers()
            if healthy and len(servers) == self.cfg.nodes and all(s == "UP" for s in servers.values()):
                return time.monotonic() - started
            time.sleep(0.5)
        raise ClusterError(
            f"the cluster is not healthy after {timeout:.0f} s (HAProxy says {self.haproxy_servers()}):\n"
            + "\n".join(f"--- {name}\n{self.tail(name, 15)}" for name in self.node_names())
        )

    def _wait_log(self, name: str, line: str, timeout: float = 60) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.alive(name):
                raise ClusterError(f"{name} exited at start:\n{self.tail(name)}")
            if line in self.log_since_start(name):
                return
            time.sleep(0.2)
        raise ClusterError(f"{name} not ready within {timeout} s:\n{self.tail(name)}")

    def _wait_port(self, name: str, port: int, timeout: float = 30) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.alive(name):
                raise ClusterError(f"{name} exited at start:\n{self.tail(name)}")
            if port_open(port):
                return
            time.sleep(0.1)
        raise ClusterError(f"{name} does not listen on {port} after {timeout} s:\n{self.tail(name)}")

    # -- Up, down, status

    def running_parts(self) -> list[str]:
        """What of the state file is still running."""
        parts = [name for name in self.load_state().get("procs", {}) if self.alive(name)]
        parts += [pg.name for pg in (self.primary, self.replica) if pg.running()]
        return parts

    def up(self, fresh: bool = False, demo: bool = True) -> None:
        """Start the whole cluster and wait until it is healthy. ``fresh`` starts from empty
        databases; otherwise the databases of the last run are kept (the demo data is idempotent)."""
        running = self.running_parts()
        if running:
            raise ClusterError(
                f"the cluster of {self.cfg.var_dir} is already up ({', '.join(running)}): stop it first (make cluster-stop)"
            )
        missing = missing_binaries()
        if missing:
            raise ClusterError(f"missing: {', '.join(missing)} (make system-deps installs them)")
        busy = [port for port in self.cfg.ports() if port_open(port)]
        if busy:
            raise ClusterError(f"ports already in use on 127.0.0.1: {busy}")
        if fresh:
            shutil.rmtree(self.cfg.pg_dir, ignore_errors=True)
        if os.geteuid() == 0:
            _check_traversable(self.cfg.pg_dir, "postgres")
        self.cfg.var_dir.mkdir(parents=True, exist_ok=True)
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
        self.save_state({"config": dataclasses.asdict(self.cfg), "started": time.strftime("%Y-%m-%d %H:%M:%S")})
        try:
            self._up(demo=demo)
        except BaseException:
            log("start failed: stopping what was started")
            static = self.popens.pop("collectstatic", None)
            if static is not None and static.poll() is None:
                stop_group(static.pid)
            with contextlib.suppress(Exception):
                self.down()
            raise

    def _up(self, *, demo: bool) -> None:
        started = time.monotonic()
        static = self._collectstatic_start()  # needs no database: it runs while the databases start
        if not self.primary.initialised:
            log(f"initdb: PostgreSQL primary in {self.primary.data_dir}")
            shutil.rmtree(self.replica.data_dir, ignore_errors=True)  # a replica of another primary
            self.primary.initdb()
        log(f"PostgreSQL primary on port {self.cfg.pg_port}")
        self.primary.start()
        self._create_database()
        if not self.replica.initialised:
            log(f"pg_basebackup: streaming replica in {self.replica.data_dir}")
            self.replica.basebackup(primary_port=self.cfg.pg_port)
        log(f"PostgreSQL replica on port {self.cfg.replica_port}")
        self.replica.start()
        state = self.load_state()
        state["postgres"] = {
            pg.name: {"data_dir": str(pg.data_dir), "port": pg.port, "pid": pg.postmaster_pid()}
            for pg in (self.primary, self.replica)
        }
        self.save_state(state)
        log(f"Redis on port {self.cfg.redis_port}")
        self._spawn("redis")
        self._wait_port("redis", self.cfg.redis_port)
        self._manage("migrate", "--noinput")
        if demo:
            self._manage("load_demo")
        self._collectstatic_wait(static)
        log(f"{self.cfg.nodes} app nodes, {self.cfg.celery_workers} Celery worker(s), beat, HAProxy")
        for i in range(1, self.cfg.nodes + 1):
            self.start_node(i)
        for i in range(1, self.cfg.celery_workers + 1):
            self.start_worker(i, wait=False)
        for path in self.cfg.var_dir.glob("celerybeat-schedule*"):  # a fresh beat: no stale last-run times
            path.unlink()
        self._spawn("beat")
        self._write_haproxy_cfg()
        self._spawn("haproxy")
        waited = self.wait_healthy()
        for name in self.worker_names():
            self._wait_log(name, " ready.")
        state = self.load_state()
        state["up_seconds"] = round(time.monotonic() - started, 1)
        self.save_state(state)
        log(f"healthy after {waited:.1f} s of waiting for the nodes; up in {state['up_seconds']} s")

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.cfg.pg_port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone() is None:
                conn.execute(
                    f"CREATE DATABASE {DB_NAME} TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                )

    def _manage_argv(self, *args: str) -> list[str]:
        log(f"manage.py {' '.join(args)}")
        argv = [sys.executable, "manage.py", *args]
        with open(self.cfg.log_dir / "manage.log", "ab") as out:
            out.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv)}\n".encode())
        return argv

    def _manage(self, *args: str, timeout: float = 600) -> None:
        argv = self._manage_argv(*args)
        with open(self.cfg.log_dir / "manage.log", "ab") as out:
            proc = subprocess.run(
                argv, cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if proc.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{self.tail('manage')}")

    def _static_fingerprint(self) -> str:
        """What collectstatic's result depends on: the project's static files and the requirements
        (the packages' own static files)."""
        digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
        for path in sorted(ROOT.glob("*/static/**/*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(ROOT)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def _collectstatic_start(self) -> subprocess.Popen[bytes] | None:
        """collectstatic (half a minute: the manifest and compression) in the background, or None when
        the static root already holds the same files."""
        stamp = self.static_root / ".cluster-fingerprint"
        self._static_stamp = self._static_fingerprint()
        manifest = self.static_root / "staticfiles.json"
        if manifest.exists() and stamp.exists() and stamp.read_text() == self._static_stamp:
            return None
        argv = self._manage_argv("collectstatic", "--noinput", "--verbosity", "0")
        with open(self.cfg.log_dir / "collectstatic.log", "ab") as out:
            self.popens["collectstatic"] = subprocess.Popen(
                argv, cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.popens["collectstatic"]

    def _collectstatic_wait(self, static: subprocess.Popen[bytes] | None) -> None:
        if static is None:
            return
        try:
            static.wait(timeout=600)
        finally:
            if static.poll() is None:
                stop_group(static.pid)
        if static.returncode != 0:
            raise ClusterError(f"manage.py collectstatic failed:\n{self.tail('collectstatic')}")
        (self.static_root / ".cluster-fingerprint").write_text(self._static_stamp)

    def _write_haproxy_cfg(self) -> None:
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{self.node_port(i)} check"
            for i, name in enumerate(self.node_names(), start=1)
        )
        text = string.Template(TEMPLATE.read_text()).substitute(
            port=self.cfg.port, stats_port=self.cfg.stats_port, servers=servers
        )
        (self.cfg.var_dir / "haproxy.cfg").write_text(text)
        check = subprocess.run(
            [which("haproxy") or "haproxy", "-c", "-q", "-f", str(self.cfg.var_dir / "haproxy.cfg")],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise ClusterError(f"haproxy refuses its configuration:\n{check.stdout}{check.stderr}")

    def down(self, clean: bool = False) -> None:
        """Stop everything the state file names (idempotent): HAProxy first (no new requests), the
        nodes, the workers and beat, Redis, then both PostgreSQL clusters. ``clean`` also removes
        the databases."""
        procs = self.load_state().get("procs", {})
        order = ["haproxy", *sorted(n for n in procs if n.startswith("node")), "beat"]
        order += sorted(n for n in procs if n.startswith("worker"))
        order += [n for n in procs if n not in order and n != "redis"]
        for name in order:
            if name in procs:
                self.stop(name)
        if "redis" in procs and self.alive("redis"):
            subprocess.run(
                [which("redis-cli") or "redis-cli", "-p", str(self.cfg.redis_port), "shutdown", "nosave"],
                capture_output=True,
                timeout=10,
                check=False,
            )
        if "redis" in procs:
            self.stop("redis")
        for pg in (self.replica, self.primary):
            if pg.running():
                try:
                    pg.stop(mode="fast")
                except ClusterError:
                    pg.stop(mode="immediate")
        if clean:
            shutil.rmtree(self.cfg.pg_dir, ignore_errors=True)
        if self.cfg.state_path.exists():
            self.cfg.state_path.unlink()

    def status(self) -> dict[str, Any]:
        """What runs, from the state file: each process group's live pids, PostgreSQL's postmasters,
        HAProxy's view of the nodes."""
        procs = self.load_state().get("procs", {})
        parts: dict[str, Any] = {
            name: {"pgid": proc["pgid"], "pids": group_pids(int(proc["pgid"]))} for name, proc in procs.items()
        }
        for pg in (self.primary, self.replica):
            parts[pg.name] = {"port": pg.port, "pid": pg.postmaster_pid() if pg.running() else None}
        return {"parts": parts, "haproxy": self.haproxy_servers()}

    def addresses(self) -> list[tuple[str, str]]:
        rows = [("site (HAProxy)", self.base_url)]
        rows += [(f"node{i}", self.node_url(i)) for i in range(1, self.cfg.nodes + 1)]
        rows += [
            ("HAProxy stats", f"http://127.0.0.1:{self.cfg.stats_port}/"),
            ("PostgreSQL primary", self.primary.url),
            ("PostgreSQL replica", self.replica.url),
            ("Redis", self.redis_url),
            ("logs", str(self.cfg.log_dir)),
        ]
        return rows


def all_pids(state: dict[str, Any]) -> Iterator[int]:
    for proc in state.get("procs", {}).values():
        yield from group_pids(int(proc["pgid"]))


# --- Command line ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, default=8000, help="HAProxy's port, the site (8000)")
    parser.add_argument("--stats-port", type=int, default=8404, help="HAProxy's stats page (8404)")
    parser.add_argument("--node-port", type=int, default=8001, help="the first node's port (8001)")
    parser.add_argument("--nodes", type=int, default=2, help="app nodes (2)")
    parser.add_argument(
        "--node-workers",
        type=int,
        default=0,
        help="uvicorn workers of each node (the machine's cores shared by the nodes)",
    )
    parser.add_argument("--celery-workers", type=int, default=1, help="Celery workers (1)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="processes of each Celery worker (2)")
    parser.add_argument("--pg-port", type=int, default=5440, help="PostgreSQL primary (5440)")
    parser.add_argument("--replica-port", type=int, default=5441, help="PostgreSQL replica (5441)")
    parser.add_argument("--redis-port", type=int, default=6390, help="Redis (6390)")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "cluster", help="state, logs, databases")
    parser.add_argument("--static-root", type=Path, default=None, help="collectstatic's folder (VAR_DIR/static)")
    parser.add_argument("--no-demo", action="store_true", help="up: without the demo data")
    parser.add_argument("--fresh", action="store_true", help="up: new, empty databases")
    parser.add_argument("--clean", action="store_true", help="down: remove the databases too")
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.node_workers < 0 or args.celery_workers < 1 or args.worker_concurrency < 1:
        parser.error("--nodes, --celery-workers and --worker-concurrency must be at least 1, --node-workers 0 or more")
    cfg = ClusterConfig(
        port=args.port,
        stats_port=args.stats_port,
        node_port=args.node_port,
        nodes=args.nodes,
        node_workers=args.node_workers,
        celery_workers=args.celery_workers,
        worker_concurrency=args.worker_concurrency,
        pg_port=args.pg_port,
        replica_port=args.replica_port,
        redis_port=args.redis_port,
        var_dir=args.var_dir.resolve(),
        static_root=args.static_root.resolve() if args.static_root else None,
    )
    cluster = Cluster(cfg)
    try:
        if args.command == "up":
            cluster.up(fresh=args.fresh, demo=not args.no_demo)
            width = max(len(name) for name, _ in cluster.addresses())
            for name, address in cluster.addresses():
                print(f"  {name.ljust(width)}  {address}")
            print("Stop with: make cluster-stop")
        elif args.command == "down":
            if not cfg.state_path.exists() and not cluster.running_parts():
                print("The cluster is not running.")
            cluster.down(clean=args.clean)
            log("stopped")
        else:
            print(json.dumps(cluster.status(), indent=2))
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
