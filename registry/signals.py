"""What the registry tells the procedures built on it (appeals), without knowing them: each signal
is sent inside the transaction that made the change, so that whatever follows (a complaint's remedy
counted as done, p.89) commits or rolls back with it. Receivers are connected in the ``ready()`` of
the app above."""

from __future__ import annotations

from django.dispatch import Signal

# A certificate was issued on a signed decision of attestation (p.60-62): kwargs ``certificate`` and
# ``by`` (the certificate officer).
certificate_issued = Signal()
