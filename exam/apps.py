from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamConfig(AppConfig):
    name = "exam"
    verbose_name = _("Заявления, допуск и испытание")

    def ready(self) -> None:
        from core.services import deadline_kind_register
        from exam.admission.selectors import (
            DEADLINE_DECISION,
            DEADLINE_NOTICE,
            DEADLINE_ORIGINALS_RETURN,
            DEADLINE_REGISTRATION,
            DEADLINE_TRANSFER,
        )

        deadline_kind_register(DEADLINE_REGISTRATION, _("регистрация заявления (п. 25)"))
        deadline_kind_register(DEADLINE_TRANSFER, _("передача заявления в департамент (п. 46)"))
        deadline_kind_register(DEADLINE_DECISION, _("решение о допуске (п. 12 «а»)"))
        deadline_kind_register(DEADLINE_NOTICE, _("информирование о решении (п. 12 «б»)"))
        deadline_kind_register(DEADLINE_ORIGINALS_RETURN, _("возврат бумажных документов после отказа (п. 54)"))

        from core.metrics import scrape_register
        from exam.testing.selectors import finalisation_scrape

        scrape_register(finalisation_scrape)
