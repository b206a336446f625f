"""The registry's answers to what the attestation test tells (exam.signals): connected in
RegistryConfig.ready(), run inside the transaction that changed the attempt."""

from __future__ import annotations

from typing import Any

from exam.models import Attempt
from registry import services


def on_attempt_finished(*, attempt: Attempt, **_kwargs: Any) -> None:
    services.attempt_finished_supersede(attempt=attempt)


def on_attempt_result_changed(*, attempt: Attempt, by: Any = None, reason: str = "", **_kwargs: Any) -> None:
    services.attestation_result_changed(attempt=attempt, by=by, reason=reason)
