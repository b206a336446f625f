from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    """Appeals against test results and complaints against officials."""

    name = "appeals"
    verbose_name = _("Апелляции и жалобы")

    def ready(self) -> None:
        from appeals.selectors import (
            DEADLINE_APPEAL,
            DEADLINE_COMPLAINT,
            DEADLINE_COMPLAINT_ANSWER,
            DEADLINE_COMPLAINT_REGISTRATION,
            DEADLINE_COMPLAINT_REMEDY,
            remedy_stages,
        )
        from core.services import deadline_kind_register
        from exam.admission.stages import stage_provider_register

        deadline_kind_register(DEADLINE_APPEAL, _("рассмотрение апелляции (п. 12 «в»: 3 месяца)"))
        deadline_kind_register(DEADLINE_COMPLAINT_REGISTRATION, _("регистрация жалобы (п. 86)"))
        deadline_kind_register(DEADLINE_COMPLAINT, _("рассмотрение жалобы (п. 87)"))
        deadline_kind_register(DEADLINE_COMPLAINT_ANSWER, _("ответ на жалобу (п. 93)"))
        deadline_kind_register(DEADLINE_COMPLAINT_REMEDY, _("меры по удовлетворённой жалобе (п. 89)"))
        stage_provider_register(remedy_stages)

        from appeals.receivers import on_certificate_issued
        from registry.models import Certificate
        from registry.signals import certificate_issued

        certificate_issued.connect(on_certificate_issued, sender=Certificate, dispatch_uid="appeals.certificate_issued")
