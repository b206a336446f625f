import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sout")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect(weak=False)
def _yield_to_the_app_servers(**_kwargs: object) -> None:
    """The worker runs at a lower CPU priority than the app servers (WORKER_NICE, the processes of
    its pool inherit it): on a machine that serves both, what a sitting's end sets going (the
    scoring of hundreds of attempts a minute, their decisions drafted) takes the CPU the candidates
    still answering leave, rather than slowing their answers (bench/README.md). It is not starved:
    Linux gives a process niced by 10 about a tenth of a contended core, and all of an idle one."""
    from django.conf import settings

    if settings.WORKER_NICE:
        os.nice(settings.WORKER_NICE)


if os.environ.get("LOG_FORMAT") == "json":
    from celery.signals import setup_logging

    @setup_logging.connect(weak=False)
    def _json_logging(**_kwargs: object) -> None:
        """The worker logs as the web nodes do (JSON lines with the request id of the request that
        enqueued the task, core.logs), not in Celery's own format."""
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)
