"""The exam room's page and the practice quiz as a screen reader and a phone get them: the options
grouped under the question, the instruction to choose all the right answers said once, the public
menu hidden during the test, the timer's words at milestones only."""

import json
import re

from django.urls import reverse

from tests.conftest import bank_question, exam_client

INSTRUCTION = "Выберите все правильные ответы"


def test_a_question_whose_text_ends_with_the_instruction_shows_it_once_in_practice_and_in_the_list(client, db):
    bank_question(
        "P0001",
        topic=1,
        text="Какие права есть у работника? Выберите все правильные ответы.",
        options=["Право А", "Право Б", "Право В"],
        correct=[0, 1],
        practice=True,
    )
    bank_question(
        "Q0001", topic=1, text="Кто платит? (выберите все правильные ответы)", options=["А", "Б", "В"], correct=[0, 2]
    )
    practice = client.get(reverse("frontend:practice")).content.decode()
    assert practice.lower().count(INSTRUCTION.lower()) == 1
    # The options are a group named by the question.
    assert re.search(
        r"<fieldset[^>]*>\s*<input[^>]*>\s*<legend><b>1\. Какие права есть у работника\?</b></legend>", practice
    )
    listing = client.get(reverse("frontend:public_questions")).content.decode()
    assert "Кто платит?</b>" in listing and INSTRUCTION.lower() not in listing.lower()


def test_the_room_hides_the_public_menu_and_speaks_the_time_at_milestones_only(exam_setup):
    credential = exam_setup["credential"]
    client, _password = exam_client(credential, exam_setup["candidate"])
    client.post(reverse("frontend:exam_room"), {"personally": "on"})
    page = client.get(reverse("frontend:exam_room")).content.decode()
    for link in (reverse("frontend:login"), reverse("frontend:register"), reverse("frontend:registry")):
        assert f'href="{link}"' not in page
    assert 'href="#question"' in page  # the skip link leads to the question
    timer = re.search(r'<div class="timer"[^>]*>', page)
    assert timer and "aria-live" not in timer.group(0)
    assert re.search(r'id="timer-announce"[^>]*aria-live="polite"', page)
    strings = json.loads(re.search(r'<script id="exam-i18n" type="application/json">(.*?)</script>', page).group(1))
    assert strings["milestones"]["35"] == "Осталось 35 минут" and strings["milestones"]["1"] == "Осталась 1 минута"
    assert sorted(map(int, strings["milestones"])) == [1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 35]
