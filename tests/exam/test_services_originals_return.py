"""p.54: after a refusal of admission the paper originals go back to the applicant; the return is
recorded by the registrar (in person, or by post with the tracking number) and has its own term."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.models import AuditEvent, Deadline
from core.services import deadline_kind_label
from exam.admission import selectors, services
from exam.models import Attachment, OriginalsReturn
from tests.conftest import cleaned, client_for, complete_payload, make_sitting, registered_application

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int = 11) -> datetime:
    """A working week of September 2026 without holidays: Monday 14 to Friday 18."""
    return datetime(2026, 9, day, hour, 0, tzinfo=MSK)


def paper_application(rita):
    return services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email="")),
        paper_documents=list(Attachment.Kind.values),
    )


def decide(application, victor, sergey, *, kind="refusal", sitting=None):
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(
        application=application,
        by=victor,
        kind=kind,
        sitting=sitting,
        **({"grounds": ["a_training"], "explanation": "71 час."} if kind == "refusal" else {}),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)


def term(application) -> Deadline:
    return Deadline.objects.get(kind=selectors.DEADLINE_ORIGINALS_RETURN, case_id=application.pk)


def test_a_refusal_of_a_paper_application_opens_the_return_of_its_originals(rita, victor, sergey):
    with time_machine.travel(at(14), tick=False):
        application = paper_application(rita)
        decide(application, victor, sergey)
    originals = OriginalsReturn.objects.get(application=application)
    assert sorted(originals.documents) == sorted(Attachment.Kind.values) and originals.dispatched_at is None
    deadline = term(application)
    assert deadline.role == "registrar" and deadline.completed_at is None and deadline.due_on == date(2026, 9, 21)
    assert "п. 54" in deadline_kind_label(selectors.DEADLINE_ORIGINALS_RETURN)

    url = reverse("frontend:staff_application", args=[application.pk])
    page = client_for(rita).get(url).content.decode()
    assert 'id="originals-return"' in page and "ожидают возврата заявителю" in page
    assert 'id="originals-return-form"' in page
    assert 'id="originals-return-form"' not in client_for(victor).get(url).content.decode()

    with pytest.raises(DomainError) as err:
        services.originals_return_record(
            originals_return=originals, by=victor, channel="post", reference="12712345678901"
        )
    assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        services.originals_return_record(originals_return=originals, by=rita, channel="post", reference="РПО 1")
    assert "reference" in err.value.fields
    assert term(application).completed_at is None

    with time_machine.travel(at(16), tick=False):
        response = client_for(rita).post(
            reverse("frontend:staff_originals_return", args=[application.pk]),
            {"channel": "post", "reference": "127 123 45678901"},
            follow=True,
        )
    page = response.content.decode()
    assert "12712345678901" in page and 'data-returned="yes"' in page and 'id="originals-return-form"' not in page
    originals.refresh_from_db()
    assert (
        originals.dispatched_at == at(16) and originals.dispatch_channel == "post" and originals.dispatched_by == rita
    )
    assert term(application).completed_at == at(16)
    event = AuditEvent.objects.get(verb="originals_returned", case_id=application.pk)
    assert event.actor == rita and event.reason == "12712345678901"
    with pytest.raises(DomainError) as err:
        services.originals_return_record(originals_return=originals, by=rita, channel="in_person", reference="")
    assert err.value.code == "already_dispatched"


def test_originals_handed_over_in_person_need_no_tracking_number(rita, victor, sergey):
    application = paper_application(rita)
    decide(application, victor, sergey)
    originals = services.originals_return_record(
        originals_return=application.originals_return, by=rita, channel="in_person", reference=""
    )
    assert originals.dispatch_channel == "in_person" and term(application).completed_at is not None


def test_no_return_for_an_admission_or_an_electronic_application(alice, rita, victor, sergey, eva):
    admitted = paper_application(rita)
    decide(admitted, victor, sergey, kind="admission", sitting=make_sitting(eva))
    electronic = registered_application(alice)
    decide(electronic, victor, sergey)
    assert not OriginalsReturn.objects.exists()
    assert not Deadline.objects.filter(kind=selectors.DEADLINE_ORIGINALS_RETURN).exists()
