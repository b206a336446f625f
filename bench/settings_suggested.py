"""EXPERIMENT ONLY (``make bench-exam BENCH_ARGS="--settings bench.settings_suggested"``): the
product's settings with the changes suggested in bench/README.md, to measure them before anyone
makes them in config/settings.py:

1. psycopg's connection pool (Django >= 5.1, ``OPTIONS["pool"]``) instead of a new PostgreSQL
   connection per request: under ASGI every request runs in a thread of its own, so CONN_MAX_AGE
   cannot reuse a connection (measured: 200 requests, 200 PostgreSQL sessions); the pool can.
2. one Redis client per process for the cache (and so the cached_db sessions) instead of one per
   request (bench/experiment_cache.py).

1 and 2 have since been made in config/settings.py and core/cache.py (psycopg-pool is pinned in
requirements.txt); here they are harmless repetitions. 3 (below) has not. On a checkout without the
pin, the bench finds psycopg-pool through BENCH_PYTHONPATH (a directory outside the venv)."""

from config.settings import *  # noqa: F403
from config.settings import DATABASES, env

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # required by the pool
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("DB_POOL_MIN", default=4),
            "max_size": env.int("DB_POOL_MAX", default=16),
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        },
    }

if REDIS_URL:  # noqa: F405
    # And one Redis connection pool per process instead of one per request (bench/experiment_cache.py).
    CACHES["default"]["BACKEND"] = "bench.experiment_cache.SharedClientRedisCache"  # noqa: F405

# 3. Celery's Django fixup closes every database connection before and after every task unless
#    CELERY_DB_REUSE_MAX is set (celery/fixups/django.py), and with the pool it closes the pool too:
#    one new PostgreSQL connection per task (measured: 3.4 sessions per finalised attempt).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
