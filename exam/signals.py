"""What the attestation test tells the procedures built on it (registry, appeals), without knowing
them: each sends a Django signal inside the transaction that changed the attempt, with the attempt's
row locked, so that whatever follows (superseding a stale decision on attestation, p.58) commits or
rolls back with the change itself. Receivers are connected in the ``ready()`` of the app above."""

from __future__ import annotations

from django.dispatch import Signal

# An attempt was finalised and scored (p.57): kwargs ``attempt``.
attempt_finished = Signal()

# The result of a finished attempt changed (an upheld appeal re-scored it, p.65): kwargs
# ``attempt``, ``by`` (the user, or None) and ``reason``.
attempt_result_changed = Signal()
