"""What people read for the codes the product stores: the verbs of the audit trail and the states
of its cases. One mapping, used by every page, export and letter that shows an audit line (a raw
code is never shown to a person); a test collects every verb the code writes and fails on one
without a label here (tests/frontend/test_no_raw_codes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

AUDIT_VERBS: dict[str, _StrPromise] = {
    # Accounts
    "account_register": _("Регистрация учётной записи"),
    "email_confirmed": _("Подтверждение адреса электронной почты"),
    "otp_enabled": _("Включение двухфакторного входа"),
    "otp_disabled": _("Отключение двухфакторного входа"),
    # The application (p.15-54)
    "create": _("Создание заявления"),
    "attachment_add": _("Приложение документа"),
    "attachment_remove": _("Удаление документа"),
    "signature_code_sent": _("Отправка кода подписи"),
    "register": _("Регистрация заявления"),
    "refuse_acceptance": _("Отказ в приёме документов"),
    "accept_on_complaint": _("Приём документов по жалобе"),
    "start_review": _("Взятие на рассмотрение"),
    "draft_decision": _("Подготовка проекта решения"),
    "return_draft": _("Возврат проекта на доработку"),
    "entry_correct": _("Исправление сведений заявления"),
    "admit": _("Допуск к испытанию"),
    "refuse": _("Отказ"),
    "reopen_review": _("Возобновление рассмотрения"),
    "decision_cancel": _("Отмена решения"),
    "notice_issued": _("Оформление уведомления"),
    "notice_dispatch": _("Отправка уведомления"),
    "originals_returned": _("Возврат оригиналов документов"),
    "originals_return_cancel": _("Отмена отметки о возврате оригиналов"),
    "letter_corrected": _("Исправление письма"),
    "letter_edition_dispatch": _("Отправка исправленного письма"),
    # The test (p.55-58)
    "sitting_create": _("Назначение сеанса тестирования"),
    "exam_login_created": _("Создание логина системы тестирования"),
    "exam_password_issued": _("Выдача пароля системы тестирования"),
    "exam_password_reissued": _("Повторная выдача пароля системы тестирования"),
    "attempt_start": _("Начало испытания"),
    "finish": _("Завершение испытания"),
    "attempt_interruption": _("Запись перерыва по вине министерства"),
    "attempt_extra_time": _("Добавление времени испытания"),
    "attempt_rescore": _("Пересчёт результата"),
    "question_create": _("Добавление вопроса"),
    "question_edit": _("Изменение вопроса"),
    "question_retire": _("Исключение вопроса из банка"),
    "blueprint_set": _("Изменение структуры теста"),
    # Decisions, certificates, the registry (p.59-64)
    "attestation_decision_draft": _("Проект решения об аттестации"),
    "sign": _("Подписание"),
    "attestation_decision_supersede": _("Замена решения об аттестации новым"),
    "attestation_decision_dispatch": _("Отправка решения об аттестации"),
    "attestation_refusal_cancel": _("Отмена отказа в аттестации"),
    "certificate_issue": _("Выдача сертификата"),
    "certificate_pdf": _("Изготовление сертификата (PDF)"),
    "certificate_handover": _("Вручение сертификата"),
    "certificate_correct": _("Исправление сертификата"),
    "certificate_duplicate_issue": _("Выдача дубликата сертификата"),
    "certificate_edition_replaced_pdf": _("Изготовление заменённого экземпляра сертификата (PDF)"),
    "registry_publish": _("Публикация в реестре"),
    "annulment_request": _("Запрос аннулирования"),
    "confirm": _("Подтверждение"),
    "reject": _("Отклонение"),
    "certificate_annul": _("Аннулирование сертификата"),
    # Appeals and complaints (p.65, p.77-97)
    "appeal_file": _("Подача апелляции"),
    "appeal_duplicates_removed": _("Удаление повторных апелляций"),
    "open_voting": _("Начало голосования комиссии"),
    "appeal_vote": _("Голос члена комиссии"),
    "uphold": _("Удовлетворение"),
    "complaint_file": _("Подача жалобы"),
    "leave_unanswered": _("Оставление без ответа"),
    "complaint_answer": _("Ответ на жалобу"),
    "complaint_answer_dispatch": _("Отправка ответа на жалобу"),
    "complaint_remedy_done": _("Исполнение мер по жалобе"),
    "exam_reminder_send": _("Напоминание об испытании"),
    "complaint_email_confirmed": _("Подтверждение адреса электронной почты жалобы"),
    # Qualified electronic signatures (core/qes)
    "trusted_list_load": _("Загрузка перечня аккредитованных удостоверяющих центров"),
    "revocation_list_load": _("Загрузка списка отзыва сертификатов"),
    "signing_certificate_add": _("Назначение сертификата ключа подписи должностного лица"),
    # Staff opening a file or a document (personal data)
    "file_view": _("Просмотр дела"),
    "file_view_api": _("Просмотр дела через API"),
    "list_view_api": _("Просмотр списка дел через API"),
    "timeline_view_api": _("Просмотр хода дела через API"),
    "criteria_view_api": _("Просмотр критериев допуска через API"),
    "attachment_view": _("Просмотр документа"),
    "signature_view": _("Скачивание подписанного документа или файла подписи"),
    "attachment_download": _("Скачивание документа"),
    "notice_view": _("Просмотр уведомления"),
    "exam_password_api": _("Просмотр пароля системы тестирования через API"),
    "attestation_view": _("Просмотр решения об аттестации"),
    "attestation_pdf_view": _("Просмотр решения об аттестации (PDF)"),
    "appeal_view": _("Просмотр апелляции"),
    "appeal_attachment_view": _("Просмотр документа апелляции"),
    "complaint_view": _("Просмотр жалобы"),
    "complaint_attachment_view": _("Просмотр документа жалобы"),
    "complaint_answer_view": _("Просмотр ответа на жалобу"),
    "annulment_finding_view": _("Просмотр заключения экспертизы"),
    "annulment_basis_view": _("Просмотр основания аннулирования"),
}


def audit_verb_label(verb: str) -> str:
    """The verb as people read it; a verb of an older version without a label stays unnamed rather
    than shown as code."""
    label = AUDIT_VERBS.get(verb)
    return str(label) if label is not None else gettext("Иная операция")


def state_label(model: type[models.Model] | None, state: str) -> str:
    """A stored status of a case as its model's choices name it (the model of an audit line)."""
    if not state:
        return ""
    if model is not None:
        try:
            field = model._meta.get_field("status")
        except FieldDoesNotExist:  # a case without a status field
            field = None
        choices = dict(getattr(field, "flatchoices", None) or ())
        if state in choices:
            return str(choices[state])
    return gettext("иное состояние")
