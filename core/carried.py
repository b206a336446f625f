"""A value of the request that the Celery tasks it enqueues carry with them (a task header, read
back when the task starts): the address the site was served on (core.site), the request id of the
logs (core.logs). In the same process (eager tasks) the context variable itself carries it."""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any


class Carried:
    def __init__(self, name: str, *, header: str) -> None:
        self.var: ContextVar[str | None] = ContextVar(name, default=None)
        self.header = header
        self._token = f"{header}_token"

    def get(self) -> str | None:
        return self.var.get()

    def set(self, value: str | None) -> Token[str | None]:
        return self.var.set(value)

    def reset(self, token: Token[str | None]) -> None:
        self.var.reset(token)

    # --- Celery's signals (connected in core.apps) ---------------------------------------------------

    def task_publish(self, *, headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        value = self.var.get()
        if headers is not None and value:
            headers[self.header] = value

    def task_start(self, *, task: Any = None, **_kwargs: Any) -> None:
        request: Any = getattr(task, "request", None)
        value = getattr(request, self.header, None) or (getattr(request, "headers", None) or {}).get(self.header)
        if request is not None and value:
            setattr(request, self._token, self.var.set(str(value)))

    def task_end(self, *, task: Any = None, **_kwargs: Any) -> None:
        request: Any = getattr(task, "request", None)
        token = getattr(request, self._token, None)
        if request is not None and token is not None:
            setattr(request, self._token, None)
            try:
                self.var.reset(token)
            except ValueError:  # ended in another context than it started
                self.var.set(None)

    def connect(self) -> None:
        from celery.signals import before_task_publish, task_postrun, task_prerun

        before_task_publish.connect(self.task_publish, weak=False, dispatch_uid=f"{self.header}-publish")
        task_prerun.connect(self.task_start, weak=False, dispatch_uid=f"{self.header}-start")
        task_postrun.connect(self.task_end, weak=False, dispatch_uid=f"{self.header}-end")
