"""Concurrency on PostgreSQL: simultaneous submissions get distinct, consecutive numbers."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection

from exam import services
from exam.models import Application
from tests.conftest import fill_application, make_user

N = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_submissions_get_fifty_consecutive_numbers(settings):
    settings.APPLICATION_NUMBER_FORMAT = "{year}-{seq:05d}"
    prepared = []
    for i in range(N):
        candidate = make_user(f"c{i}@example.ru", last="Кандидатов", first="Кирилл")
        application = services.application_start(candidate=candidate)
        fill_application(application, candidate)
        mail.outbox.clear()
        services.signature_request(application=application, by=candidate)
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        prepared.append((application, candidate, code))

    barrier = threading.Barrier(N)
    errors: list[BaseException] = []

    def submit(application, candidate, code):
        try:
            barrier.wait(timeout=30)
            services.application_submit(application=application, by=candidate, code=code)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=item) for item in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    numbers = list(Application.objects.values_list("registration_number", flat=True))
    assert len(numbers) == N and all(numbers)
    sequence = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequence == list(range(1, N + 1))
