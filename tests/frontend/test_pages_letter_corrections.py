"""The pages of a corrected letter (p.78(g)): the signatory's «Исправить письмо» on the file and on the
decision on attestation, the editions with their replaced marks, and the cabinet's current edition."""

from django.test import TestCase
from django.urls import reverse

from core.models import LetterEdition
from tests.conftest import client_for, pass_the_test, registered_application
from tests.exam.test_services_notices import decide, pdf_text
from tests.registry.test_services_dispatch import sign

FORM = {
    "last_name": "Алексеева-Петрова",
    "first_name": "Алиса",
    "patronymic": "Петровна",
    "postal_address": "119019, г. Москва, ул. Арбат, д. 1, кв. 1",
    "email": "alice@example.ru",
    "reason": "Фамилия указана неверно.",
    "basis": "request",
    "basis_reference": "",
}


def text(response) -> str:
    return " ".join(pdf_text(b"".join(response.streaming_content)).split()).replace("- ", "-")


def test_the_signatory_corrects_the_letter_from_the_file_and_the_cabinet_shows_the_current_edition(
    alice, victor, sergey
):
    application = registered_application(alice)
    decide(application, victor, sergey)
    url = reverse("frontend:staff_application", args=[application.pk])
    page = client_for(sergey).get(url).content.decode()
    assert "Исправить письмо" in page and 'value="Алексеева"' in page  # filled with what the letter prints
    assert "Исправить письмо" not in client_for(victor).get(url).content.decode()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(sergey).post(
            reverse("frontend:staff_notice_correct", args=[application.pk]), FORM, follow=True
        )
    page = response.content.decode()
    edition = LetterEdition.objects.get()
    assert "Исправленный экземпляр письма подписан" in page
    assert "Экземпляр 2" in page and edition.outgoing_number in page and "«Алексеева» → «Алексеева-Петрова»" in page

    cabinet = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk])).content.decode()
    assert "Скачать исправленный экземпляр (PDF)" in cabinet and "заменён" in cabinet and "действующий" in cabinet
    pdf_url = reverse("frontend:cabinet_notice_pdf", args=[application.pk])
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in text(client_for(alice).get(pdf_url))
    assert "ЗАМЕНЁН" in text(client_for(alice).get(pdf_url, {"edition": 1, "replaced": 1}))
    assert "ЗАМЕНЁН" not in text(client_for(alice).get(pdf_url, {"edition": 1}))  # the letter as it was sent
    assert client_for(alice).get(pdf_url, {"edition": 2, "replaced": 1}).status_code == 404  # still current
    assert client_for(alice).get(pdf_url, {"edition": "x"}).status_code == 404


def test_a_reviewer_cannot_post_a_correction_and_a_refused_one_is_shown_as_an_error(alice, victor, sergey):
    application = registered_application(alice)
    decide(application, victor, sergey)
    action = reverse("frontend:staff_notice_correct", args=[application.pk])
    assert client_for(victor).post(action, FORM).status_code == 404
    unchanged = {**FORM, "last_name": "Алексеева"}
    page = client_for(sergey).post(action, unchanged, follow=True).content.decode()
    assert "сведения совпадают с напечатанными в письме" in page
    assert not LetterEdition.objects.exists()


def test_the_signatory_corrects_the_decision_on_attestation_from_its_page(exam_setup, sergey, olga):
    decision = sign(pass_the_test(exam_setup["credential"], correct=38), sergey)
    url = reverse("frontend:attestation_decision", args=[decision.pk])
    assert "Исправить письмо" in client_for(sergey).get(url).content.decode()
    assert "Исправить письмо" not in client_for(olga).get(url).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        page = (
            client_for(sergey)
            .post(reverse("frontend:attestation_decision_correct", args=[decision.pk]), FORM, follow=True)
            .content.decode()
        )
    assert "Экземпляр 2" in page
    pdf = text(client_for(sergey).get(reverse("frontend:attestation_decision_pdf", args=[decision.pk])))
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in pdf and "Алексеева-Петрова" in pdf
