"""Settings, read from the environment. Every setting is listed in README.md ("Settings").

Without DATABASE_URL and REDIS_URL the product runs embedded: SQLite, an in-memory channel layer, a
local-memory cache and a file-system Celery broker under ``var/``. A bad value fails loudly at start-up.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import workdir

BASE_DIR = workdir.BASE_DIR

env = environ.Env()
env.smart_cast = False

VAR_DIR = workdir.var_dir()

DEBUG = env.bool("DEBUG", default=False)
# Under pytest the test settings apply whatever the environment says (eager Celery, fast hashing).
TESTING = env.bool("TESTING", default=False) or "pytest" in sys.modules


def _secret_key() -> str:
    """SECRET_KEY from the environment; in embedded mode the random key kept in var/secret_key (made
    by config.workdir.prepare at the first start); under pytest without either, a fixed test key."""
    key = env.str("SECRET_KEY", default="")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return key
    path = workdir.secret_key_path()
    if path.exists():
        return path.read_text().strip()
    if TESTING:
        return "insecure-key-of-the-test-settings-only-0123456789"
    raise ImproperlyConfigured(
        f"SECRET_KEY is not set and {path} does not exist: set SECRET_KEY, or prepare the working folder"
        " (make run, any manage.py command, or python -m config.workdir)"
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The site's address in absolute links (core.site): SITE_URL when set; otherwise the address a request
# was served on; otherwise SITE_URL_DEFAULT (`make run` sets it to http://HOST:PORT).
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
SITE_URL_DEFAULT = env.str("SITE_URL_DEFAULT", default="http://127.0.0.1:8000").rstrip("/")
for _name in ("SITE_URL", "SITE_URL_DEFAULT"):
    if vars()[_name] and not vars()[_name].startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{_name} must start with http:// or https://")

# The ministry's contacts the service page gives (p.5 of the Regulation), as the Regulation states them.
MINISTRY_POSTAL_ADDRESS = env.str(
    "MINISTRY_POSTAL_ADDRESS", default="Российская Федерация, 127994, ГСП-4, г. Москва, ул. Ильинка, д. 21"
)
MINISTRY_EMAIL = env.str("MINISTRY_EMAIL", default="info@rosmintrud.ru")
MINISTRY_PHONE = env.str("MINISTRY_PHONE", default="8 (495) 926-99-01")
MINISTRY_WEBSITE = env.str("MINISTRY_WEBSITE", default="https://mintrud.gov.ru")
for _contact in ("MINISTRY_POSTAL_ADDRESS", "MINISTRY_EMAIL", "MINISTRY_PHONE"):
    if not globals()[_contact].strip():
        raise ImproperlyConfigured(f"{_contact} must not be empty: the service page gives it (p.5)")

INSTALLED_APPS = [
    "core.apps.AdminConfig",  # django.contrib.admin on the product's sign-in (TOTP)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "health_check",  # the health endpoint's page (core.health) and `manage.py health_check`
    "core",
    "exam",
    "registry",
    "appeals",
    "oversight",
    "frontend",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (core.logs), and its time counts whole.
    "core.logs.RequestIdMiddleware",
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.site.SiteUrlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontend.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A lone surrogate or NUL in a query string or a form is a 400, before any view (core.text).
    "core.middleware.UnstorableTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # After a write, this person's reads stay on the primary (only with a read replica).
    "core.db.ReplicaPinMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Threads of each server process that run HTTP requests (config/asgi.py): the requests one process
# serves at once; more wait in the event loop for a free thread. Downloads (files, PDFs, exports:
# HTTP_DOWNLOAD_PATHS) have threads of their own, since a download holds its thread for as long as
# the client takes to read it; everything else is served in a few milliseconds, and a few threads
# serve more of it than many do: threads of Python take turns at one interpreter lock (measured on
# 2 cores with 4 processes, 4 threads each against 16: 17 % more requests a second, and the p99
# under load 109 ms against 199; bench/README.md).
HTTP_THREADS = env.int("HTTP_THREADS", default=4)
HTTP_DOWNLOAD_THREADS = env.int("HTTP_DOWNLOAD_THREADS", default=8)
if HTTP_THREADS < 1 or HTTP_DOWNLOAD_THREADS < 1:
    raise ImproperlyConfigured("HTTP_THREADS and HTTP_DOWNLOAD_THREADS must be at least 1")
HTTP_DOWNLOAD_PATHS = env.str(
    "HTTP_DOWNLOAD_PATHS",
    default=r"\.(pdf|ics|csv|json|xlsx|zip)$|/attachments/\d+/$",
)
try:
    re.compile(HTTP_DOWNLOAD_PATHS)
except re.error as exc:
    raise ImproperlyConfigured(f"HTTP_DOWNLOAD_PATHS is not a regular expression: {exc}") from exc
# The requests that get the next free thread of HTTP_THREADS before any other waiting (empty: none):
# the exam room's answer saves, which at a sitting's entry waited behind pages, sign-ins and starts
# (bench/README.md, "Answers first").
HTTP_FIRST_PATHS = env.str("HTTP_FIRST_PATHS", default=r"^/api/v1/exam/attempt/answers/\d+/$")
# Of HTTP_THREADS, how many take only those requests: the others may hold at most the rest at once.
HTTP_FIRST_RESERVED = env.int("HTTP_FIRST_RESERVED", default=1)
if not 0 <= HTTP_FIRST_RESERVED < HTTP_THREADS:
    raise ImproperlyConfigured("HTTP_FIRST_RESERVED must be from 0 to HTTP_THREADS - 1")
try:
    re.compile(HTTP_FIRST_PATHS)
except re.error as exc:
    raise ImproperlyConfigured(f"HTTP_FIRST_PATHS is not a regular expression: {exc}") from exc
# Each HTTP response says in a Server-Timing header how long it waited for a thread and how long the
# application took (the benchmarks read it to tell the server's time from the client's); off by
# default, since it tells anyone how long the server took.
HTTP_SERVER_TIMING = env.bool("HTTP_SERVER_TIMING", default=False)
# The thresholds of the garbage collector of a server process (config/asgi.py, gc.set_threshold).
GC_THRESHOLDS = tuple(env.list("GC_THRESHOLDS", cast=int, default=[10_000, 20, 20]))
if len(GC_THRESHOLDS) != 3 or min(GC_THRESHOLDS) < 1:
    raise ImproperlyConfigured("GC_THRESHOLDS: three positive integers, e.g. 10000,20,20")

# A connection for each HTTP thread of a process (config/asgi.py) and a few for the WebSockets.
DB_POOL_MAX = env.int("DB_POOL_MAX", default=HTTP_THREADS + HTTP_DOWNLOAD_THREADS + 4)

# Statements prepared on the server (core.db.fetch_prepared) for the few queries a sitting runs most.
# Django turns psycopg's prepared statements off (prepare_threshold None, for poolers in
# transaction mode), and then psycopg ignores even an explicit prepare=True; with a threshold no
# statement reaches, only what fetch_prepared asks for is prepared (Django's own client-side binding
# cursors never prepare). PgBouncer in transaction mode keeps them since 1.21 (max_prepared_statements).
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web server, Celery worker) share the file: wait for the lock rather than
    # fail, and take the write lock at BEGIN so that read-then-write transactions cannot deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A connection pool shared by the threads of a process (psycopg_pool): under ASGI every request
    # runs in a thread of its own, so persistent per-thread connections (CONN_MAX_AGE) would open a
    # new PostgreSQL connection per request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "prepare_threshold": PREPARE_ONLY_WHEN_ASKED,
        "pool": {
            "min_size": env.int("DB_POOL_MIN", default=2),
            "max_size": DB_POOL_MAX,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        },
    }
    # An explicit test name: the ASGI live server of the browser tests runs in a child process that
    # would otherwise prefix "test_" a second time.
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}",
        "TEMPLATE": "template0",
        "CHARSET": "UTF8",
    }
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# A streaming replica of the primary (core.db): the public reads that may lag run on it while it
# lags at most REPLICA_MAX_LAG_SECONDS (measured every REPLICA_CHECK_SECONDS in each process);
# otherwise, and without it, on the primary. The test settings always declare the alias as a mirror
# of the test database (whatever DATABASE_REPLICA_URL says), off until a test turns it on.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_READS = bool(DATABASE_REPLICA_URL) and not TESTING
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=3.0)
if REPLICA_MAX_LAG_SECONDS < 0 or REPLICA_CHECK_SECONDS < 0:
    raise ImproperlyConfigured("REPLICA_MAX_LAG_SECONDS and REPLICA_CHECK_SECONDS must be 0 or more")
_replica_url = env.str("DATABASE_URL") if TESTING and DATABASE_IS_POSTGRES else DATABASE_REPLICA_URL
if _replica_url:
    DATABASES["replica"] = env.db_url_config(_replica_url)
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a PostgreSQL URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = 0
    DATABASES["replica"]["OPTIONS"] = {
        "prepare_threshold": PREPARE_ONLY_WHEN_ASKED,
        # A replica that does not answer costs a read at most this long before the primary answers.
        "connect_timeout": 2,
        "pool": {
            "min_size": 1,
            "max_size": DB_POOL_MAX,
            "timeout": 2.0,
        },
    }
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # Redis unreachable: a cache miss (sessions from the database), not an error.
                "IGNORE_EXCEPTIONS": True,
                "CONNECTION_FACTORY": "core.cache.SharedClientConnectionFactory",
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    # Connections to Redis per process: when a node fails, its exam rooms reconnect to the others at
    # once, and each socket joins its group (redis-py's pool refuses beyond 100 by default). A socket
    # waits for its messages with BZPOPMIN for 5 s: the client's read timeout must be longer than
    # that (redis-py's default is 5 s too, and under load the client gave up first). The layer's
    # connections send under that timeout without losing a cancellation (core/channel_layer.py).
    _channel_layer: dict[str, object] = {
        "hosts": [
            {
                "address": REDIS_URL,
                "max_connections": env.int("CHANNEL_LAYER_CONNECTIONS", default=2000),
                "socket_timeout": 30,
            }
        ]
    }
    if TESTING and os.environ.get("PYTEST_XDIST_WORKER"):
        # Parallel test processes share the Redis database but not their test databases (the same
        # ids in each): their cache keys and channel groups are kept apart.
        _worker = os.environ["PYTEST_XDIST_WORKER"]
        CACHES["default"]["KEY_PREFIX"] = _worker
        _channel_layer["prefix"] = f"asgi-{_worker}"
    CHANNEL_LAYERS = {"default": {"BACKEND": "core.channel_layer.RedisChannelLayer", "CONFIG": _channel_layer}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
    # Sessions read from Redis, written through to the database: a Redis restart loses no session.
    SESSION_ENGINE = "core.sessions"  # cached_db, a new key not looked up first (core/sessions.py)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    _queue, _control = workdir.celery_folders()
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "control_folder": str(_control),
    }
# The parts of the pages that are the same for everyone in a language (the public menu, the footer:
# {% cache ... using="fragments" %}), kept in each process: they change only with the code.
CACHES["fragments"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fragments"}

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep the worker's database connection between tasks (Celery's Django fixup closes it after each
# task by default: with the pool, that is several new PostgreSQL sessions per finalised attempt).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# The Celery worker's niceness (config/celery.py): background work yields the CPU to the requests.
WORKER_NICE = env.int("WORKER_NICE", default=10)
if not 0 <= WORKER_NICE <= 19:
    raise ImproperlyConfigured("WORKER_NICE must be between 0 and 19")
CELERY_TIMEZONE = "Europe/Moscow"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "deadline-flag-due": {
        "task": "core.tasks.deadline_flag_due",
        # Daily at 07:00 Moscow time, before the office opens.
        "schedule": crontab(hour=7, minute=0),
    },
    "attempt-sweep": {
        # Safety net of the exam clock: finalise every attempt past its deadline.
        "task": "exam.tasks.attempt_sweep",
        "schedule": timedelta(seconds=env.int("EXAM_SWEEP_SECONDS", default=15)),
    },
    "certificate-pdf-sweep": {
        "task": "registry.tasks.certificate_pdf_sweep",
        "schedule": timedelta(minutes=5),
    },
    "attestation-decision-sweep": {
        "task": "registry.tasks.attestation_decision_sweep",
        "schedule": timedelta(minutes=1),
    },
    "complaint-confirmation-files-release": {
        # The documents of complaints held for a confirmation that expired unused.
        "task": "appeals.tasks.complaint_confirmation_files_release",
        "schedule": timedelta(hours=1),
    },
    "complaint-answer-sweep": {
        "task": "appeals.tasks.complaint_answer_sweep",
        "schedule": timedelta(minutes=10),
    },
    "notification-email-pending": {
        "task": "core.tasks.notification_email_pending",
        "schedule": timedelta(minutes=5),
    },
    "tests-prepare": {
        # The individual tests of the sittings about to start, drawn ahead (the start only stores the clock).
        "task": "exam.tasks.tests_prepare_due",
        "schedule": timedelta(minutes=5),
    },
    "exam-reminders": {
        # The reminder of a sitting, the day before it from 09:00 Moscow time (each goes out once).
        "task": "exam.tasks.exam_reminders_send_due",
        "schedule": crontab(minute=5),
    },
    "notice-issue-pending": {
        "task": "exam.tasks.notice_issue_pending",
        "schedule": timedelta(minutes=10),
    },
    "letter-edition-email-pending": {
        "task": "core.tasks.letter_edition_email_pending",
        "schedule": timedelta(minutes=10),
    },
    "orphan-files-sweep": {
        # Files under MEDIA_ROOT that no row names, older than a day (core.files); at night.
        "task": "core.tasks.orphan_files_sweep",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:home"
SESSION_COOKIE_HTTPONLY = True
# Production is the site served over HTTPS (SITE_URL https://...): secure cookies, HTTP redirected
# to HTTPS (behind the balancer, which says so in X-Forwarded-Proto, as uvicorn --proxy-headers
# reads it), HSTS; the health checks and the metrics answer over plain HTTP on the node itself.
_HTTPS = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Repeated failed logins lock the account (by user name) for a while.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "frontend/auth/locked.html"
AXES_VERBOSE = False
# The lockout is per account on purpose (the issue: "lock the account"); a per-address lockout would
# lock out every candidate behind one office NAT.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = "Минтруд России — аттестация экспертов СОУТ"
EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = workdir.static_root()
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploaded documents are personal data: never served as static files, only through views that check
# permissions and log access. There is deliberately no MEDIA_URL route.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
if EMAIL_CONFIG.get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    EMAIL_CONFIG["EMAIL_BACKEND"] = "core.mail.ConsoleEmailBackend"  # subjects and bodies printed readable
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="attestation@mintrud.example")

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # Signed in, and past the TOTP step for staff who turned it on (core.api).
    "DEFAULT_PERMISSION_CLASSES": ["core.api.IsAuthenticatedWithSecondFactor"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",  # error answers and closed request bodies
    # JSON only (refusing a lone surrogate or NUL anywhere in the body, core.text): the API takes
    # what its schema says; the upload view alone takes multipart (exam.admission.api.views).
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],
    # ... and a form posted to a view that takes JSON is a 415, not an empty body (core.api).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "signature_code": env.str("API_THROTTLE_SIGNATURE_CODE", default="5/min"),
        # The public check of a document's signature (page and API, core.qes): OpenSSL runs each time.
        "signature_verify": env.str("API_THROTTLE_SIGNATURE_VERIFY", default="20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Аттестация экспертов СОУТ — API",
    "DESCRIPTION": "Заявления на аттестацию экспертов по специальной оценке условий труда.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for each set of choices that several components share.
    "ENUM_NAME_OVERRIDES": {
        "AttachmentKindEnum": "exam.models.Attachment.Kind",
        "DecisionKindEnum": "exam.models.Decision.Kind",
        "ApplicationStatusEnum": "exam.models.Application.Status",
        "CertificateStatusEnum": "registry.models.Certificate.Status",
        "PublicCertificateStatusEnum": "registry.selectors.PUBLIC_STATUSES",
        "CertificateStatusOnEnum": "registry.selectors.STATUSES_ON",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed package, not a CDN: the docs work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


# --- The procedure (domain settings; see docs and domain.md) ------------------------------------
def _number_format(name: str, *, default: str) -> str:
    """A format of the numbers of a series (str.format with the fields {year} and {seq} only)."""
    value = env.str(name, default=default)
    try:
        value.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must use only {{year}} and {{seq}}: {exc}") from exc
    return value


APPLICATION_NUMBER_FORMAT = _number_format("APPLICATION_NUMBER_FORMAT", default="З-{year}-{seq:05d}")
if "{seq" not in APPLICATION_NUMBER_FORMAT:
    raise ImproperlyConfigured("APPLICATION_NUMBER_FORMAT must contain {seq}")

ADMISSION_MIN_TRAINING_HOURS = env.int("ADMISSION_MIN_TRAINING_HOURS", default=72)  # p.21(a)
ADMISSION_MIN_EXPERIENCE_YEARS = env.int("ADMISSION_MIN_EXPERIENCE_YEARS", default=3)  # p.21(a)
REVIEW_DEADLINE_WORKING_DAYS = env.int("REVIEW_DEADLINE_WORKING_DAYS", default=20)  # p.12(a)
NOTICE_DEADLINE_WORKING_DAYS = env.int("NOTICE_DEADLINE_WORKING_DAYS", default=5)  # p.12(b)
DEADLINE_DUE_SOON_WORKING_DAYS = env.int("DEADLINE_DUE_SOON_WORKING_DAYS", default=3)
SIGNATURE_CODE_TTL = timedelta(minutes=env.int("SIGNATURE_CODE_TTL_MINUTES", default=10))
SIGNATURE_CODE_MAX_ATTEMPTS = env.int("SIGNATURE_CODE_MAX_ATTEMPTS", default=5)
# The key of the HMAC that binds a simple electronic signature's digest, signer and time. Set it on
# its own so that rotating SECRET_KEY does not turn every earlier signature record invalid.
SIGNATURE_MAC_KEY = env.str("SIGNATURE_MAC_KEY", default="") or SECRET_KEY
if len(SIGNATURE_MAC_KEY) < 32:
    raise ImproperlyConfigured("SIGNATURE_MAC_KEY must be at least 32 characters long")
# A paper application is registered from the date it arrived (p.27); an older date is a typing error.
PAPER_RECEIVED_MAX_DAYS = env.int("PAPER_RECEIVED_MAX_DAYS", default=30)
# Issue dates of documents and dates of experience lie within this many years before today.
DOCUMENT_DATE_MAX_YEARS = env.int("DOCUMENT_DATE_MAX_YEARS", default=80)
# A sitting is scheduled at most this many days ahead (a later date is a year typed wrong).
SITTING_MAX_DAYS_AHEAD = env.int("SITTING_MAX_DAYS_AHEAD", default=365)
EXAM_LOGIN_PREFIX = env.str("EXAM_LOGIN_PREFIX", default="sout")

# The attestation test (p.12(g), p.55-58).
EXAM_DURATION = timedelta(minutes=env.float("EXAM_DURATION_MINUTES", default=40))  # from the start
EXAM_QUESTION_COUNT = env.int("EXAM_QUESTION_COUNT", default=40)  # without a blueprint
EXAM_PASS_SCORE = env.int("EXAM_PASS_SCORE", default=36)  # p.57
EXAM_ATTEMPTS_PER_ADMISSION = env.int("EXAM_ATTEMPTS_PER_ADMISSION", default=1)  # retake = new admission
EXAM_SWEEP_SECONDS = env.int("EXAM_SWEEP_SECONDS", default=15)
# How long before a sitting its candidates' individual tests are drawn (exam.tasks.tests_prepare_due).
EXAM_PREPARE_AHEAD = timedelta(hours=env.float("EXAM_PREPARE_AHEAD_HOURS", default=24))
EXAM_LOGIN_FAILURE_LIMIT = env.int("EXAM_LOGIN_FAILURE_LIMIT", default=5)
PRACTICE_QUESTION_COUNT = env.int("PRACTICE_QUESTION_COUNT", default=10)
# p.12(g): extra time restores the time lost to a recorded interruption, plus at most this margin.
EXAM_EXTRA_TIME_MARGIN_MINUTES = env.int("EXAM_EXTRA_TIME_MARGIN_MINUTES", default=2)
if EXAM_EXTRA_TIME_MARGIN_MINUTES < 0:
    raise ImproperlyConfigured("EXAM_EXTRA_TIME_MARGIN_MINUTES must be 0 or more")
if timedelta(0) >= EXAM_DURATION:
    raise ImproperlyConfigured("EXAM_DURATION_MINUTES must be positive")

for _name in (
    "ADMISSION_MIN_TRAINING_HOURS",
    "ADMISSION_MIN_EXPERIENCE_YEARS",
    "REVIEW_DEADLINE_WORKING_DAYS",
    "NOTICE_DEADLINE_WORKING_DAYS",
    "SIGNATURE_CODE_MAX_ATTEMPTS",
    "PAPER_RECEIVED_MAX_DAYS",
    "DOCUMENT_DATE_MAX_YEARS",
    "SITTING_MAX_DAYS_AHEAD",
    "EXAM_QUESTION_COUNT",
    "EXAM_PASS_SCORE",
    "EXAM_ATTEMPTS_PER_ADMISSION",
    "EXAM_SWEEP_SECONDS",
    "PRACTICE_QUESTION_COUNT",
):
    if vars()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be a positive number")
if DOCUMENT_DATE_MAX_YEARS > 120:
    raise ImproperlyConfigured("DOCUMENT_DATE_MAX_YEARS must be at most 120")

# Decisions, certificates and the registry (p.12(v), 59-64).
ATTESTATION_DECISION_WORKING_DAYS = env.int("ATTESTATION_DECISION_WORKING_DAYS", default=15)  # p.12(v)
REGISTRY_PUBLISH_WORKING_DAYS = env.int("REGISTRY_PUBLISH_WORKING_DAYS", default=10)  # p.63
CERTIFICATE_VALIDITY_YEARS = env.int("CERTIFICATE_VALIDITY_YEARS", default=5)
CERTIFICATE_NUMBER_FORMAT = _number_format("CERTIFICATE_NUMBER_FORMAT", default="{year}-{seq:05d}")
if "{seq" not in CERTIFICATE_NUMBER_FORMAT or "/" in CERTIFICATE_NUMBER_FORMAT:
    raise ImproperlyConfigured("CERTIFICATE_NUMBER_FORMAT must contain {seq} and no slash (it is part of URLs)")
REGISTRY_SIGNING_KEY = env.str("REGISTRY_SIGNING_KEY", default="")  # base64url of an Ed25519 seed
# The day the ministry must have rotated the registry's signing key by (its policy of key lifetime:
# an Ed25519 key itself never expires); the staff dashboard warns QES_EXPIRY_WARNING_DAYS before.
_registry_key_expires = env.str("REGISTRY_SIGNING_KEY_EXPIRES", default="")
try:
    REGISTRY_SIGNING_KEY_EXPIRES = date.fromisoformat(_registry_key_expires) if _registry_key_expires else None
except ValueError:
    raise ImproperlyConfigured("REGISTRY_SIGNING_KEY_EXPIRES must be a date, YYYY-MM-DD") from None
# After a new key is first used, the previous one stays valid this long (processes not yet restarted).
REGISTRY_KEY_ROTATION_OVERLAP_MINUTES = env.int("REGISTRY_KEY_ROTATION_OVERLAP_MINUTES", default=60)
if REGISTRY_KEY_ROTATION_OVERLAP_MINUTES < 0:
    raise ImproperlyConfigured("REGISTRY_KEY_ROTATION_OVERLAP_MINUTES must be 0 or more")
REGISTRY_PAGE_SIZE = env.int("REGISTRY_PAGE_SIZE", default=20)
REGISTRY_SEARCH_THRESHOLD = env.float("REGISTRY_SEARCH_THRESHOLD", default=0.4)  # trigram word similarity
# A change is stamped before its transaction commits: the changes feed gives only changes older than
# this, so a mirror's cursor never passes a change that commits late.
REGISTRY_FEED_LAG_SECONDS = env.int("REGISTRY_FEED_LAG_SECONDS", default=5)
if REGISTRY_FEED_LAG_SECONDS < 0:
    raise ImproperlyConfigured("REGISTRY_FEED_LAG_SECONDS must be 0 or more")
# Rate limits tell clients apart by REMOTE_ADDR; X-Forwarded-For is believed only from as many proxies
# as this says (DRF trusts any X-Forwarded-For when NUM_PROXIES is unset, and a client could rotate it).
REST_FRAMEWORK["NUM_PROXIES"] = env.int("API_NUM_PROXIES", default=0)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registry"] = env.str("API_THROTTLE_REGISTRY", default="120/min")  # type: ignore[index]

# Appeals (p.12(v), p.65) and complaints (section V).
APPEAL_WINDOW_DAYS = env.int("APPEAL_WINDOW_DAYS", default=30)  # calendar days from the result notice
APPEAL_DECISION_MONTHS = env.int("APPEAL_DECISION_MONTHS", default=3)  # p.12(v)
APPEAL_QUORUM = env.int("APPEAL_QUORUM", default=3)  # votes needed before the chair can decide
APPEAL_NUMBER_FORMAT = _number_format("APPEAL_NUMBER_FORMAT", default="А-{year}-{seq:05d}")
COMPLAINT_NUMBER_FORMAT = _number_format("COMPLAINT_NUMBER_FORMAT", default="Ж-{year}-{seq:05d}")
COMPLAINT_LONG_WORKING_DAYS = env.int("COMPLAINT_LONG_WORKING_DAYS", default=15)  # p.87: (a)(b)(c)(e)(f)
COMPLAINT_SHORT_WORKING_DAYS = env.int("COMPLAINT_SHORT_WORKING_DAYS", default=5)  # p.87: (d)(g)
COMPLAINT_REMEDY_WORKING_DAYS = env.int("COMPLAINT_REMEDY_WORKING_DAYS", default=5)  # p.89
# A complaint from the public form waits this long for its sender to confirm the e-mail address, and
# one address (or one network address) may ask this many confirmations an hour.
COMPLAINT_CONFIRMATION_MAX_AGE = timedelta(hours=env.int("COMPLAINT_CONFIRMATION_HOURS", default=48))
COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR = env.int("COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR", default=3)
COMPLAINT_CONFIRMATIONS_PER_IP_HOUR = env.int("COMPLAINT_CONFIRMATIONS_PER_IP_HOUR", default=10)
# The outgoing number of every letter the ministry sends (notices, refusal letters, decisions on
# attestation, complaint answers): one series for all kinds; with {year} it restarts each year.
OUTGOING_NUMBER_FORMAT = _number_format("OUTGOING_NUMBER_FORMAT", default="ИСХ-{year}-{seq:05d}")
if "{seq" not in OUTGOING_NUMBER_FORMAT or len(OUTGOING_NUMBER_FORMAT.format(year=2026, seq=10**6)) > 40:
    raise ImproperlyConfigured("OUTGOING_NUMBER_FORMAT must contain {seq} and give numbers of at most 40 characters")

# Qualified electronic signatures (core/qes; seed 003 p.16(4), 27.1; 63-FZ art. 11). OpenSSL does the
# cryptography with Debian's GOST engine (libengine-gost-openssl, installed by .ci/system-deps).
QES_OPENSSL = env.str("QES_OPENSSL", default="openssl")
# A certificate that states extended key usages must allow one of these to sign documents.
QES_EXTENDED_KEY_USAGES = env.list(
    "QES_EXTENDED_KEY_USAGES",
    default=[
        "1.3.6.1.5.5.7.3.4",  # e-mail protection: signed documents
        "1.3.6.1.5.5.7.3.2",  # client authentication (every Russian qualified certificate has it)
        "2.5.29.37.0",  # any purpose
        "1.2.643.2.2.34.6",  # user of the certification centre (CryptoPro)
    ],
)
# A qualified certificate names the class of the signature tool (FSB order No. 795): КС1-КС3, КВ1-КВ2, КА1.
QES_CERTIFICATE_POLICIES = env.list("QES_CERTIFICATE_POLICIES", default=[f"1.2.643.100.113.{n}" for n in range(1, 7)])
# How the ministry's documents are signed: a factory given the official, returning a signer
# (core.qes.signer.DocumentSigner) or None when the official has no certificate configured.
QES_SIGNER = env.str("QES_SIGNER", default="core.qes.signer.key_file_signer")
# Every document an official signs must carry their qualified signature; off, a document of an
# official without a configured certificate is issued unsigned (tests of other procedures, demos).
QES_SIGNING_REQUIRED = env.bool("QES_SIGNING_REQUIRED", default=False)
# The staff dashboard warns this many days before an official's certificate, a trusted authority's
# certificate or the registry's signing key expires.
QES_EXPIRY_WARNING_DAYS = env.int("QES_EXPIRY_WARNING_DAYS", default=30)
if QES_EXPIRY_WARNING_DAYS < 1:
    raise ImproperlyConfigured("QES_EXPIRY_WARNING_DAYS must be 1 or more")
# The public verification of a document (page and API): the largest document and signature taken
# (its rate limit per client: API_THROTTLE_SIGNATURE_VERIFY, each check runs OpenSSL).
QES_VERIFY_DOCUMENT_MAX_BYTES = env.int("QES_VERIFY_DOCUMENT_MAX_MB", default=20) * 1024 * 1024
QES_VERIFY_SIGNATURE_MAX_BYTES = 1024 * 1024
# The trusted list the Ministry of Digital Development publishes is tens of megabytes.
QES_TRUSTED_LIST_MAX_BYTES = env.int("QES_TRUSTED_LIST_MAX_MB", default=100) * 1024 * 1024
if min(QES_VERIFY_DOCUMENT_MAX_BYTES, QES_TRUSTED_LIST_MAX_BYTES) < 1024 * 1024:
    raise ImproperlyConfigured("QES_VERIFY_DOCUMENT_MAX_MB and QES_TRUSTED_LIST_MAX_MB must be 1 or more")

# --- Operations of several nodes (README "Several nodes") ---------------------------------------------
# /metrics answers these addresses or networks only (core.metrics); anyone else gets a 404.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
try:
    for _address in METRICS_ALLOWED_ADDRESSES:
        ipaddress.ip_network(_address, strict=False)
except ValueError:
    raise ImproperlyConfigured("METRICS_ALLOWED_ADDRESSES must list IP addresses or networks") from None

# --- Logging ------------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object a line (python-json-logger) with the request id (core.logs) and
# one access line per request; otherwise the human lines of `make run`.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,  # "timestamp": ISO 8601 in UTC, the same on every node
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING" if TESTING else "INFO"},
        # The access line: in JSON (the server's own access log is not); in the human format
        # uvicorn prints its own.
        "sout.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
