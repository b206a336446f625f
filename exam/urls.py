from django.urls import path

from exam.admission.api import views
from exam.testing.api import views as exam_views

app_name = "exam-api"

urlpatterns = [
    # The exam room first (signed in with the testing-system credentials of the admission notice):
    # its answer save is the busiest URL of a sitting.
    path("exam/login/", exam_views.ExamLoginApi.as_view(), name="exam-login"),
    path("exam/attempt/", exam_views.AttemptApi.as_view(), name="exam-attempt"),
    path("exam/attempt/start/", exam_views.AttemptStartApi.as_view(), name="exam-start"),
    path("exam/attempt/answers/<int:position>/", exam_views.AnswerApi.as_view(), name="exam-answer"),
    path("exam/attempt/events/", exam_views.EventApi.as_view(), name="exam-events"),
    path("exam/attempt/submit/", exam_views.SubmitApi.as_view(), name="exam-submit"),
    path("exam/attempt/clock/", exam_views.ClockApi.as_view(), name="exam-clock"),
    path("applications/", views.ApplicationListApi.as_view(), name="applications"),
    path("applications/<int:pk>/", views.ApplicationDetailApi.as_view(), name="application"),
    path("applications/<int:pk>/attachments/", views.AttachmentListApi.as_view(), name="attachments"),
    path(
        "applications/<int:pk>/attachments/<int:attachment_id>/",
        views.AttachmentDetailApi.as_view(),
        name="attachment",
    ),
    path("applications/<int:pk>/signature-code/", views.SignatureCodeApi.as_view(), name="signature-code"),
    path("applications/<int:pk>/submit/", views.ApplicationSubmitApi.as_view(), name="submit"),
    path(
        "applications/<int:pk>/signing-document/",
        views.ApplicationSigningDocumentApi.as_view(),
        name="signing-document",
    ),
    path(
        "applications/<int:pk>/submit-qualified/",
        views.ApplicationSubmitQualifiedApi.as_view(),
        name="submit-qualified",
    ),
    path("applications/<int:pk>/timeline/", views.ApplicationTimelineApi.as_view(), name="timeline"),
    path("applications/<int:pk>/criteria/", views.ApplicationCriteriaApi.as_view(), name="criteria"),
    path("applications/<int:pk>/start-review/", views.ApplicationStartReviewApi.as_view(), name="start-review"),
    path("applications/<int:pk>/decisions/", views.DecisionCreateApi.as_view(), name="decisions"),
    path("applications/<int:pk>/exam-password/", views.ExamPasswordApi.as_view(), name="exam-password"),
    path("decisions/<int:pk>/sign/", views.DecisionSignApi.as_view(), name="decision-sign"),
    path("decisions/<int:pk>/return/", views.DecisionReturnApi.as_view(), name="decision-return"),
    path("review/queue/", views.ReviewQueueApi.as_view(), name="review-queue"),
    path("sittings/", views.SittingListApi.as_view(), name="sittings"),
]
