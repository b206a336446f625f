"""The exam room over a real ASGI server (Daphne): the clock and extra time arrive by WebSocket."""

import os
import re
from datetime import timedelta

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import CHROMIUM, PASSWORD, admit, make_bank, make_sitting, make_user, open_sitting

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium")
class ExamRoomOverWebSocket(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser(self, browser):
        # The session's browser of pytest-playwright: a second sync_playwright() in the same
        # process would fail once the first browser test has started its event loop.
        self.browser = browser

    def test_extra_time_granted_by_the_administrator_reaches_the_open_room_at_once(self):
        from exam.admission.services import exam_password_issue
        from exam.testing.services.bank import blueprint_set

        make_bank()
        blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
        alice = make_user("alice@example.ru", last="Алексеева", first="Алиса")
        reviewer = make_user("rev@mintrud.test", last="Ревьюев", first="Роман", roles=("reviewer",))
        signatory = make_user("sig@mintrud.test", last="Подписнов", first="Павел", roles=("signatory",))
        admin = make_user("eva@mintrud.test", last="Экзаменова", first="Ева", roles=("exam_admin",))
        sitting = make_sitting(admin, days_ahead=1)
        credential = admit(alice, reviewer, signatory, sitting)
        open_sitting(sitting)
        password = exam_password_issue(credential=credential, by=alice)

        # Two people, two contexts (cookies of their own).
        contexts = [
            self.browser.new_context(base_url=self.live_server_url, locale="ru-RU", timezone_id="Europe/Moscow")
            for _ in range(2)
        ]
        try:
            room = contexts[0].new_page()
            room.goto("/exam/")
            room.fill("#exam-login", credential.login)
            room.fill("#exam-password", password)
            room.click("#exam-submit")
            room.check("#personally")
            room.click("#start")
            expect(room.locator("#exam-room")).to_have_attribute("data-ws", "open", timeout=15000)
            minutes = int(room.locator("#timer").inner_text().split(":")[0])
            assert minutes in (39, 40)

            staff = contexts[1].new_page()
            staff.goto("/accounts/login/")
            staff.fill("#id_username", admin.email)
            staff.fill("#id_password", PASSWORD)
            staff.click("form button[type=submit]")
            # p.12(g): extra time restores time lost to a recorded interruption (here the seconds
            # since the start, a minute when rounded up) plus the margin of 2 minutes.
            from exam.models import Attempt
            from exam.testing.services.attempts import attempt_interruption_record

            running = Attempt.objects.get()
            attempt_interruption_record(
                attempt=running,
                by=admin,
                cause="service_failure",
                started_at=running.started_at,
                ended_at=timezone.now(),
                reason="Сервер тестирования не отвечал",
            )
            staff.goto(f"/staff/sittings/{sitting.pk}/monitor/")
            staff.fill("form.extra-time input[name=minutes]", "3")
            staff.click("form.extra-time button[type=submit]")
            expect(staff.locator(".alert.success")).to_contain_text("Время добавлено")
            # Pushed over the WebSocket: no reload, and faster than the 10-second polling.
            expect(room.locator("#timer")).to_have_text(re.compile(r"^(42|43):"), timeout=5000)
        finally:
            for context in contexts:
                context.close()
        attempt = Attempt.objects.get()
        assert attempt.deadline_at - attempt.started_at == timedelta(minutes=43)
        assert attempt.deadline_at > timezone.now()
