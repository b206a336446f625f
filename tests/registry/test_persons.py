"""One person across their applications (p.58 and one case at a time): an applicant on paper
without an account is the same person in every application that gives the same identity document
and name, and an account holder's paper applications of that identity are theirs."""

import pytest
from django.test import TestCase
from django.utils import timezone

from core.errors import DomainError
from exam.admission import services
from exam.models import Application, Attachment
from registry.models import AttestationDecision
from registry.services import attestation_decision_draft, attestation_decision_sign
from tests.conftest import (
    cleaned,
    complete_payload,
    make_sitting,
    open_sitting,
    pass_the_test,
    registered_application,
)


def _paper(rita, **entries):
    return services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email="", **entries)),
        paper_documents=list(Attachment.Kind.values),
    )


def _admit_and_test(application, victor, sergey, eva, *, correct, days_ahead):
    sitting = make_sitting(eva, days_ahead=days_ahead)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=sergey)
    open_sitting(sitting)
    application.refresh_from_db()
    attempt = pass_the_test(application.exam_credential, correct=correct)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_draft(attempt=attempt)
    return attempt


def test_two_paper_applications_with_one_identity_are_one_person_and_the_last_test_decides(
    exam_setup, rita, victor, sergey, eva
):
    first = _paper(rita, last_name="Семёнова", first_name="Софья", id_document_number="45 10 654321")
    assert first.person_key.startswith("doc:")
    _admit_and_test(first, victor, sergey, eva, correct=40, days_ahead=2)
    attested = AttestationDecision.objects.get(application=first)
    assert attested.kind == "attested"

    # The same passport written differently, the name in another case and with "ё".
    second = _paper(rita, id_document_number="4510 №654321", last_name="СЕМЕНОВА", first_name="софья")
    assert second.person_key == first.person_key
    _admit_and_test(second, victor, sergey, eva, correct=10, days_ahead=3)

    attested.refresh_from_db()
    assert attested.superseded
    with pytest.raises(DomainError) as refused:
        attestation_decision_sign(decision=attested, by=sergey)
    assert refused.value.code == "superseded"
    assert list(AttestationDecision.objects.filter(superseded=False).values_list("application", "kind")) == [
        (second.pk, "refused")
    ]


def test_a_second_paper_application_while_the_first_is_under_review_is_refused(rita):
    first = _paper(rita)
    with pytest.raises(DomainError) as refused:
        _paper(rita, id_document_number="45-10-123456")
    assert refused.value.code == "application_in_progress" and first.registration_number in refused.value.message
    assert Application.objects.count() == 1


def test_the_same_document_number_with_another_name_is_another_person(rita):
    first = _paper(rita)
    other = _paper(rita, last_name="Борисова", first_name="Белла")
    assert other.status == "registered" and other.person_key != first.person_key


def test_a_paper_application_of_an_account_holders_identity_is_theirs(rita, alice):
    own = registered_application(alice)
    with pytest.raises(DomainError) as refused:
        _paper(rita)  # no e-mail given: found by the passport and the name
    assert refused.value.code == "application_in_progress" and own.registration_number in refused.value.message


def test_an_account_holders_application_takes_in_their_earlier_paper_ones(exam_setup, rita, victor, sergey, eva):
    from exam.models import Attempt

    paper = _paper(rita, last_name="Петрова", first_name="Полина", id_document_number="4600 000001")
    passed = _admit_and_test(paper, victor, sergey, eva, correct=40, days_ahead=2)
    from tests.conftest import fill_application, make_user, sign_and_submit

    polina = make_user("polina@example.ru", last="Петрова", first="Полина")
    draft = services.application_start(candidate=polina)
    fill_application(
        draft,
        polina,
        complete_payload(
            last_name="Петрова", first_name="Полина", id_document_number="4600 000001", email="polina@example.ru"
        ),
    )
    sign_and_submit(draft, polina)
    paper.refresh_from_db()
    assert paper.person_key == f"user:{polina.pk}"
    # The attested decision of the paper application is now the account holder's: the next test
    # (or the sweeper) judges it against their last result.
    assert Attempt.objects.filter(application__person_key=f"user:{polina.pk}").get() == passed


def test_the_migration_joins_paper_applicants_to_account_holders_of_the_same_identity(rita, alice):
    from importlib import import_module

    from django.apps import apps

    own = registered_application(alice)
    Application.objects.filter(pk=own.pk).update(status="admitted")
    paper = _paper(rita)
    lone = _paper(rita, last_name="Одинокова", first_name="Ольга", id_document_number="4700 000002")
    Application.objects.update(person_key="", identity_key="")
    import_module("exam.migrations.0010_application_person_key").fill(apps, None)
    keys = dict(Application.objects.values_list("pk", "person_key"))
    assert keys[own.pk] == keys[paper.pk] == f"user:{alice.pk}"
    assert keys[lone.pk].startswith("doc:")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_paper_applications_of_one_identity_registered_at_once_give_one_case():
    from tests.conftest import ensure_reference_lists, make_user, run_concurrently

    ensure_reference_lists()
    rita = make_user("rita@mintrud.test", last="Регистрова", first="Рита", roles=("registrar",))
    _results, errors = run_concurrently(*[lambda: _paper(rita) for _ in range(8)])
    assert Application.objects.filter(status="registered").count() == 1
    assert len(errors) == 7 and all(getattr(e, "code", "") == "application_in_progress" for e in errors), errors
