from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AdminConfig(admin_apps.AdminConfig):
    """The admin (in INSTALLED_APPS instead of django.contrib.admin) is django-otp's OTPAdminSite
    on the product's sign-in (core.accounts.TwoFactorAdminSite): a session verified by TOTP only.
    The staff pages ask the code only of those who turned TOTP on; the admin, of everyone."""

    default = False  # core's own config is CoreConfig
    default_site = "core.accounts.TwoFactorAdminSite"


class CoreConfig(AppConfig):
    default = True  # of the two configs here, the one of "core"
    name = "core"
    verbose_name = _("Платформа")

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_delete, post_save

        from core import calendar, checks, db, logs, metrics, randomness, site  # noqa: F401  (checks registers the database checks)
        from core.admin import admin_text_rule
        from core.models import CalendarDay

        # The admin (core.apps.AdminConfig) comes first in INSTALLED_APPS: every admin.py is
        # registered by now.
        admin_text_rule(admin.site)

        def _clear(**_kwargs: object) -> None:
            calendar.clear_cache()

        randomness.install()
        db.install_fork_hook()
        site.served_on.connect()
        logs.request_id.connect()
        metrics.scrape_register(metrics.core_scrape)
        post_save.connect(_clear, sender=CalendarDay, weak=False, dispatch_uid="calendar-clear-save")
        post_delete.connect(_clear, sender=CalendarDay, weak=False, dispatch_uid="calendar-clear-delete")
