"""Wagtail admin: credentials are read-only records; staff revoke with a reason."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from certificates.models import CredentialStatus
from lms.permissions import PROGRAMME_STAFF
from tests.certificates.factories import CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory


@pytest.fixture
def staff_client(client, db):
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    client.force_login(user, backend=MODEL_BACKEND)
    client.user = user
    return client


@pytest.fixture
def credential(learner, certification):
    return CredentialFactory(person=learner, certification=certification)


def test_staff_list_and_revoke_with_reason(staff_client, credential):
    index = staff_client.get(reverse("certificates_admin_credentials:index"))
    assert index.status_code == 200
    assert "Ada Lovelace" in index.content.decode()
    url = reverse("certificates_admin_credentials:revoke", args=[credential.pk])
    assert staff_client.get(url).status_code == 200
    blank = staff_client.post(url, {"reason": "  "})
    assert blank.status_code == 200
    assert "Give a reason" in blank.content.decode()
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ACTIVE
    done = staff_client.post(url, {"reason": "Identity fraud"})
    assert done.status_code == 302
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.REVOKED
    assert credential.revoked_by == staff_client.user


def test_nobody_edits_or_deletes_a_credential_in_the_admin(client, credential, db):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser, backend=MODEL_BACKEND)
    edit = client.get(reverse("certificates_admin_credentials:edit", args=[credential.pk]))
    delete = client.post(reverse("certificates_admin_credentials:delete", args=[credential.pk]))
    add = client.get(reverse("certificates_admin_credentials:add"))
    assert edit.status_code in (302, 403) and add.status_code in (302, 403)
    assert delete.status_code in (302, 403)
    credential.refresh_from_db()  # still there
    inspect = client.get(reverse("certificates_admin_credentials:inspect", args=[credential.pk]))
    assert inspect.status_code == 200


def test_learners_cannot_revoke_in_the_admin(client, credential, learner):
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.post(
        reverse("certificates_admin_credentials:revoke", args=[credential.pk]), {"reason": "x"}
    )
    assert response.status_code in (302, 403)
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ACTIVE


def test_staff_edit_certifications(staff_client, certification):
    response = staff_client.get(
        reverse("certificates_admin_certifications:edit", args=[certification.pk])
    )
    assert response.status_code == 200
