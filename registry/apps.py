from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Attestation decisions, expert certificates, the public registry and annulment."""

    name = "registry"
    verbose_name = _("Сертификаты и реестр экспертов")

    def ready(self) -> None:
        from core.services import deadline_kind_register
        from registry.selectors import (
            DEADLINE_CERTIFICATE,
            DEADLINE_DECISION,
            DEADLINE_DECISION_DISPATCH,
            DEADLINE_PUBLISH,
        )

        deadline_kind_register(DEADLINE_DECISION, _("решение по результатам испытания (п. 12 «в»)"))
        deadline_kind_register(DEADLINE_CERTIFICATE, _("оформление и выдача сертификата (п. 12 «в»)"))
        deadline_kind_register(
            DEADLINE_DECISION_DISPATCH, _("направление решения по результатам аттестации (п. 12 «в», п. 64)")
        )
        deadline_kind_register(DEADLINE_PUBLISH, _("внесение в реестр экспертов (п. 63)"))

        from exam.admission.stages import stage_provider_register, timeline_provider_register
        from exam.models import Attempt
        from exam.signals import attempt_finished, attempt_result_changed
        from registry import receivers
        from registry.selectors import attestation_stages, attestation_timeline

        stage_provider_register(attestation_stages)
        timeline_provider_register(attestation_timeline)

        attempt_finished.connect(receivers.on_attempt_finished, sender=Attempt, dispatch_uid="registry.finished")
        attempt_result_changed.connect(
            receivers.on_attempt_result_changed, sender=Attempt, dispatch_uid="registry.result_changed"
        )
