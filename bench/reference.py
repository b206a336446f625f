"""The bare reference endpoint of ``make bench-exam``: one upsert, nothing else, on the same stack
(the same uvicorn, middleware, Django thread-per-request and PostgreSQL) as the answer save.

Mounted at ``/bench/`` only when the environment has ``BENCH_ENDPOINTS=1`` (config/urls.py). The
table is created by the bench setup (``bench.setup_db``) with raw SQL; it is not a Django model."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_reference_kv"
CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    k text PRIMARY KEY,
    answer jsonb NOT NULL,
    seq bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""
UPSERT_SQL = f"""
INSERT INTO {TABLE} (k, answer, seq, updated_at) VALUES (%s, %s, %s, now())
ON CONFLICT (k) DO UPDATE SET answer = EXCLUDED.answer, seq = EXCLUDED.seq, updated_at = now()
RETURNING seq
"""


@csrf_exempt
def upsert(request: HttpRequest, key: str) -> HttpResponse:
    """PUT {"answer": [...], "seq": n}: store it under ``key`` (one statement, autocommit)."""
    if request.method != "PUT":
        return JsonResponse({"error": "PUT only"}, status=405)
    try:
        data = json.loads(request.body)
        answer = [int(a) for a in data["answer"]]
        seq = int(data["seq"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad body"}, status=400)
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, [key[:100], json.dumps(answer), seq])
        (stored,) = cursor.fetchone()
    return JsonResponse({"k": key, "seq": stored})


def ping(request: HttpRequest) -> HttpResponse:
    """Readiness probe of the bench (no database)."""
    return HttpResponse("ok", content_type="text/plain")
