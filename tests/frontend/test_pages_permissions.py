"""The staff pages offer an action exactly when its service would accept it: every flag a page shows
a button by is a predicate beside the service, and each test here runs the service for every user
the predicate answers for and fails if the two disagree."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from appeals import services as appeals_services
from core.errors import DomainError
from core.models import User
from exam.admission import services
from exam.models import Attachment, Decision, Sitting
from registry import services as registry_services
from registry.models import AnnulmentReason, AreaOfActivity
from tests.conftest import (
    cleaned,
    client_for,
    complaint_data,
    complete_payload,
    make_user,
    pass_the_test,
    registered_application,
)

POSITION = "Заместитель Министра труда и социальной защиты Российской Федерации"


class _Accepted(Exception):
    """Rolls the trial run of a service back after it succeeded."""


def accepts(action: Callable[[], object]) -> bool:
    """Whether the service accepts the action; nothing it writes stays."""
    trial = transaction.atomic()
    # Django lets a durable block nest only in the test case's own atomic blocks: this trial run is
    # one of those (rolled back like the test), so the services' durable blocks run as in production.
    trial._from_testcase = True  # type: ignore[attr-defined]
    try:
        with trial:
            action()
            raise _Accepted
    except _Accepted:
        return True
    except DomainError:
        return False


def assert_agree(predicate: Callable[[Any], bool], service: Callable[[Any], object], users: list[Any]) -> None:
    answers = {user.email: (predicate(user), accepts(lambda user=user: service(user))) for user in users}
    assert all(offered == accepted for offered, accepted in answers.values()), answers


def director(email: str = "dina@mintrud.test") -> Any:
    """A signatory who is the director of the Department: signs admission notices, not refusal letters."""
    return make_user(email, last="Директорова", first="Дина", roles=("signatory",), position=User.Position.DIRECTOR)


def test_review_predicates_agree_with_take_draft_sign_and_return(alice, victor, vera, sergey, double, rita):
    dina = director()
    application = registered_application(alice)
    everyone = [victor, vera, sergey, double, rita, dina]
    assert_agree(
        lambda u: services.application_can_take(application=application, user=u),
        lambda u: services.application_start_review(application=application, by=u),
        everyone,
    )
    services.application_start_review(application=application, by=double)
    application.refresh_from_db()
    assert not services.application_can_take(application=application, user=victor)

    def draft(u: Any) -> Decision:
        return services.decision_draft(
            application=application, by=u, kind="refusal", grounds=["a_training"], explanation="71 час."
        )

    assert_agree(lambda u: services.application_can_draft(application=application, user=u), draft, everyone)
    programme = application.additional_education.get()

    def correct(u: Any) -> object:
        return services.entry_correct(
            application=application, entry=programme, field="assessment_hours", value=80, reason="Документ", by=u
        )

    assert_agree(lambda u: services.entry_can_correct(application=application, user=u), correct, everyone)
    decision = draft(double)
    application.refresh_from_db()
    assert_agree(lambda u: services.entry_can_correct(application=application, user=u), correct, everyone)
    assert_agree(
        lambda u: services.decision_can_sign(decision=decision, user=u),
        lambda u: services.decision_sign(decision=decision, by=u),
        everyone,
    )
    assert services.decision_can_sign(decision=decision, user=sergey)
    assert not services.decision_can_sign(decision=decision, user=dina)  # a refusal letter: a deputy (p.50)
    assert_agree(
        lambda u: services.decision_can_return(decision=decision, user=u),
        lambda u: services.decision_return(decision=decision, by=u, reason="Уточнить основание."),
        everyone,
    )


def test_an_admission_whose_sitting_has_begun_is_offered_for_return_not_for_signing(alice, victor, sergey, sitting):
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    Sitting.objects.filter(pk=sitting.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    decision.refresh_from_db()
    assert not services.decision_can_sign(decision=decision, user=sergey)
    assert not accepts(lambda: services.decision_sign(decision=decision, by=sergey))
    page = client_for(sergey).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert reverse("frontend:staff_decision_sign", args=[decision.pk]) not in page
    assert reverse("frontend:staff_decision_return", args=[decision.pk]) in page


def test_a_director_sees_no_sign_button_on_a_refusal_letter_but_may_return_it(alice, victor):
    dina = director()
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    page = client_for(dina).get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert reverse("frontend:staff_decision_sign", args=[decision.pk]) not in page
    assert reverse("frontend:staff_decision_return", args=[decision.pk]) in page
    with_deputy = client_for(make_user("deputy@mintrud.test", last="Замов", first="Захар", roles=("signatory",)))
    page = with_deputy.get(reverse("frontend:staff_application", args=[application.pk])).content.decode()
    assert reverse("frontend:staff_decision_sign", args=[decision.pk]) in page


def test_notice_predicates_agree_with_the_password_and_the_paper_dispatch(alice, rita, victor, sergey, sitting):
    paper = services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email="", last_name="Бумагина", id_document_number="45 11 654321")),
        paper_documents=list(Attachment.Kind.values),
    )
    portal = registered_application(alice)
    for application in (paper, portal):
        services.application_start_review(application=application, by=victor)
        decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.decision_sign(decision=decision, by=sergey)
        application.refresh_from_db()
        assert_agree(
            lambda u, application=application: services.exam_password_can_issue(application=application, user=u),
            lambda u, application=application: services.exam_password_issue(
                credential=application.exam_credential, by=u
            ),
            [rita, victor, sergey],
        )
    assert services.exam_password_can_issue(application=paper, user=rita)
    assert not services.exam_password_can_issue(application=portal, user=rita)
    notice = paper.notices.get()
    assert_agree(
        lambda u: services.notice_can_dispatch(notice=notice, user=u),
        lambda u: services.notice_dispatch(notice=notice, by=u, channel="in_person", reference="Вручено лично"),
        [rita, victor, sergey],
    )
    services.notice_dispatch(notice=notice, by=rita, channel="in_person", reference="Вручено лично")
    notice.refresh_from_db()
    assert not services.notice_can_dispatch(notice=notice, user=rita)


def test_registry_predicates_agree_with_signing_issuing_dispatching_and_confirming(exam_setup, sergey, olga, rita):
    attempt = pass_the_test(exam_setup["credential"])
    decision = registry_services.attestation_decision_draft(attempt=attempt)
    staff = [sergey, olga, rita]
    assert_agree(
        lambda u: registry_services.attestation_decision_can_sign(decision=decision, user=u),
        lambda u: registry_services.attestation_decision_sign(decision=decision, by=u),
        staff,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        registry_services.attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    assert not registry_services.attestation_decision_can_sign(decision=decision, user=sergey)
    areas = list(AreaOfActivity.objects.filter(code__in=["01"]))
    assert_agree(
        lambda u: registry_services.certificate_can_issue(decision=decision, user=u),
        lambda u: registry_services.certificate_issue(decision=decision, by=u, areas=areas),
        staff,
    )
    assert_agree(
        lambda u: registry_services.attestation_decision_can_dispatch(decision=decision, user=u),
        lambda u: registry_services.attestation_decision_dispatch(
            decision=decision, by=u, channel="in_person", reference="Вручено лично"
        ),
        staff,
    )


def test_the_annulment_predicate_agrees_with_confirming(certificate, sergey, olga, rita):
    both = make_user("both@mintrud.test", last="Обоев", first="Борис", roles=("certificate_officer", "signatory"))
    annulment = registry_services.annulment_request(
        certificate=certificate, by=both, reason=AnnulmentReason.objects.filter(active=True).first(), basis="Суд"
    )
    assert_agree(
        lambda u: registry_services.annulment_can_confirm(annulment=annulment, user=u),
        lambda u: registry_services.annulment_confirm(annulment=annulment, by=u),
        [sergey, olga, rita, both],
    )
    assert registry_services.annulment_can_confirm(annulment=annulment, user=sergey)
    assert not registry_services.annulment_can_confirm(annulment=annulment, user=both)  # not who asked


def test_complaint_predicates_agree_with_deciding_dispatching_and_the_remedy(rita, hanna, olga, victor):
    complaint = appeals_services.complaint_file(
        data=complaint_data(email=""), channel="mail", registered_by=rita, received_at=timezone.now()
    )
    staff = [rita, hanna, olga, victor]

    def decide(u: Any) -> object:
        return appeals_services.complaint_decide(
            complaint=complaint,
            by=u,
            outcome="uphold",
            remedy="other",
            text="Доводы подтвердились.",
            handler_position=POSITION,
        )

    assert_agree(lambda u: appeals_services.complaint_can_decide(complaint=complaint, user=u), decide, staff)
    assert_agree(
        lambda u: appeals_services.complaint_answer_can_dispatch(complaint=complaint, user=u),
        lambda u: appeals_services.complaint_answer_dispatch(complaint=complaint, by=u, channel="post", reference="1"),
        staff,
    )
    assert_agree(
        lambda u: appeals_services.complaint_can_record_remedy(complaint=complaint, user=u),
        lambda u: appeals_services.complaint_remedy_done(complaint=complaint, by=u, note="Проверка проведена"),
        staff,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        decide(hanna)
    complaint.refresh_from_db()
    assert not appeals_services.complaint_can_decide(complaint=complaint, user=hanna)
    assert_agree(
        lambda u: appeals_services.complaint_answer_can_dispatch(complaint=complaint, user=u),
        lambda u: appeals_services.complaint_answer_dispatch(
            complaint=complaint, by=u, channel="post", reference="РПО 12712345678901"
        ),
        staff,
    )
    assert_agree(
        lambda u: appeals_services.complaint_can_record_remedy(complaint=complaint, user=u),
        lambda u: appeals_services.complaint_remedy_done(complaint=complaint, by=u, note="Проверка проведена"),
        staff,
    )
    assert appeals_services.complaint_can_record_remedy(complaint=complaint, user=olga)


def uphold(complaint: Any, hanna: Any, *, remedy: str) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        appeals_services.complaint_decide(
            complaint=complaint,
            by=hanna,
            outcome="uphold",
            remedy=remedy,
            text="Доводы жалобы подтвердились.",
            handler_position=POSITION,
        )
    complaint.refresh_from_db()


def test_the_remedy_predicate_agrees_with_carrying_it_out(alice, victor, sergey, rita, hanna, olga):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = registered_application(alice, payload)
    services.application_start_review(application=application, by=victor)
    refusal = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    services.decision_sign(decision=refusal, by=sergey)
    complaint = appeals_services.complaint_file(data=complaint_data(subject="e"), channel="portal", complainant=alice)
    staff = [rita, hanna, olga, victor]

    def carry_out(u: Any) -> object:
        return appeals_services.complaint_remedy_carry_out(complaint=complaint, by=u)

    assert_agree(
        lambda u: appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=u), carry_out, staff
    )
    uphold(complaint, hanna, remedy="cancel_admission_refusal")
    assert_agree(
        lambda u: appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=u), carry_out, staff
    )
    assert appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=hanna)
    carry_out(hanna)
    complaint.refresh_from_db()
    assert_agree(
        lambda u: appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=u), carry_out, staff
    )
    assert not appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=hanna)


def test_appeal_predicates_agree_with_opening_voting_and_deciding(exam_setup, sergey, alice, commission, victor):
    attempt = pass_the_test(exam_setup["credential"], correct=35)
    decision = registry_services.attestation_decision_draft(attempt=attempt)
    registry_services.attestation_decision_sign(decision=decision, by=sergey)
    appeal = appeals_services.appeal_file(candidate=alice, attempt=attempt, reasons="Доводы.")
    chair_only = make_user("chairman@mintrud.test", last="Главов", first="Глеб", roles=("appeals_chair",))
    people = [*commission, chair_only, victor]
    assert_agree(
        lambda u: appeals_services.appeal_can_open(appeal=appeal, user=u),
        lambda u: appeals_services.appeal_open(appeal=appeal, by=u),
        people,
    )
    page = client_for(chair_only).get(reverse("frontend:appeal_staff", args=[appeal.pk])).content.decode()
    assert reverse("frontend:appeal_action", args=[appeal.pk, "open"]) not in page  # the service wants a member
    appeals_services.appeal_open(appeal=appeal, by=commission[1])
    appeal.refresh_from_db()
    appeals_services.appeal_vote(appeal=appeal, member=commission[1], outcome="reject", opinion="Нет оснований.")
    assert_agree(
        lambda u: appeals_services.appeal_can_vote(appeal=appeal, user=u),
        lambda u: appeals_services.appeal_vote(appeal=appeal, member=u, outcome="reject"),
        people,
    )
    assert not appeals_services.appeal_can_vote(appeal=appeal, user=commission[1])  # voted already
    assert appeals_services.appeal_can_vote(appeal=appeal, user=chair_only)
    for member in (commission[0], commission[2]):
        appeals_services.appeal_vote(appeal=appeal, member=member, outcome="reject")
    assert_agree(
        lambda u: appeals_services.appeal_can_decide(appeal=appeal, user=u),
        lambda u: appeals_services.appeal_decide(appeal=appeal, by=u, reasons="Доводы не подтвердились."),
        people,
    )


def test_the_return_of_originals_is_offered_exactly_when_the_registrar_may_record_it(rita, victor, sergey):
    paper = services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email="")),
        paper_documents=list(Attachment.Kind.values),
    )
    services.application_start_review(application=paper, by=victor)
    decision = services.decision_draft(
        application=paper, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    originals = paper.originals_return

    def record(u: Any) -> object:
        return services.originals_return_record(originals_return=originals, by=u, channel="in_person", reference="")

    assert_agree(
        lambda u: services.originals_return_can_record(originals_return=originals, user=u),
        record,
        [rita, victor, sergey],
    )
    record(rita)
    originals.refresh_from_db()
    assert not services.originals_return_can_record(originals_return=originals, user=rita)


def test_letter_correction_predicates_agree_with_correcting_and_the_paper_dispatch(
    exam_setup, alice, rita, victor, sergey, olga
):
    from core.letters import letter_edition_can_dispatch, letter_edition_dispatch
    from core.models import LetterEdition

    dina = director()
    # An admission notice: the director may sign it too (p.49).
    notice = services.notice_issue(decision=Decision.objects.get(application__candidate=alice))
    assert notice.dispatched_at is not None

    def correct_notice(u: Any) -> object:
        return services.notice_correct(
            notice=notice, by=u, changes={"first_name": "Алиса-Мария"}, reason="Опечатка.", basis="own_finding"
        )

    staff = [rita, victor, sergey, olga, dina]
    assert_agree(lambda u: services.notice_can_correct(notice=notice, user=u), correct_notice, staff)
    assert services.notice_can_correct(notice=notice, user=dina)
    with TestCase.captureOnCommitCallbacks(execute=True):
        decision = registry_services.attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"]))
        registry_services.attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    assert_agree(
        lambda u: registry_services.attestation_decision_can_correct(decision=decision, user=u),
        lambda u: registry_services.attestation_decision_correct(
            decision=decision, by=u, changes={"first_name": "Алиса-Мария"}, reason="Опечатка.", basis="own_finding"
        ),
        staff,
    )
    edition = correct_notice(sergey)
    assert isinstance(edition, LetterEdition)
    LetterEdition.objects.filter(pk=edition.pk).update(dispatched_at=None)  # as for an addressee on paper
    edition.refresh_from_db()
    assert_agree(
        lambda u: letter_edition_can_dispatch(edition=edition, user=u),
        lambda u: letter_edition_dispatch(edition=edition, by=u, channel="in_person", reference=""),
        staff,
    )


def test_the_correction_remedy_predicate_agrees_with_correcting_on_the_complaint(
    certificate, alice, rita, hanna, olga, sergey, victor
):
    complaint = appeals_services.complaint_file(data=complaint_data(subject="g"), channel="portal", complainant=alice)
    uphold(complaint, hanna, remedy="correct_errors")
    dina = director()  # signs admission notices, not the decision on attestation
    staff = [rita, hanna, olga, sergey, victor, dina]

    def carry_out(u: Any) -> object:
        """Accepted when any document of the case is corrected by this user."""
        for document in appeals_services.CorrectedDocument.values:
            correction = appeals_services.ErrorCorrection(document=document, changes={"last_name": "Алексеева-Петрова"})
            try:
                return appeals_services.complaint_remedy_carry_out(complaint=complaint, by=u, correction=correction)
            except DomainError:
                continue
        raise DomainError("Ни один документ не исправлен.")

    assert_agree(
        lambda u: appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=u), carry_out, staff
    )
    assert appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=olga)
    assert appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=sergey)
    assert set(appeals_services.complaint_correctable_documents(complaint=complaint, user=olga)) == {"certificate"}
    url = reverse("frontend:complaint_staff", args=[complaint.pk])
    for user in staff:
        page = client_for(user).get(url)
        offered = page.status_code == 200 and 'id="remedy-carry-out"' in page.content.decode()
        assert offered == appeals_services.complaint_can_carry_out_remedy(complaint=complaint, user=user), user.email


def test_with_signatures_required_the_pages_offer_signing_only_to_officials_with_a_certificate(
    settings, pki, trusted, exam_setup, sergey, stepan, olga, rita, hanna
):
    """QES_SIGNING_REQUIRED: the predicates refuse an official whose qualified certificate is not
    configured exactly when the signing services do (core.qes.documents.signing_refusal)."""
    from core.qes.services import signing_certificate_add

    settings.QES_SIGNING_REQUIRED = True
    signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    decision = registry_services.attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"]))
    assert_agree(
        lambda u: registry_services.attestation_decision_can_sign(decision=decision, user=u),
        lambda u: registry_services.attestation_decision_sign(decision=decision, by=u),
        [sergey, stepan, rita],
    )
    assert registry_services.attestation_decision_can_sign(decision=decision, user=sergey)
    assert not registry_services.attestation_decision_can_sign(decision=decision, user=stepan)
    with TestCase.captureOnCommitCallbacks(execute=True):
        registry_services.attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    areas = list(AreaOfActivity.objects.filter(code__in=["01"]))
    assert not registry_services.certificate_can_issue(decision=decision, user=olga)
    assert not accepts(lambda: registry_services.certificate_issue(decision=decision, by=olga, areas=areas))
    complaint = appeals_services.complaint_file(
        data=complaint_data(email=""), channel="mail", registered_by=rita, received_at=timezone.now()
    )
    assert not appeals_services.complaint_can_decide(complaint=complaint, user=hanna)
    assert not accepts(
        lambda: appeals_services.complaint_decide(
            complaint=complaint,
            by=hanna,
            outcome="refuse",
            refusal_ground="unfounded",
            text="Нет.",
            handler_position=POSITION,
        )
    )
