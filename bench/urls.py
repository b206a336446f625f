"""URLs of the bench endpoints, included by config/urls.py only with BENCH_ENDPOINTS=1."""

from django.urls import path

from bench import reference

urlpatterns = [
    path("ping/", reference.ping, name="bench-ping"),
    path("ref/<str:key>/", reference.upsert, name="bench-ref"),
]
