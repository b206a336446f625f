"""Layout a user sees (issue 13): the application form's long entries read whole at a phone's and a
desktop's width; the certificate issue form's checkboxes beside their labels; the bank's topics table
inside its card; the report's bar values and axes shown without hovering."""

import pytest
from django.test import TestCase
from playwright.sync_api import expect

from exam.admission import services
from registry.services import attestation_decision_draft, attestation_decision_sign
from tests.conftest import fill_application, make_bank, pass_the_test
from tests.e2e.test_admission import sign_in

LONG_NAME = (
    "Федеральное государственное автономное образовательное учреждение высшего образования "
    "«Национальный исследовательский технологический университет «МИСиС»"
)

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", [390, 1280])
def test_a_long_entry_is_read_whole_at_every_width(new_page, alice, width):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    application.higher_education.update(institution=LONG_NAME)
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, alice.email)
    page.goto(f"/cabinet/applications/{application.pk}/edit/")
    field = page.locator("[name='higher_education-0-institution']")
    expect(field).to_have_value(LONG_NAME)
    assert field.evaluate("el => el.scrollHeight <= el.clientHeight + 2 && el.scrollWidth <= el.clientWidth + 2")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # Enter does not put a line break into a one-line field.
    field.press("End")
    field.press("Enter")
    expect(field).to_have_value(LONG_NAME)
    # The primary action is the submission.
    expect(page.locator("#application-form .actions button").first).to_have_text("Сохранить и перейти к подписанию")


def test_the_certificate_issue_form_puts_each_checkbox_beside_its_label(new_page, exam_setup, sergey, olga):
    attempt = pass_the_test(exam_setup["credential"], correct=38)
    decision = attestation_decision_draft(attempt=attempt)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=decision, by=sergey)
    page = new_page()
    sign_in(page, olga.email)
    page.goto(f"/staff/attestation/{decision.pk}/")
    legend = page.locator("#issue-form legend")
    expect(legend).to_have_text("Области деятельности *")
    choices = page.locator("#issue-form label.check")
    assert choices.count() >= 2
    for i in range(choices.count()):
        box = choices.nth(i).locator("input").bounding_box()
        text = choices.nth(i).locator("span").bounding_box()
        assert box["x"] + box["width"] <= text["x"], "the label is beside its checkbox"
        assert text["y"] <= box["y"] + box["height"] / 2 <= text["y"] + text["height"], "on the same line"
    assert legend.bounding_box()["y"] < choices.first.bounding_box()["y"]


def test_the_bank_topics_table_stays_inside_its_card(new_page, eva):
    make_bank()
    page = new_page()
    page.set_viewport_size({"width": 1024, "height": 900})
    sign_in(page, eva.email)
    page.goto("/staff/bank/")
    card = page.locator("form[action$='/staff/bank/blueprint/']").locator("xpath=..")
    table = card.locator("table")
    assert (
        table.bounding_box()["x"] + table.bounding_box()["width"]
        <= card.bounding_box()["x"] + card.bounding_box()["width"] + 1
    )
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


def test_the_report_shows_bar_values_and_axes_without_hovering(new_page, exam_setup, audrey):
    pass_the_test(exam_setup["credential"], correct=38)
    page = new_page()
    sign_in(page, audrey.email)
    page.goto("/staff/reports/")
    value = page.locator("#score-chart [data-count='38']")
    expect(value).to_have_text("1")
    expect(value).to_be_visible()
    expect(page.locator("#score-chart .y-axis")).to_contain_text("1")
    expect(page.locator("#score-chart figcaption")).to_be_visible()


def test_attaching_a_file_warns_of_unsaved_changes_in_the_form(new_page, alice, tmp_path):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    page = new_page()
    sign_in(page, alice.email)
    page.goto(f"/cabinet/applications/{application.pk}/edit/")
    page.fill("[name='a-phone']", "+7 495 000-00-00")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.set_input_files("#att-file", str(pdf))
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.click("#att-submit")
    assert messages and "не сохранены" in messages[0]
    expect(page.locator("[name='a-phone']")).to_have_value("+7 495 000-00-00")  # still on the page, kept
    assert not application.attachments.exists()
