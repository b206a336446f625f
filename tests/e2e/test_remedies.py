"""The remedies of an upheld complaint in a real browser (p.88-89): a refusal of admission cancelled
on a complaint returns the file to review, and it is admitted (drafted by a reviewer, signed by
another official)."""

from typing import Any

from django.test import TestCase
from playwright.sync_api import Page, expect

from appeals import services as appeals
from appeals.models import Complaint
from exam.admission import services
from exam.models import Application, Decision
from tests.conftest import certify, complaint_data, pass_the_test, registered_application
from tests.e2e.test_admission import sign_in


def upheld_on_page(
    new_page: Any, alice: Any, hanna: Any, *, subject: str, complained: str, remedy: str, text: str
) -> tuple[Complaint, Page]:
    """Alice's complaint, upheld with ``remedy`` by the deputy minister on its page, which stays open."""
    complaint = appeals.complaint_file(
        data=complaint_data(subject=subject, decision_complained=complained), channel="portal", complainant=alice
    )
    handler = new_page()
    sign_in(handler, hanna.email)
    handler.goto(f"/staff/complaints/{complaint.pk}/")
    handler.check("#decide input[value=uphold]")
    handler.select_option("#decide select[name=remedy]", remedy)
    handler.fill("#decide textarea[name=text]", text)
    handler.click("#decide button[type=submit]")
    expect(handler.locator(".alert.success")).to_contain_text("Решение по жалобе принято")
    return complaint, handler


def test_a_refusal_of_admission_cancelled_on_complaint_returns_to_review_and_is_admitted(
    new_page, alice, victor, vera, sergey, hanna, sitting
):
    # Every criterion is met, yet the file was refused on p.21(b): a ground the documents do not bear.
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    refusal = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["b"], explanation="Копии не заверены."
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=refusal, by=sergey)

    # The deputy minister upholds the complaint with the cancellation, then carries it out.
    _complaint, handler = upheld_on_page(
        new_page,
        alice,
        hanna,
        subject="e",
        complained="Отказ в аттестационном испытании",
        remedy="cancel_admission_refusal",
        text="Заверение копий Регламентом не требуется (п. 78 «д»).",
    )
    expect(handler.locator("#remedy")).to_contain_text("Отмена отказа в аттестационном испытании")
    expect(handler.locator("#remedy-target")).to_contain_text(application.registration_number)
    expect(handler.locator("#remedy-target [data-status]")).to_have_text("Отказано в аттестационном испытании")
    handler.check("#remedy-carry-out input[name=confirm]")
    handler.click("#remedy-carry-out button[type=submit]")
    expect(handler.locator(".alert.success")).to_contain_text("Мера по жалобе исполнена")
    expect(handler.locator("[data-remedy-done]")).to_be_visible()
    expect(handler.locator("#remedy-target [data-status]")).to_have_text("Зарегистрировано")

    # Another reviewer takes the file from the pool and drafts the admission.
    reviewer = new_page()
    sign_in(reviewer, vera.email)
    reviewer.click("nav >> text=Рассмотрение")
    reviewer.click(f"text={application.registration_number}")
    reviewer.click("text=Взять на рассмотрение")
    reviewer.check("#decision-form input[value=admission]")
    reviewer.select_option("#sitting", str(sitting.pk))
    reviewer.click("text=Направить на подпись")
    expect(reviewer.locator(".alert.success")).to_contain_text("направлен на подпись")

    # A signatory who did not draft it signs.
    signatory = new_page()
    sign_in(signatory, sergey.email)
    signatory.goto(f"/staff/applications/{application.pk}/")
    signatory.once("dialog", lambda dialog: dialog.accept())
    signatory.click("#decisions button:has-text('Подписать')")
    expect(signatory.locator(".alert.success")).to_contain_text("Решение подписано")

    application.refresh_from_db()
    refusal.refresh_from_db()
    assert application.status == Application.Status.ADMITTED
    assert refusal.state == Decision.State.CANCELLED
    page = new_page()
    sign_in(page, alice.email)
    page.goto(f"/cabinet/applications/{application.pk}/")
    expect(page.locator("main")).to_contain_text("Допущен к аттестационному испытанию")


def test_a_certificate_corrected_on_a_complaint_of_subject_g_the_registry_entry_shows_the_corrected_name(
    new_page, exam_setup, alice, sergey, olga, hanna
):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=38), sergey, olga)
    # The deputy minister upholds the complaint: errors to correct within 5 working days (p.87, p.89).
    complaint, handler = upheld_on_page(
        new_page,
        alice,
        hanna,
        subject="g",
        complained="Фамилия в сертификате указана с ошибкой",
        remedy="correct_errors",
        text="Фамилия эксперта в сертификате указана неверно (п. 78 «ж»).",
    )
    expect(handler.locator("#remedy-carry-out")).to_have_count(0)  # not the handler's to correct

    # The certificate officer corrects the certificate from the complaint, filled with what it reads.
    officer = new_page()
    sign_in(officer, olga.email)
    officer.goto(f"/staff/complaints/{complaint.pk}/")
    form = officer.locator("#remedy-carry-out [data-correct-document=certificate]")
    expect(form.locator("input[name=last_name]")).to_have_value("Алексеева")
    form.locator("input[name=last_name]").fill("Алексеева-Смирнова")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(officer.locator(".alert.success")).to_contain_text("Мера по жалобе исполнена")
    expect(officer.locator("[data-remedy-done]")).to_be_visible()

    # The registry entry shows the corrected name; the history says a corrected edition was issued.
    public = new_page()
    public.goto(f"/registry/certificates/{certificate.number}/")
    expect(public.locator("[data-name]")).to_have_text("Алексеева-Смирнова Алиса Петровна")
    expect(public.locator("[data-history=corrected]")).to_contain_text("Выдан исправленный экземпляр")
    edition = certificate.editions.get(kind="corrected")
    assert edition.basis == "complaint" and complaint.number in edition.basis_reference

    # The record the QR code leads to is signed again and valid; the first edition is marked replaced.
    public.goto(certificate.public_url())
    expect(public.locator("#verdict")).to_have_attribute("data-status", "valid")
    expect(public.locator("main")).to_contain_text("Алексеева-Смирнова")
    officer.goto(f"/staff/certificates/{certificate.pk}/")
    expect(officer.locator("#editions [data-edition='1'][data-replaced]")).to_contain_text("заменён")
    expect(officer.locator("#editions [data-edition='2']")).to_contain_text("действующий")
