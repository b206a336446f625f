"""WebSockets of the test: the candidate's clock and "time is up"; the sitting monitor."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from exam.testing.consumers import AttemptConsumer, SittingMonitorConsumer
from exam.testing.services import attempts as service
from exam.testing.session import CREDENTIAL_KEY, SESSION_KEY


def exam_session(credential, key):
    session = SessionStore()
    session[CREDENTIAL_KEY] = credential.pk
    session[SESSION_KEY] = key
    session.save()
    return SessionStore(session_key=session.session_key)


@pytest.mark.django_db(transaction=True)
def test_the_room_gets_the_clock_extra_time_and_the_end(exam_setup, eva):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)

    async def scenario():
        room = WebsocketCommunicator(AttemptConsumer.as_asgi(), "/ws/exam/attempt/")
        room.scope["session"] = await database_sync_to_async(exam_session)(exam_setup["credential"], "k")
        assert (await room.connect())[0]
        clock = await room.receive_json_from(timeout=5)
        assert clock["type"] == "clock" and clock["deadline"] == attempt.deadline_at.isoformat()
        lost = await database_sync_to_async(service.attempt_interruption_record)(
            attempt=attempt,
            by=eva,
            cause="service_failure",
            started_at=attempt.started_at,
            ended_at=attempt.started_at + timedelta(minutes=1),
            reason="Сбой сервера тестирования",
        )
        await database_sync_to_async(service.attempt_grant_extra_time)(
            attempt=attempt, by=eva, interruption=lost, minutes=1
        )
        clock = await room.receive_json_from(timeout=5)
        assert clock["type"] == "clock" and clock["deadline"] > attempt.deadline_at.isoformat()
        await room.send_json_to({"type": "sync"})
        assert (await room.receive_json_from(timeout=5))["type"] == "clock"
        await database_sync_to_async(service.attempt_submit)(attempt=attempt, session_key="k")
        finished = await room.receive_json_from(timeout=5)
        assert finished == {"type": "finished", "score": 0, "passed": False}
        await room.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_old_session_is_told_it_was_taken_over(exam_setup):
    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="old", personally=True)

    async def scenario():
        room = WebsocketCommunicator(AttemptConsumer.as_asgi(), "/ws/exam/attempt/")
        room.scope["session"] = await database_sync_to_async(exam_session)(exam_setup["credential"], "old")
        assert (await room.connect())[0]
        await room.receive_json_from(timeout=5)
        await database_sync_to_async(service.attempt_claim)(
            attempt=attempt, session_key="new", ip="10.0.0.9", user_agent="x"
        )
        assert await room.receive_json_from(timeout=5) == {"type": "taken_over"}
        await room.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_socket_without_the_exam_session_is_refused(exam_setup):
    async def scenario():
        room = WebsocketCommunicator(AttemptConsumer.as_asgi(), "/ws/exam/attempt/")
        room.scope["session"] = SessionStore()
        connected, code = await room.connect()
        assert not connected and code == 4401

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_monitor_shows_who_is_in_the_sitting_to_the_exam_administrator_only(exam_setup, eva, victor):
    from channels.routing import URLRouter
    from django.urls import path

    attempt = service.attempt_start(credential=exam_setup["credential"], session_key="k", personally=True)
    service.attempt_save_answer(attempt_id=attempt.pk, session_key="k", position=1, answer=[0], flagged=None, seq=1)
    app = URLRouter([path("ws/exam/monitor/<int:sitting_id>/", SittingMonitorConsumer.as_asgi())])
    url = f"/ws/exam/monitor/{exam_setup['sitting'].pk}/"

    async def scenario():
        monitor = WebsocketCommunicator(app, url)
        monitor.scope["user"] = eva
        assert (await monitor.connect())[0]
        snapshot = await monitor.receive_json_from(timeout=5)
        row = snapshot["rows"][0]
        assert row["name"] == "Алексеева Алиса Петровна" and row["answered"] == 1 and row["status"] == "in_progress"
        assert 0 < row["remaining_s"] <= 40 * 60
        await monitor.disconnect()
        intruder = WebsocketCommunicator(app, url)
        intruder.scope["user"] = victor
        connected, code = await intruder.connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_monitor_of_an_unknown_sitting_is_refused_before_it_opens(eva):
    from channels.routing import URLRouter
    from django.urls import path

    app = URLRouter([path("ws/exam/monitor/<int:sitting_id>/", SittingMonitorConsumer.as_asgi())])

    async def scenario():
        monitor = WebsocketCommunicator(app, "/ws/exam/monitor/999999/")
        monitor.scope["user"] = eva
        connected, code = await monitor.connect()
        assert not connected and code == 4404

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_monitor_refuses_an_administrator_whose_session_skipped_the_totp_code(exam_setup, eva):
    from channels.routing import URLRouter
    from django.urls import path
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=eva, name="phone", confirmed=True)
    app = URLRouter([path("ws/exam/monitor/<int:sitting_id>/", SittingMonitorConsumer.as_asgi())])
    url = f"/ws/exam/monitor/{exam_setup['sitting'].pk}/"

    def session(verified: bool) -> SessionStore:
        store = SessionStore()
        if verified:
            store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.save()
        return SessionStore(session_key=store.session_key)

    async def scenario():
        for verified, opens in ((False, False), (True, True)):
            monitor = WebsocketCommunicator(app, url)
            monitor.scope["user"] = eva
            monitor.scope["session"] = await database_sync_to_async(session)(verified)
            connected, _ = await monitor.connect()
            assert connected is opens
            if connected:
                await monitor.disconnect()

    async_to_sync(scenario)()
