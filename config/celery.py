import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sout")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


if os.environ.get("LOG_FORMAT") == "json":
    from celery.signals import setup_logging

    @setup_logging.connect(weak=False)
    def _json_logging(**_kwargs: object) -> None:
        """The worker logs as the web nodes do (JSON lines with the request id of the request that
        enqueued the task, core.logs), not in Celery's own format."""
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)
