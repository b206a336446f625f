"""What appeals does when the registry tells it of a step (registry.signals), connected in
AppealsConfig.ready: inside the registry's transaction, so both commit or neither does."""

from __future__ import annotations

from typing import Any

from appeals.models import Complaint
from appeals.services import complaint_remedies_complete
from core.models import User
from registry.models import Certificate


def on_certificate_issued(sender: Any, *, certificate: Certificate, by: User | None, **kwargs: Any) -> None:
    """p.89: an upheld complaint's remedy "issue the certificate" is done when the certificate is
    issued to that person."""
    decision = certificate.decision
    if decision is None:
        return
    complaint_remedies_complete(
        application=decision.application,
        remedy=Complaint.Remedy.ISSUE_CERTIFICATE,
        by=by,
        service="certificate_issue",
        data={"certificate": certificate.number},
    )
