"""The admin of the reference lists: an area of activity is never deleted (the certificates issued
with it would silently lose it); one no longer used is unticked."""

from django.contrib import admin

from registry.models import AreaOfActivity
from tests.conftest import verified_client_for


def test_an_area_of_activity_cannot_be_deleted_in_the_admin(certificate):
    from core.models import User

    root = User.objects.create_superuser("root@mintrud.test", "correct-horse-battery-9", last_name="Root")
    area = certificate.areas.first()
    client = verified_client_for(root)
    assert client.get(f"/admin/registry/areaofactivity/{area.pk}/change/").status_code == 200
    assert client.post(f"/admin/registry/areaofactivity/{area.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        "/admin/registry/areaofactivity/", {"action": "delete_selected", "_selected_action": [area.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert AreaOfActivity.objects.filter(pk=area.pk).exists()
    assert set(certificate.areas.values_list("code", flat=True)) == {"01", "02"}
    assert "delete_selected" not in admin.site._registry[AreaOfActivity].get_actions(response.wsgi_request)


def test_an_area_no_longer_in_use_is_unticked_and_offered_for_no_new_certificate(certificate):
    from registry.forms import CertificateIssueForm

    area = certificate.areas.first()
    AreaOfActivity.objects.filter(pk=area.pk).update(active=False)
    assert area not in CertificateIssueForm().fields["areas"].queryset
    assert area in certificate.areas.all()
