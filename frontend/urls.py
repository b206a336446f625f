from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from frontend.views import accounts, bank, cabinet, exam_room, public, staff

app_name = "frontend"

urlpatterns = [
    path("", public.home, name="home"),
    path("questions/", exam_room.public_questions, name="public_questions"),
    path("practice/", exam_room.practice, name="practice"),
    # The exam room (testing-system credentials of the admission notice)
    path("exam/", exam_room.exam_login, name="exam_login"),
    path("exam/room/", exam_room.exam_room, name="exam_room"),
    path("exam/logout/", exam_room.exam_logout, name="exam_logout"),
    # Accounts
    path("accounts/register/", accounts.register, name="register"),
    path("accounts/confirm/<str:token>/", accounts.confirm_email, name="confirm_email"),
    path("accounts/login/", accounts.login_view, name="login"),
    path("accounts/login/otp/", accounts.login_otp, name="login_otp"),
    path("accounts/logout/", accounts.logout_view, name="logout"),
    path("accounts/2fa/", accounts.otp_setup, name="otp_setup"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="frontend/auth/password_reset.html",
            email_template_name="frontend/auth/password_reset_email.txt",
            subject_template_name="frontend/auth/password_reset_subject.txt",
            success_url=reverse_lazy("frontend:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="frontend/auth/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="frontend/auth/password_reset_confirm.html",
            success_url=reverse_lazy("frontend:login"),
        ),
        name="password_reset_confirm",
    ),
    # Cabinet
    path("cabinet/", cabinet.cabinet, name="cabinet"),
    path("cabinet/notifications/", cabinet.notifications, name="notifications"),
    path("cabinet/applications/new/", cabinet.application_new, name="cabinet_application_new"),
    path("cabinet/applications/<int:pk>/", cabinet.application_detail, name="cabinet_application"),
    path("cabinet/applications/<int:pk>/edit/", cabinet.application_edit, name="cabinet_application_edit"),
    path("cabinet/applications/<int:pk>/sign/", cabinet.application_sign, name="cabinet_application_sign"),
    path("cabinet/applications/<int:pk>/attachments/", cabinet.attachment_add, name="cabinet_attachment_add"),
    path(
        "cabinet/applications/<int:pk>/attachments/<int:attachment_id>/",
        cabinet.attachment_download,
        name="cabinet_attachment",
    ),
    path(
        "cabinet/applications/<int:pk>/attachments/<int:attachment_id>/delete/",
        cabinet.attachment_delete,
        name="cabinet_attachment_delete",
    ),
    path("cabinet/applications/<int:pk>/notice.pdf", cabinet.notice_pdf, name="cabinet_notice_pdf"),
    path("cabinet/applications/<int:pk>/exam-password/", cabinet.exam_password, name="cabinet_exam_password"),
    # Staff
    path("staff/", staff.dashboard, name="staff_dashboard"),
    path("staff/review/", staff.review_queue, name="staff_review_queue"),
    path("staff/signing/", staff.signing_queue, name="staff_signing_queue"),
    path("staff/journal/", staff.journal, name="staff_journal"),
    path("staff/paper/new/", staff.paper_new, name="staff_paper_new"),
    path("staff/sittings/", staff.sittings, name="staff_sittings"),
    path("staff/audit/", staff.audit, name="staff_audit"),
    path("staff/applications/<int:pk>/", staff.application_file, name="staff_application"),
    path("staff/applications/<int:pk>/take/", staff.application_take, name="staff_application_take"),
    path("staff/applications/<int:pk>/decision/", staff.decision_draft, name="staff_decision_draft"),
    path("staff/applications/<int:pk>/notice.pdf", staff.notice_pdf, name="staff_notice_pdf"),
    path("staff/applications/<int:pk>/exam-password/", staff.exam_password, name="staff_exam_password"),
    path(
        "staff/applications/<int:pk>/attachments/<int:attachment_id>/",
        staff.attachment_download,
        name="staff_attachment",
    ),
    path("staff/bank/", bank.bank_index, name="bank"),
    path("staff/bank/questions/new/", bank.question_edit, name="bank_question_new"),
    path("staff/bank/questions/<int:pk>/", bank.question_edit, name="bank_question"),
    path("staff/bank/import/", bank.bank_import, name="bank_import"),
    path("staff/bank/export.<str:fmt>", bank.bank_export, name="bank_export"),
    path("staff/bank/blueprint/", bank.blueprint_save, name="bank_blueprint"),
    path("staff/bank/statistics/", bank.item_statistics, name="bank_stats"),
    path("staff/sittings/<int:pk>/monitor/", bank.sitting_monitor, name="sitting_monitor"),
    path("staff/attempts/<int:pk>/extra-time/", bank.attempt_extra_time, name="attempt_extra_time"),
    path("staff/decisions/<int:pk>/sign/", staff.decision_sign, name="staff_decision_sign"),
    path("staff/decisions/<int:pk>/return/", staff.decision_return, name="staff_decision_return"),
]
