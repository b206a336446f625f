from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Платформа")

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_delete, post_save

        from core import calendar, checks  # noqa: F401  (checks registers the database checks)
        from core.admin import admin_text_rule
        from core.models import CalendarDay

        # django.contrib.admin comes first in INSTALLED_APPS: every admin.py is registered by now.
        admin_text_rule(admin.site)

        def _clear(**_kwargs: object) -> None:
            calendar.clear_cache()

        post_save.connect(_clear, sender=CalendarDay, weak=False, dispatch_uid="calendar-clear-save")
        post_delete.connect(_clear, sender=CalendarDay, weak=False, dispatch_uid="calendar-clear-delete")
