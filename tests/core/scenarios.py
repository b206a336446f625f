"""Cases across the procedures that the oversight tests share (built through the services)."""

from typing import Any


def two_candidates_tested(*, alice: Any, oscar: Any, victor: Any, sergey: Any, eva: Any, olga: Any) -> dict[str, Any]:
    """Alice and Oscar admitted to one sitting and tested: Alice passed with 38 and holds a
    certificate not yet in the registry; Oscar failed with 30 and his refusal of attestation is
    drafted, not signed."""
    from exam.testing.services.bank import blueprint_set
    from registry.services import attestation_decision_draft
    from tests.conftest import admit, certify, make_bank, make_sitting, open_sitting, pass_the_test

    make_bank()
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    sitting = make_sitting(eva, days_ahead=1)
    credentials = [admit(candidate, victor, sergey, sitting) for candidate in (alice, oscar)]
    open_sitting(sitting)
    for credential in credentials:
        credential.refresh_from_db()
    certificate = certify(pass_the_test(credentials[0], correct=38), sergey, olga, publish=False)
    failed = pass_the_test(credentials[1], correct=30)
    refusal = attestation_decision_draft(attempt=failed)
    return {"certificate": certificate, "failed": failed, "refusal": refusal}


def complaint_refuse(complaint: Any, *, by: Any) -> Any:
    """The complaint handler refuses the complaint as unfounded (p.88(b))."""
    from appeals.services import complaint_decide

    return complaint_decide(
        complaint=complaint,
        by=by,
        outcome="refuse",
        refusal_ground="unfounded",
        text="Доводы не подтвердились.",
        handler_position="Заместитель Министра труда и социальной защиты Российской Федерации",
    )
