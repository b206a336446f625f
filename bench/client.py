"""The simulated candidate of the bench and the drill (asyncio + aiohttp, one task per candidate,
one connection pool shared by all of them, cookies kept per candidate by hand).

It behaves like the exam-room page (frontend/static/frontend/exam-room.js): every change of an
answer gets the next sequence number and goes into a queue; the queue is sent one request at a time
in sequence order, and an entry leaves it only when the server acknowledges that sequence number or a
newer one; an unacknowledged entry is sent again with backoff (1 s doubling to 10 s). Every
acknowledgement (a 200 with position, seq and answer) is logged, to be checked against the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

API = "/api/v1/exam"


@dataclass
class Sample:
    at: float  # wall clock when the response arrived (time.time())
    ms: float  # latency
    status: int  # HTTP status, -1 for a connection error or a timeout
    pool_ms: float = 0.0  # of which the client waited for a free connection of its pool
    wait_ms: float = float("nan")  # of which the server's request waited for a thread (Server-Timing)
    app_ms: float = float("nan")  # of which the application ran (Server-Timing)
    process: str = ""  # the server process that answered (Server-Timing)


class Recorder:
    """Latencies and errors by kind of request (page, login, start, save, submit, ref, ...)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[Sample]] = defaultdict(list)
        self.errors: Counter[tuple[str, str]] = Counter()

    def add(self, kind: str, ms: float, status: int, error: str = "") -> None:
        self.samples[kind].append(Sample(time.time(), ms, status))
        if error:
            self.errors[(kind, error)] += 1

    def response(self, kind: str, r: Response) -> None:
        """A response of the product, with where its time went."""
        self.samples[kind].append(Sample(time.time(), r.ms, r.status, r.pool_ms, r.wait_ms, r.app_ms, r.process))
        if r.error:
            self.errors[(kind, r.error)] += 1

    def ok(self, kind: str, since: float = 0.0, until: float = float("inf")) -> list[Sample]:
        return [s for s in self.samples.get(kind, []) if 200 <= s.status < 300 and since <= s.at <= until]


@dataclass
class Response:
    status: int
    data: Any
    ms: float
    cookies: dict[str, str]
    error: str = ""
    pool_ms: float = 0.0
    wait_ms: float = float("nan")
    app_ms: float = float("nan")
    process: str = ""


def server_timing(header: str) -> dict[str, str]:
    """The metrics of a Server-Timing header (``wait;dur=0.12, app;dur=3.40, proc;desc=812``): the
    duration, or else the description, of each by name."""
    found = {}
    for metric in header.split(","):
        name, _, params = metric.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key in ("dur", "desc"):
                found.setdefault(name, value)
    return found


def _ms(value: str | None) -> float:
    try:
        return float(value) if value is not None else float("nan")
    except ValueError:
        return float("nan")


async def _queued(_session: Any, ctx: Any, _params: Any) -> None:
    ctx.trace_request_ctx["queued"] = time.perf_counter()


async def _dequeued(_session: Any, ctx: Any, _params: Any) -> None:
    ctx.trace_request_ctx["pool_ms"] += (time.perf_counter() - ctx.trace_request_ctx["queued"]) * 1000


class Http:
    """The simulated browsers' connections. With ``pool`` 0 each client (a candidate, a reference
    client) has keep-alive connections of its own, as each person's browser has (up to
    ``BROWSER_CONNECTIONS``); with ``pool`` N everybody shares one pool of N, as behind a proxy that
    holds that many. No cookie jar (each candidate sends its own cookies)."""

    BROWSER_CONNECTIONS = 6  # a browser's connections to one host over HTTP/1.1

    def __init__(self, base_url: str, pool: int, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.pool = pool
        self.timeout = timeout
        self.sessions: dict[Hashable, aiohttp.ClientSession] = {}

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(session.close() for session in self.sessions.values()))
        self.sessions.clear()

    def session(self, client: Hashable) -> aiohttp.ClientSession:
        """The session (and so the connections) of ``client``: its own, or the shared one."""
        key = client if self.pool == 0 else None
        session = self.sessions.get(key)
        if session is None:
            limit = self.pool or self.BROWSER_CONNECTIONS
            connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, keepalive_timeout=25)
            trace = aiohttp.TraceConfig()  # how long a request waits for a free connection
            trace.on_connection_queued_start.append(_queued)
            trace.on_connection_queued_end.append(_dequeued)
            session = aiohttp.ClientSession(
                self.base_url,
                connector=connector,
                trace_configs=[trace],
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
            self.sessions[key] = session
        return session

    async def call(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str] | None = None,
        body: Any = None,
        csrf: bool = False,
        client: Hashable = None,
    ) -> Response:
        headers = {"Accept": "application/json"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            if csrf and "csrftoken" in cookies:
                headers["X-CSRFToken"] = cookies["csrftoken"]
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        trace = {"pool_ms": 0.0}
        started = time.perf_counter()
        try:
            async with self.session(client).request(
                method, path, data=data, headers=headers, trace_request_ctx=trace
            ) as response:
                raw = await response.read()
                ms = (time.perf_counter() - started) * 1000
                status = response.status
                set_cookies = {name: morsel.value for name, morsel in response.cookies.items()}
                timing = server_timing(response.headers.get("Server-Timing", ""))
        except (aiohttp.ClientError, TimeoutError) as exc:
            ms = (time.perf_counter() - started) * 1000
            return Response(-1, None, ms, {}, type(exc).__name__, trace["pool_ms"])
        try:
            parsed = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
        except ValueError:
            parsed = None
        return Response(
            status,
            parsed,
            ms,
            set_cookies,
            "" if status < 500 else f"HTTP {status}",
            trace["pool_ms"],
            _ms(timing.get("wait")),
            _ms(timing.get("app")),
            timing.get("proc", ""),
        )


@dataclass
class Sim:
    """How the simulated candidates behave."""

    interval: float = 5.0  # mean think time between two answer changes, s
    jitter: float = 0.5  # think time is interval * uniform(1 - jitter, 1 + jitter)
    start_spread: float = 45.0  # starts spread over this many seconds
    submit_fraction: float = 0.2  # these submit early, the rest run out of time
    change_probability: float = 0.25  # an action changes an earlier answer rather than the next question
    flag_probability: float = 0.05
    entry_patience: float = 120.0  # keep retrying the entry (login, start) this long
    seed: int = 1


@dataclass
class Ack:
    position: int
    seq: int
    answer: list[int]


@dataclass
class Candidate:
    index: int
    login: str
    password: str
    http: Http
    rec: Recorder
    sim: Sim
    rng: random.Random
    cookies: dict[str, str] = field(default_factory=dict)
    attempt: int | None = None
    deadline: float = 0.0  # wall clock (time.time()) of the server's deadline, from remaining_ms
    items: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    pending: dict[int, tuple[list[int], bool, int]] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)
    acks: list[Ack] = field(default_factory=list)
    next_position: int = 1
    entered_at: float = 0.0
    submitted: bool = False
    closed: str = ""  # why the flusher stopped: finished, taken_over, deadline
    unacked_at_end: int = 0
    entry_failed: str = ""
    retries: int = 0
    max_backoff_wait: float = 0.0

    # --- entry ----------------------------------------------------------------------------------

    async def enter(self) -> bool:
        """GET /exam/ (CSRF cookie), sign in, start; retried with backoff like a person would."""
        give_up = time.time() + self.sim.entry_patience
        backoff = 1.0
        step = "page"
        while time.time() < give_up:
            if step == "page":
                r = await self.http.call("GET", "/exam/", cookies=self.cookies, client=self.login)
                self.rec.response("page", r)
                if r.status == 200 and ("csrftoken" in r.cookies or "csrftoken" in self.cookies):
                    self.cookies.update(r.cookies)
                    step = "login"
                    continue
            elif step == "login":
                r = await self.http.call(
                    "POST",
                    f"{API}/login/",
                    cookies=self.cookies,
                    client=self.login,
                    body={"login": self.login, "password": self.password},
                    csrf=True,
                )
                self.rec.response("login", r)
                if r.status == 200:
                    self.cookies.update(r.cookies)
                    step = "start"
                    continue
                if 400 <= r.status < 500:
                    self.entry_failed = f"login {r.status}: {r.data}"
                    return False
            else:
                r = await self.http.call(
                    "POST",
                    f"{API}/attempt/start/",
                    cookies=self.cookies,
                    client=self.login,
                    body={"personally": True},
                    csrf=True,
                )
                self.rec.response("start", r)
                if r.status == 201:
                    self.cookies.update(r.cookies)
                    self._adopt_state(r.data)
                    self.entered_at = time.time()
                    return True
                if r.status == 401:  # the session was lost: sign in again
                    step = "login"
                    continue
                if 400 <= r.status < 500:
                    self.entry_failed = f"start {r.status}: {r.data}"
                    return False
            if r.status != -1 and 400 <= r.status < 500 and step == "page":
                self.entry_failed = f"page {r.status}"
                return False
            self.retries += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
        self.entry_failed = f"gave up at {step}"
        return False

    def _adopt_state(self, data: dict[str, Any]) -> None:
        self.attempt = int(data["attempt"])
        self.deadline = time.time() + data["remaining_ms"] / 1000
        self.items = data["items"]
        self.seq = max(self.seq, int(data.get("max_seq") or 0))
        for item in self.items:
            if item["answer"]:
                self.answered.add(item["position"])

    # --- answering ------------------------------------------------------------------------------

    def act(self) -> None:
        """The person changes one answer: the next question, or now and then an earlier one."""
        count = len(self.items)
        if self.answered and (self.next_position > count or self.rng.random() < self.sim.change_probability):
            position = self.rng.choice(sorted(self.answered))
        else:
            position = self.next_position
            self.next_position += 1
        item = self.items[position - 1]
        ids = [option["id"] for option in item["options"]]
        k = self.rng.choice((1, 2)) if item["multiple"] and len(ids) > 1 else 1
        answer = sorted(self.rng.sample(ids, k))
        flagged = self.rng.random() < self.sim.flag_probability
        self.seq += 1
        self.pending[position] = (answer, flagged, self.seq)
        self.answered.add(position)

    async def flush(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        """Send the queue in sequence order, one request at a time, until told to stop and empty, or
        until the attempt is finished or the deadline has passed."""
        backoff = 1.0
        while True:
            if time.time() >= self.deadline + 2:
                self.closed = self.closed or "deadline"
                break
            if not self.pending:
                if stop.is_set():
                    break
                # Woken by a new answer or by the stop (which sets ``wake`` too), at most a second
                # later to look at the deadline; no task is made for the wait (two tasks and an
                # asyncio.wait for each answer were about a seventh of the load generator's CPU in
                # a py-spy profile of the sitting).
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await wake.wait()
                continue
            position = min(self.pending, key=lambda p: self.pending[p][2])
            answer, flagged, seq = self.pending[position]
            r = await self.http.call(
                "PUT",
                f"{API}/attempt/answers/{position}/",
                cookies=self.cookies,
                client=self.login,
                body={"answer": answer, "flagged": flagged, "seq": seq},
                csrf=True,
            )
            self.rec.response("save", r)
            if r.status == 200 and isinstance(r.data, dict):
                backoff = 1.0
                acked = int(r.data["seq"])
                self.acks.append(Ack(int(r.data["position"]), acked, list(r.data["answer"])))
                current = self.pending.get(position)
                if current is not None and acked >= current[2]:
                    del self.pending[position]
                continue
            if r.status == 409:
                code = (r.data or {}).get("error", {}).get("code", "") if isinstance(r.data, dict) else ""
                self.rec.errors[("save", f"409 {code}")] += 1
                self.closed = "taken_over" if code == "taken_over" else "finished"
                break
            if r.status == 401:  # session lost (it should not be: sessions are written through to the DB)
                self.rec.errors[("save", "401")] += 1
                ok = await self.enter()
                if not ok:
                    self.closed = "login_lost"
                    break
                continue
            if 400 <= r.status < 500:
                self.rec.errors[("save", f"{r.status} dropped")] += 1
                del self.pending[position]
                continue
            self.retries += 1
            self.max_backoff_wait = max(self.max_backoff_wait, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
        self.unacked_at_end = len(self.pending)

    async def submit(self) -> None:
        backoff = 1.0
        while time.time() < self.deadline:
            r = await self.http.call(
                "POST", f"{API}/attempt/submit/", cookies=self.cookies, client=self.login, csrf=True
            )
            self.rec.response("submit", r)
            if r.status in (200, 409):
                self.submitted = r.status == 200
                return
            if r.status != -1 and r.status < 500:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def sit(self, start_at: float, submit: bool) -> None:
        """The whole sitting of one candidate, from the entry to submission or the deadline."""
        await asyncio.sleep(max(0.0, start_at - time.time()))
        if not await self.enter():
            return
        duration = self.deadline - self.entered_at
        submit_at = self.entered_at + duration * self.rng.uniform(0.4, 0.9) if submit else None
        wake, stop = asyncio.Event(), asyncio.Event()

        def halt() -> None:
            stop.set()
            wake.set()

        flusher = asyncio.ensure_future(self.flush(wake, stop))
        next_action = time.time() + self.rng.uniform(0.2, 1.0) * self.sim.interval
        try:
            while not self.closed:
                if submit_at is not None and next_action >= submit_at:
                    await asyncio.sleep(max(0.0, submit_at - time.time()))
                    halt()
                    await asyncio.wait_for(asyncio.shield(flusher), timeout=max(1.0, self.deadline - time.time()))
                    await self.submit()
                    return
                if next_action >= self.deadline - 1.0:
                    break  # out of time: the person stops answering (the page closes at the deadline)
                await asyncio.sleep(max(0.0, next_action - time.time()))
                if self.closed:
                    break
                self.act()
                wake.set()
                next_action += self.sim.interval * self.rng.uniform(1 - self.sim.jitter, 1 + self.sim.jitter)
            halt()
            await flusher
        except TimeoutError:
            pass
        finally:
            halt()
            if not flusher.done():
                await asyncio.wait({flusher}, timeout=max(0.0, self.deadline + 3 - time.time()))
                flusher.cancel()


async def loop_lag(rec: Recorder, stop: asyncio.Event, period: float = 0.1, freeze_every: float = 5.0) -> None:
    """How late the driver's event loop wakes up: an upper bound on the client's own error. And
    every ``freeze_every`` seconds, what survived so far is moved out of the collector's reach
    (bench.common.quiet_collector): the acknowledgements and sessions of 2,000 candidates pile up
    in the older generations, and a collection of those stops the loop, which every request in
    flight counts as the server's time (the loop was seen 320-750 ms late in runs of N=2000 before,
    126 ms after, bench/README.md). The few cycles frozen with them are kept until the end of the
    run."""
    frozen_at = time.perf_counter()
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(period)
        rec.add("loop_lag", (time.perf_counter() - started - period) * 1000, 200)
        if started - frozen_at >= freeze_every:
            gc.freeze()
            frozen_at = started


def sitting_arguments(p: argparse.ArgumentParser, *, candidates: int, start_spread: float, pool: int) -> None:
    """The options of a simulated sitting shared by the drills."""
    p.add_argument("--candidates", type=int, default=candidates)
    p.add_argument("--duration-minutes", type=float, default=3.0)
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--start-spread", type=float, default=start_spread)
    p.add_argument("--submit-fraction", type=float, default=0.2)
    p.add_argument("--sweep-seconds", type=int, default=15)
    p.add_argument(
        "--pool",
        type=int,
        default=pool,
        help="client connections: 0 = each candidate its own; N = one pool of N shared",
    )
    p.add_argument("--worker-down", type=float, default=5.0, help="seconds the Celery worker stays dead")
    p.add_argument(
        "--worker-kill-before", type=float, default=8.0, help="kill the worker this long before the deadlines"
    )
