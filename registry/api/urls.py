from django.urls import path

from registry.api import views

app_name = "registry-api"

urlpatterns = [
    path("registry/experts/", views.ExpertListApi.as_view(), name="experts"),
    path("registry/certificates/<str:number>/", views.CertificateApi.as_view(), name="certificate"),
    path(
        "registry/certificates/<str:number>/status-on/",
        views.CertificateStatusOnApi.as_view(),
        name="certificate-status-on",
    ),
    path("registry/keys/", views.KeyListApi.as_view(), name="keys"),
    path("registry/verify/", views.VerifyApi.as_view(), name="verify"),
    path("registry/open-data.<str:fmt>", views.OpenDataApi.as_view(), name="open-data"),
    path("registry/changes/", views.ChangesApi.as_view(), name="changes"),
]
