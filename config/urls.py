import os

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import health, metrics
from core.api_views import api_not_found
from frontend import views as frontend_views

urlpatterns = [
    # First: the exam room's API (the answer save is the busiest URL of a sitting; patterns are
    # tried in order).
    path("api/v1/", include("exam.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The node's health for the balancer (core.health) and its metrics for monitoring (core.metrics).
    path("health/", health.NodeHealthView.as_view(), name="health"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("core.api_urls")),
    path("api/v1/", include("registry.api.urls")),
    # Any other address under /api/ answers the API's JSON 404, not the site's HTML page.
    re_path(r"^api/", api_not_found),
    path("", include("frontend.urls")),
]

# The bench's reference endpoint (bench/README.md): only when the bench starts the server.
if os.environ.get("BENCH_ENDPOINTS") == "1":
    urlpatterns.insert(0, path("bench/", include("bench.urls")))

handler400 = frontend_views.error_400
handler403 = frontend_views.error_403
handler404 = frontend_views.error_404
handler500 = frontend_views.error_500
