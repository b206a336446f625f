from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Attestation decisions, expert certificates, the public registry and annulment (issue 4)."""

    name = "registry"
    verbose_name = _("Сертификаты и реестр экспертов")
