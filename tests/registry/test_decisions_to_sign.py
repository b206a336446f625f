"""The signatories are told of drafted decisions on attestation by one message each that counts
them while it is unread, and one e-mail, not one of each per decision: a national sitting ends with
thousands of drafts within minutes."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from core.models import Notification
from core.services import notification_gather, notification_mark_read
from registry.services import attestation_decision_draft
from tests.conftest import finished_attempt_row, make_user, run_concurrently


def _draft(n: int) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert attestation_decision_draft(attempt=finished_attempt_row(n)) is not None


def test_three_drafts_give_each_signatory_one_message_that_counts_them_and_one_email(sergey, double):
    for n in range(3):
        _draft(n)
    for signatory in (sergey, double):
        (note,) = Notification.objects.filter(recipient=signatory)
        assert note.subject == "3 решения по результатам испытаний направлены на подпись"
        assert note.count == 3
        assert note.link == reverse("frontend:attestation_queue")
        assert note.body.startswith("Последнее: ")
        assert note.texts["en"]["subject"] == "3 attestation decisions sent for signature"
        assert [m.subject for m in mail.outbox if m.to == [signatory.email]] == [
            "1 решение по результатам испытания направлено на подпись"
        ]


def test_once_read_the_next_draft_is_a_new_message_e_mailed_again(sergey):
    _draft(0)
    _draft(1)
    notification_mark_read(notification=Notification.objects.get(recipient=sergey))
    for n in range(2, 7):
        _draft(n)
    unread = Notification.objects.get(recipient=sergey, read_at__isnull=True)
    assert (unread.count, unread.subject) == (5, "5 решений по результатам испытаний направлено на подпись")
    assert Notification.objects.filter(recipient=sergey).count() == 2
    assert len([m for m in mail.outbox if m.to == [sergey.email]]) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_messages_of_a_kind_gathered_at_once_are_one_that_counts_eight():
    from django.db import transaction

    signatory = make_user("sign@mintrud.test", last="Подписнова", first="Инна", roles=("signatory",))

    def gather() -> None:
        with transaction.atomic():
            notification_gather(
                recipient=signatory,
                key="attestation_decisions_to_sign",
                subject=lambda count: f"Ждут подписи: {count}",
                body="—",
            )

    _results, errors = run_concurrently(*[gather for _ in range(8)])
    assert not errors, errors
    (note,) = Notification.objects.filter(recipient=signatory)
    assert (note.count, note.subject) == (8, "Ждут подписи: 8")
