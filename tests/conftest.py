"""Named users and shared fixtures. Every permission test reads as a sentence: the outsider gets 404.

With REQUIRE_SERVICES=1 (CI) a missing PostgreSQL, Redis or Chromium fails the run instead of
skipping the tests that need it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + ORM in the same test

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    from config.workdir import prepare

    prepare()  # var/ for the SQLite test database, the static root WhiteNoise reads


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_SERVICES:
        return
    problems = []
    if not settings.DATABASE_IS_POSTGRES:
        problems.append("DATABASE_URL does not point to PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis is not reachable: {exc}")
    if not os.path.exists(CHROMIUM):
        problems.append(f"Chromium is missing at {CHROMIUM}")
    from core.qes.openssl import gost_available

    if not gost_available():
        problems.append("OpenSSL's GOST engine is missing (apt-get install libengine-gost-openssl)")
    from tests.e2e.axe import AXE_JS

    if not AXE_JS.exists():
        problems.append(f"axe-core is missing at {AXE_JS} (make axe-core)")
    if problems:
        pytest.exit("CI requires real services: " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the services (a laptop with nothing but Python), skip what needs them, visibly.
    In CI (REQUIRE_SERVICES=1) nothing is skipped: pytest_sessionstart already failed."""
    if REQUIRE_SERVICES:
        return
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); required in CI")
    skip_browser = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}; required in CI")
    for item in items:
        if "postgres" in item.keywords and not settings.DATABASE_IS_POSTGRES:
            item.add_marker(skip_pg)
        if "e2e" in item.keywords and not os.path.exists(CHROMIUM):
            item.add_marker(skip_browser)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL the audit trail's triggers refuse DELETE and TRUNCATE; the throw-away test
    database turns on the maintenance switch so that tests can empty tables between runs."""
    if settings.DATABASE_IS_POSTGRES:
        with django_db_blocker.unblock():
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" SET sout.audit_maintenance = on')
            connection.close()
            connection.close_pool()  # the pooled sessions opened before the switch do not see it
    yield


@pytest.fixture(autouse=True)
def _isolated_media(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Iterator[None]:
    from core import calendar

    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    from frontend.views.exam_room import _anonymous_login_pages

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and hasattr(cache, "delete_pattern"):
        # Parallel test processes share the Redis database (config/settings.py keeps their keys
        # apart): each empties its own keys and channel groups only, never the database.
        from django_redis import get_redis_connection

        cache.delete_pattern("*")
        redis = get_redis_connection("default")
        stale = list(redis.scan_iter(match=f"asgi-{worker}*", count=1000))
        if stale:
            redis.delete(*stale)
    else:
        cache.clear()
    _anonymous_login_pages.clear()  # kept per process, as the fragment cache is
    yield


@pytest.fixture(autouse=True)
def _channel_layer_per_test() -> Iterator[None]:
    """Each test gets channel layers of its own. channels_redis keeps asyncio locks, buffers and
    cleaners in the layer object, made in the event loop of the test that used it first, and every
    async_to_sync of a test runs a loop of its own. (The hang at the end of a refused WebSocket of
    tests/exam/test_consumers.py that this was first taken for was a lost cancellation: see
    core/channel_layer.py.)"""
    from channels.layers import channel_layers

    yield
    channel_layers.backends.clear()


# --- Named users ---------------------------------------------------------------------------------

PASSWORD = "correct-horse-battery-9"


def make_user(
    email: str,
    *,
    last: str,
    first: str,
    patronymic: str = "",
    roles: tuple[str, ...] = (),
    staff: bool = False,
    position: str | None = None,
) -> Any:
    """A user with the test password; a signatory is a deputy director unless told otherwise (a deputy may
    sign both admission notices and refusal letters, p.49-50), a complaint handler a deputy minister
    (p.80)."""
    from core.models import User

    if position is None:
        position = User.Position.DEPUTY_DIRECTOR if "signatory" in roles else ""
        position = User.Position.DEPUTY_MINISTER if "complaint_handler" in roles else position

    user = User.objects.create_user(
        email,
        PASSWORD,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        is_staff=staff or bool(roles),
        email_confirmed_at=timezone.now(),
        position=position,
    )
    if roles:
        # get_or_create: transactional tests flush the groups the migration created.
        user.groups.set([Group.objects.get_or_create(name=r)[0] for r in roles])
    return user


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The test PKI (tests/pki.py), made once by OpenSSL with the GOST engine."""
    from tests.pki import build

    return build(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def trusted(pki: Any, db: Any) -> Any:
    """The test trusted list and the accredited authority's revocation list, loaded."""
    from core.qes.services import trusted_list_load

    return trusted_list_load(xml=pki.trusted_list_xml, crls=[pki.crl], by=None)


@pytest.fixture
def alice(db: Any) -> Any:
    """A candidate."""
    return make_user("alice@example.ru", last="Алексеева", first="Алиса", patronymic="Петровна")


@pytest.fixture
def oscar(db: Any) -> Any:
    """An outsider: another candidate, who must never see Alice's file."""
    return make_user("oscar@example.ru", last="Осипов", first="Оскар")


@pytest.fixture
def rita(db: Any) -> Any:
    """A registrar of incoming correspondence."""
    return make_user("rita@mintrud.test", last="Регистрова", first="Рита", roles=("registrar",))


@pytest.fixture
def victor(db: Any) -> Any:
    """A reviewing official."""
    return make_user("victor@mintrud.test", last="Рассмотрин", first="Виктор", roles=("reviewer",))


@pytest.fixture
def vera(db: Any) -> Any:
    """Another reviewing official (Victor's colleague)."""
    return make_user("vera@mintrud.test", last="Смотрова", first="Вера", roles=("reviewer",))


@pytest.fixture
def sergey(db: Any) -> Any:
    """A signatory."""
    return make_user("sergey@mintrud.test", last="Подписнов", first="Сергей", roles=("signatory",))


@pytest.fixture
def double(db: Any) -> Any:
    """A staff member who is both reviewer and signatory (must not sign own drafts)."""
    return make_user("double@mintrud.test", last="Двойнов", first="Денис", roles=("reviewer", "signatory"))


@pytest.fixture
def eva(db: Any) -> Any:
    """An exam administrator."""
    return make_user("eva@mintrud.test", last="Экзаменова", first="Ева", roles=("exam_admin",))


@pytest.fixture
def audrey(db: Any) -> Any:
    """An auditor (read-only)."""
    return make_user("audrey@mintrud.test", last="Аудитова", first="Одри", roles=("auditor",))


@contextmanager
def throttle_rates(settings: Any, **rates: str) -> Iterator[None]:
    """The public API's rate limits (core.throttling) set to ``rates`` by scope for a test."""
    from rest_framework.settings import api_settings

    from core.throttling import WindowScopedRateThrottle

    saved = WindowScopedRateThrottle.THROTTLE_RATES  # bound when the class was defined: restored, not re-read
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }
    api_settings.reload()
    WindowScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        yield
    finally:
        WindowScopedRateThrottle.THROTTLE_RATES = saved


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def verified_client_for(user: Any) -> Client:
    """Signed in and verified by a TOTP device, as the admin requires (core.accounts.TwoFactorAdminSite)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = client_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    """pytest-django's superuser client, verified by TOTP: the admin opens to no other session."""
    return verified_client_for(admin_user)


# --- Building blocks ------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form_token(client: Client, url: str, *, prefix: str = "") -> dict[str, str]:
    """The hidden form token of the page at ``url`` as a browser sends it back: ``{name: token}``."""
    import re

    name = f"{prefix}-form_token" if prefix else "form_token"
    page = client.get(url).content.decode()
    found = re.search(rf'name="{name}" value="([0-9a-f]{{32}})"', page)
    assert found, f"no {name} on {url}"
    return {name: found.group(1)}


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str = "diploma.pdf", content: bytes = PDF_BYTES, content_type: str = "application/pdf") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def complete_payload(**overrides: Any) -> dict[str, Any]:
    """A valid application in the API's JSON shape: meets all three criteria of p.21(a)."""
    data: dict[str, Any] = {
        "last_name": "Алексеева",
        "first_name": "Алиса",
        "patronymic": "Петровна",
        "id_document_name": "Паспорт гражданина Российской Федерации",
        "id_document_number": "45 10 123456",
        "id_document_issuer": "ОВД района Арбат г. Москвы",
        "id_document_issued_on": "2010-05-20",
        "postal_address": "119019, г. Москва, ул. Арбат, д. 1, кв. 1",
        "email": "alice@example.ru",
        "phone": "+7 495 123-45-67",
        "personal_data_consent": True,
        "higher_education": [
            {
                "institution": "МГТУ им. Н. Э. Баумана",
                "specialty": "Безопасность технологических процессов",
                "document_name": "Диплом специалиста",
                "document_number": "107718 0123456",
                "document_date": "2012-06-30",
            }
        ],
        "additional_education": [
            {
                "organisation": "АНО ДПО «Охрана труда»",
                "programme": "Специальная оценка условий труда",
                "assessment_hours": 72,
                "document_number": "772400012345",
                "document_date": "2019-03-15",
            }
        ],
        "experience": [
            {
                "employer": "ООО «Центр СОУТ»",
                "works": "Измерения и оценка вредных факторов, оформление отчётов СОУТ",
                "date_from": "2019-04-01",
                "date_to": None,
            }
        ],
    }
    data.update(overrides)
    return data


def cleaned(payload: dict[str, Any]) -> dict[str, Any]:
    from exam.forms import validate_application_payload

    result, errors = validate_application_payload(payload)
    assert not errors, errors
    return result


def fill_application(
    application: Any, by: Any, payload: dict[str, Any] | None = None, *, attachments: bool = True
) -> Any:
    from exam.admission import services
    from exam.models import Attachment

    services.application_save_draft(application=application, by=by, cleaned=cleaned(payload or complete_payload()))
    if attachments:
        for kind in Attachment.Kind.values:
            services.attachment_add(application=application, by=by, kind=kind, upload=upload(f"{kind}.pdf"))
    return application


def sign_and_submit(application: Any, by: Any) -> Any:
    """Request the e-mailed code and submit with it (the code is read from the sent mail). On-commit
    work (e-mails, tasks) runs at once, as it would after a real commit."""
    import re

    from django.test import TestCase

    from exam.admission import services

    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.signature_request(application=application, by=by)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.application_submit(application=application, by=by, code=code)


def registered_application(candidate: Any, payload: dict[str, Any] | None = None) -> Any:
    from exam.admission import services

    application = services.application_start(candidate=candidate)
    fill_application(application, candidate, payload)
    sign_and_submit(application, candidate)
    application.refresh_from_db()
    assert application.status == "registered", application.not_accepted_reasons
    return application


def make_sitting(by: Any, *, days_ahead: int = 10, capacity: int = 50) -> Any:
    from exam.testing.services.sittings import sitting_create

    when = timezone.make_aware(datetime.combine(date.today() + timedelta(days=days_ahead), time(10, 0)))
    return sitting_create(by=by, starts_at=when, is_remote=True, place="", capacity=capacity)


@pytest.fixture
def sitting(eva: Any) -> Any:
    return make_sitting(eva)


@pytest.fixture
def outbox() -> list[Any]:
    mail.outbox.clear()
    return mail.outbox


# --- The attestation test ----------------------------------------------------------------------------


def bank_question(
    code: str, *, topic: int, text: str, options: list[str], correct: list[int], practice: bool = False
) -> Any:
    """One question of the bank (topic ``T<topic>``), saved as the editor and the import save it."""
    from exam.testing.services.bank import QuestionData, question_save

    data = QuestionData(
        code=code,
        topic=f"T{topic}",
        topic_title=f"Тема {topic}",
        text=text,
        options=options,
        correct=correct,
        practice=practice,
    )
    return question_save(data=data, by=None)


def make_bank(*, topics: int = 2, per_topic: int = 25, multiple_every: int = 5, practice: bool = False) -> list[Any]:
    """A bank of simple questions: the correct option of question i is option (i % options). With
    ``practice`` the questions are practice-only ones (codes P…, texts «Тренировочный вопрос …»)."""
    prefix, label, option = (
        ("P", "Тренировочный вопрос", "Тренировочный вариант") if practice else ("Q", "Вопрос", "Вариант")
    )
    questions = []
    number = 0
    for t in range(1, topics + 1):
        for _i in range(per_topic):
            number += 1
            questions.append(
                bank_question(
                    f"{prefix}{number:04d}",
                    topic=t,
                    text=f"{label} номер {number}?",
                    options=[f"{option} {k} вопроса {number}" for k in range(1, 5)],
                    correct=[0, 2] if number % multiple_every == 0 else [number % 4],
                    practice=practice,
                )
            )
    return questions


def admit(candidate: Any, reviewer: Any, signatory: Any, sitting: Any) -> Any:
    """Register, review and admit the candidate to the sitting; returns the exam credential. (The
    notice PDF is not rendered here: its task runs on commit, which these tests do not wait for.)"""
    from exam.admission import services

    application = registered_application(candidate)
    services.application_start_review(application=application, by=reviewer)
    decision = services.decision_draft(application=application, by=reviewer, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=signatory)
    application.refresh_from_db()
    return application.exam_credential


def open_sitting(sitting: Any, *, minutes_ago: int = 1) -> None:
    """Move the sitting's start into the past so that its entry window is open now."""
    from exam.models import Sitting

    Sitting.objects.filter(pk=sitting.pk).update(starts_at=timezone.now() - timedelta(minutes=minutes_ago))
    sitting.refresh_from_db()


def exam_client(credential: Any, candidate: Any) -> tuple[Client, str]:
    """A browser signed in to the exam room with the notice's credentials (password issued now)."""
    from exam.admission import services

    password = services.exam_password_issue(credential=credential, by=candidate)
    client = Client(enforce_csrf_checks=False)
    response = client.post("/exam/", {"login": credential.login, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client, password


@pytest.fixture
def exam_setup(alice: Any, victor: Any, sergey: Any, eva: Any) -> dict[str, Any]:
    """Alice admitted to a sitting whose window is open, a bank of 50 questions, a blueprint of 40."""
    from exam.testing.services.bank import blueprint_set

    make_bank()
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    sitting = make_sitting(eva, days_ahead=1)
    credential = admit(alice, victor, sergey, sitting)
    open_sitting(sitting)
    credential.refresh_from_db()
    return {"credential": credential, "sitting": sitting, "candidate": alice}


def answer_correctly(attempt: Any, how_many: int) -> None:
    """Answer the first ``how_many`` questions right and the rest wrong, through the service."""
    from exam.testing.services.attempts import attempt_save_answer

    for item in attempt.items.select_related("version").order_by("position"):
        version = item.version
        if item.position <= how_many:
            answer = list(version.correct)
        else:
            answer = [next(i for i in range(len(version.options)) if i not in version.correct)]
        attempt_save_answer(
            attempt_id=attempt.pk,
            session_key=attempt.session_key,
            position=item.position,
            answer=answer,
            flagged=False,
            seq=item.position,
        )


# --- Decisions, certificates, the registry -------------------------------------------------------------


def pass_the_test(credential: Any, *, correct: int = 40) -> Any:
    """Take the test with ``correct`` right answers and submit; returns the finished attempt."""
    from exam.testing.services.attempts import attempt_start, attempt_submit

    attempt = attempt_start(credential=credential, session_key="k", personally=True)
    answer_correctly(attempt, correct)
    return attempt_submit(attempt=attempt, session_key="k")


def finished_attempt_row(n: int) -> Any:
    """A passed, finished attempt straight in the database (a candidate, an admitted application, its
    sitting and credential): for tests of what follows the test, many at a time."""
    from exam.models import Application, Attempt, ExamCredential, Sitting

    user = make_user(f"e{n}@example.ru", last="Экспертов", first="Эдуард")
    application = Application.objects.create(
        candidate=user, status="admitted", registration_number=f"C-{n}", last_name="Экспертов", first_name="Эдуард"
    )
    sitting = Sitting.objects.create(starts_at=timezone.now(), capacity=1)
    credential = ExamCredential.objects.create(application=application, sitting=sitting, login=f"c-{n}")
    now = timezone.now()
    return Attempt.objects.create(
        credential=credential,
        application=application,
        sitting=sitting,
        rules_confirmed_at=now,
        started_at=now,
        deadline_at=now,
        finished_at=now,
        status="finished",
        score=40,
        passed=True,
        question_count=40,
    )


def certify(attempt: Any, signatory: Any, officer: Any, *, publish: bool = True) -> Any:
    """Draft and sign the decision on attestation, then issue the certificate."""
    from django.test import TestCase

    from registry.models import AreaOfActivity
    from registry.services import attestation_decision_draft, attestation_decision_sign, certificate_issue

    decision = attestation_decision_draft(attempt=attempt)
    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=decision, by=signatory)
    with TestCase.captureOnCommitCallbacks(execute=True):
        certificate = certificate_issue(
            decision=decision,
            by=officer,
            areas=list(AreaOfActivity.objects.filter(code__in=["01", "02"])),
            publish=publish,
        )
    certificate.refresh_from_db()
    return certificate


@pytest.fixture
def olga(db: Any) -> Any:
    """A certificate officer."""
    return make_user("olga@mintrud.test", last="Сертификатова", first="Ольга", roles=("certificate_officer",))


@pytest.fixture
def stepan(db: Any) -> Any:
    """A second signatory."""
    return make_user("stepan@mintrud.test", last="Подписин", first="Степан", roles=("signatory",))


@pytest.fixture
def certificate(exam_setup: Any, sergey: Any, olga: Any) -> Any:
    """Alice passed and holds a published certificate."""
    return certify(pass_the_test(exam_setup["credential"]), sergey, olga)


def published_certificate(
    number: str, last: str, first: str, patronymic: str = "", *, signed: bool = True, **fields: Any
) -> Any:
    """A registry entry straight in the database (for search and open-data tests), its record signed
    as registry.services signs it (unless ``signed=False``): the public shows the status of a record
    that verifies only."""
    from registry.models import Certificate, Surname
    from registry.selectors import search_key
    from registry.services import _sign_record

    issued = fields.pop("issued_on", date(2025, 3, 1))
    Surname.objects.get_or_create(word=search_key(last))
    certificate = Certificate.objects.create(
        number=number,
        search_last=search_key(last),
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        search_name=search_key(f"{last} {first} {patronymic}"),
        issued_on=issued,
        expires_on=fields.pop("expires_on", date(issued.year + 5, issued.month, issued.day)),
        published_at=fields.pop("published_at", timezone.now()),
        areas_text=fields.pop("areas_text", "Проведение специальной оценки условий труда"),
        **fields,
    )
    if signed:
        _sign_record(certificate)
        certificate.save(update_fields=["key_id", "signature", "signed_at", "record_seal"])
    return certificate


@pytest.fixture
def tasks_queued_not_run() -> Iterator[None]:
    """Tasks go to an in-memory queue and are not run (e.g. not to render 100 PDFs in a test of
    numbering); restored afterwards."""
    with tasks_queued():
        yield


@contextmanager
def tasks_queued() -> Iterator[None]:
    """The body of tasks_queued_not_run, for a test that queues tasks only after its set-up."""
    from config.celery import app

    # The settings come from Django's with the CELERY_ namespace, and the namespaced key wins on
    # reading: setting ``conf.task_always_eager`` alone would change nothing.
    conf = app.conf
    saved = (conf.CELERY_TASK_ALWAYS_EAGER, conf.CELERY_BROKER_URL)

    def reset_pool() -> None:
        # What Celery itself resets after a fork: the connection pool and the producers bound to it
        # (dropped, not closed: kombu's global pools may still hand the same connections out).
        app._after_fork()

    conf.CELERY_TASK_ALWAYS_EAGER, conf.CELERY_BROKER_URL = False, "memory://"
    reset_pool()
    yield
    conf.CELERY_TASK_ALWAYS_EAGER, conf.CELERY_BROKER_URL = saved
    reset_pool()


def run_concurrently(*jobs: Any, timeout: float = 120) -> tuple[list[Any], list[BaseException]]:
    """Run the callables in threads released at once (a barrier), each on its own database
    connection: (their results, the exceptions they raised)."""
    import threading

    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(job())
        except BaseException as exc:  # reported to the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors


# --- Appeals and complaints -----------------------------------------------------------------------


@pytest.fixture
def commission(db: Any) -> list[Any]:
    """The appeals commission: a chair (also a member) and two members."""
    return [
        make_user("chair@mintrud.test", last="Председателев", first="Пётр", roles=("appeals_member", "appeals_chair")),
        make_user("m1@mintrud.test", last="Членов", first="Михаил", roles=("appeals_member",)),
        make_user("m2@mintrud.test", last="Членова", first="Мария", roles=("appeals_member",)),
    ]


@pytest.fixture
def hanna(db: Any) -> Any:
    """A complaint handler (deputy minister, p.80)."""
    return make_user("hanna@mintrud.test", last="Жалобина", first="Анна", roles=("complaint_handler",))


def complaint_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subject": "d",
        "official": "Регистратор общего отдела Департамента управления делами",
        "last_name": "Алексеева",
        "first_name": "Алиса",
        "patronymic": "Петровна",
        "residence": "г. Москва, ул. Арбат, д. 1, кв. 1",
        "postal_address": "119019, г. Москва, ул. Арбат, д. 1, кв. 1",
        "email": "alice@example.ru",
        "phone": "",
        "decision_complained": "Отказ в приёме документов от 10.11.2026",
        "arguments": "Все документы п. 15 были приложены, отказ необоснован.",
    }
    data.update(overrides)
    return data


def ensure_reference_lists() -> None:
    """Transactional tests (the browser tests) empty the tables the data migrations filled."""
    import importlib

    from django.apps import apps

    from registry.models import AreaOfActivity

    if not AreaOfActivity.objects.exists():
        importlib.import_module("registry.migrations.0002_search_index_and_reference_lists").seed(apps, None)


def in_forked_child(check: Any, timeout: float = 20) -> int:
    """``check()`` run in a child forked from this process: its result (an exit code, 0 for
    success; 1 when it raised), or -1 when it did not end within ``timeout`` seconds. The child never
    returns into pytest."""
    import contextlib
    import signal
    import time as clock

    pid = os.fork()
    if pid == 0:
        code = 1
        with contextlib.suppress(BaseException):
            code = int(check())
        os._exit(code)
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        clock.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1
