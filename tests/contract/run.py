"""The API contract check: schemathesis against the OpenAPI schema of a running server.

Creates a throw-away database (dropped and made anew each run), seeds it (tests/contract/seed.py),
starts the whole product under uvicorn on a free port with the rate limits raised, and runs
schemathesis against ``/api/schema/`` as four clients: anonymous, a candidate with a draft, a
staff member, and the exam room (its session and pass cookie; the exam operations only), each
with the path parameters of the objects the seed made for it (a schemathesis.toml per client:
the staff operations act on a case under review, decisions awaiting signature...). Each
run is bounded by examples per operation and by a wall-clock limit. Any server error, any status
code, content type or body that the schema does not declare, and any schema-invalid request the
server accepts, fails the check (exit status 1).

    .venv/bin/python -m tests.contract.run            # what .ci/run does (make contract)

Environment: ``CONTRACT_DATABASE_URL`` (default: the PostgreSQL server of DATABASE_URL, database
``sout_contract``), ``CONTRACT_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``),
``CONTRACT_MAX_EXAMPLES`` (default 25), ``CONTRACT_RUN_SECONDS`` (limit of one client's run,
default 240)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REPORTS = ROOT / "var" / "contract"

# The checks of the contract: the server never fails, and it answers only what the schema says
# (status codes, content types, bodies), and refuses what the schema forbids.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]

# The clients, each with the operations it is run against (None: all of them).
CLIENTS: list[tuple[str, str | None]] = [
    ("anonymous", None),
    ("candidate", None),
    ("staff", None),
    ("exam", "^/api/v1/exam/"),
]


def _default_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sout")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/sout_contract", "", ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _server_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "PYTEST_ADDOPTS")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        # Throttling must not make the check flaky: the limits of this server are far above its load.
        API_THROTTLE_ANON="100000/min",
        API_THROTTLE_USER="100000/min",
        API_THROTTLE_SIGNATURE_CODE="100000/min",
        API_THROTTLE_REGISTRY="100000/min",
        API_THROTTLE_SIGNATURE_VERIFY="100000/min",
        EXAM_LOGIN_FAILURE_LIMIT="100000",
        VAR_DIR=str(REPORTS / "var"),
    )
    return env


def _wait_for(url: str, *, seconds: float, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def _config_file(name: str, parameters: dict[str, dict[str, int | str]]) -> Path:
    """A schemathesis.toml giving each operation the path parameters of an existing object (from
    tests/contract/seed.py): the check reaches the procedure instead of a 404. JSON strings are
    TOML basic strings."""
    lines = []
    for operation, values in sorted(parameters.items()):
        pairs = ", ".join(f"{json.dumps(key)} = {json.dumps(value)}" for key, value in sorted(values.items()))
        lines += ["[[operations]]", f"include-name = {json.dumps(operation)}", f"parameters = {{ {pairs} }}", ""]
    path = REPORTS / f"{name}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _schemathesis(
    name: str,
    paths: str | None,
    headers: dict[str, str],
    *,
    parameters: dict[str, dict[str, int | str]],
    base: str,
    max_examples: int,
    seconds: int,
) -> int:
    report = REPORTS / f"{name}.xml"
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(_config_file(name, parameters)),
        "run",
        f"{base}/api/schema/?format=json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--continue-on-failure",
        "--request-timeout",
        "20",
        # One worker: two make CPython's AST compiler fail now and then inside hypothesis (a
        # SystemError from recursion), a flaky run that is no fault of the API.
        "--workers",
        "1",
        "--seed",
        os.environ.get("CONTRACT_SEED", "20261204"),
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        # The session cookie is given with --header: leaving it out is not a schema-violating request.
        "--generation-with-security-parameters",
        "false",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if paths:
        command += ["--include-path-regex", paths]
    for header, value in headers.items():
        command += ["--header", f"{header}: {value}"]
    print(f"\n== schemathesis as {name}", flush=True)
    try:
        # Run from the reports' folder: schemathesis keeps its own files in the working directory.
        return subprocess.run(command, cwd=REPORTS, timeout=seconds, check=False).returncode
    except subprocess.TimeoutExpired:
        print(f"FAIL: the run as {name} took more than {seconds} s", flush=True)
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("CONTRACT_DATABASE_URL") or _default_database_url())
    parser.add_argument("--redis-url", default=os.environ.get("CONTRACT_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("CONTRACT_MAX_EXAMPLES", "25")))
    parser.add_argument("--run-seconds", type=int, default=int(os.environ.get("CONTRACT_RUN_SECONDS", "240")))
    parser.add_argument("--only", help="run only these clients (comma-separated)")
    args = parser.parse_args()

    REPORTS.mkdir(parents=True, exist_ok=True)
    env = _server_env(args.database_url, args.redis_url)
    print(f"== contract check: database {urlsplit(args.database_url).path.lstrip('/')}, Redis {args.redis_url}")
    _recreate_database(args.database_url)
    _flush_redis(args.redis_url)
    python = str(BIN / "python")
    # collectstatic (the slowest step: compressing every file) needs no database: it runs while the
    # database is migrated and seeded.
    static = subprocess.Popen([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env)
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [python, "-m", "tests.contract.seed"],
        cwd=ROOT,
        env={**env, "CELERY_TASK_ALWAYS_EAGER": "true", "EMAIL_URL": "memorymail://"},
        check=True,
        stdout=subprocess.PIPE,
    )
    if static.wait() != 0:
        raise SystemExit(f"collectstatic exited with status {static.returncode}")
    seed = json.loads(seeded.stdout.decode().splitlines()[-1])
    headers: dict[str, dict[str, str]] = {"anonymous": {}, **seed["headers"]}

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = REPORTS / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    failed: list[str] = []
    try:
        _wait_for(f"{base}/api/schema/?format=json", seconds=60, server=server)
        only = set(args.only.split(",")) if args.only else None
        for name, paths in CLIENTS:
            if only and name not in only:
                continue
            code = _schemathesis(
                name,
                paths,
                headers[name],
                parameters=seed["parameters"].get(name, {}),
                base=base,
                max_examples=args.max_examples,
                seconds=args.run_seconds,
            )
            if code != 0:
                failed.append(name)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    if failed:
        print(f"\nFAIL: the API does not keep its contract as: {', '.join(failed)} (server log: {log_path})")
        return 1
    print("\ncontract check: 0 server errors, 0 schema violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
