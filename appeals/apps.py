from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    """Appeals against test results and complaints against officials (issue 5)."""

    name = "appeals"
    verbose_name = _("Апелляции и жалобы")
