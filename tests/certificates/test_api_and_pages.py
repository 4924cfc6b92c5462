"""Verification (page and API), holder endpoints, downloads, revocation over HTTP."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from certificates import selectors
from certificates.models import Credential, CredentialStatus
from lms.permissions import PROGRAMME_STAFF
from tests.certificates.factories import CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

PUBLIC_FIELDS = {
    "id",
    "holder_name",
    "certification",
    "issuer",
    "issued_at",
    "expires_at",
    "status",
    "revoked_at",
    "revocation_reason",
}


@pytest.fixture
def credential(learner, certification):
    return CredentialFactory(person=learner, certification=certification)


@pytest.fixture
def staff(db):
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get_or_create(name=PROGRAMME_STAFF)[0])
    return user


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


# --- public verification ---------------------------------------------------------------


def test_api_verification_has_exactly_the_public_fields(client, credential):
    response = client.get(f"/api/v1/credentials/{credential.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["id"] == credential.public_id
    assert body["holder_name"] == "Ada Lovelace"
    assert body["certification"] == "Developer"
    assert body["issuer"] == "Partner Academy"
    assert body["status"] == "active"
    assert body["revoked_at"] is None and body["revocation_reason"] is None
    assert "learner@example.com" not in response.content.decode()


def test_expired_shows_expired_before_the_job_ran(client, credential):
    Credential.objects.filter(pk=credential.pk).update(
        issued_at=timezone.now() - timedelta(days=800),
        expires_at=timezone.now() - timedelta(days=1),
    )
    assert client.get(f"/api/v1/credentials/{credential.public_id}").json()["status"] == "expired"
    page = client.get(f"/verify/{credential.public_id}")
    assert "This credential has expired" in page.content.decode()


@pytest.mark.parametrize(
    "bad_id",
    [
        "nope",
        "A" * 24,  # well-formed, unknown
        "1",
        "%00" * 10,
        "' OR 1=1 --aaaaaaaaaaaaaaaa",
        "x" * 500,
        "ä" * 24,
    ],
)
def test_unknown_or_malformed_ids_are_404_without_hints(client, credential, bad_id):
    api = client.get(f"/api/v1/credentials/{bad_id}")
    assert api.status_code == 404
    assert api.json() == {"detail": "No such credential.", "code": "credential_not_found"}
    assert client.get(f"/verify/{bad_id}").status_code == 404


def test_prefix_of_a_real_id_is_404(client, credential):
    assert client.get(f"/api/v1/credentials/{credential.public_id[:-1]}").status_code == 404
    assert client.get(f"/verify/{credential.public_id.lower()}").status_code in (404, 200)


def test_verification_page_shows_holder_and_status(client, credential):
    response = client.get(f"/verify/{credential.public_id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace" in html and "Developer" in html and "This credential is valid" in html
    assert "learner@example.com" not in html


def test_verification_page_escapes_the_name(client, credential):
    credential.holder_name = "<script>alert(1)</script>"
    credential.save()
    html = client.get(f"/verify/{credential.public_id}").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_verification_page_query_count_is_flat(client, certification, django_assert_num_queries):
    credentials = [CredentialFactory(certification=certification) for _ in range(3)]
    for credential in (credentials[0], credentials[-1]):
        with django_assert_num_queries(1):
            client.get(f"/api/v1/credentials/{credential.public_id}")


# --- revocation over HTTP ----------------------------------------------------------------


def test_staff_revokes_with_reason_and_everything_says_so(client, credential, staff):
    login(client, staff)
    response = client.post(
        f"/api/v1/credentials/{credential.public_id}/revoke",
        {"reason": "Exam content shared"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    client.logout()
    body = client.get(f"/api/v1/credentials/{credential.public_id}").json()
    assert body["status"] == "revoked"
    assert body["revocation_reason"] == "Exam content shared"
    assert body["revoked_at"]
    html = client.get(f"/verify/{credential.public_id}").content.decode()
    assert "This credential was revoked" in html and "Exam content shared" in html


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "   "}])
def test_revoke_without_reason_is_422(client, credential, staff, payload):
    login(client, staff)
    response = client.post(
        f"/api/v1/credentials/{credential.public_id}/revoke",
        payload,
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ACTIVE


def test_revoke_bad_payloads_are_4xx(client, credential, staff):
    login(client, staff)
    url = f"/api/v1/credentials/{credential.public_id}/revoke"
    assert client.post(url, {"reason": 5}, content_type="application/json").status_code == 422
    assert (
        client.post(url, {"reason": "x" * 5000}, content_type="application/json").status_code == 422
    )
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert (
        client.post(url, {"reason": "ok", "x": 1}, content_type="application/json").status_code
        == 422
    )


def test_revoke_twice_is_409(client, credential, staff):
    login(client, staff)
    url = f"/api/v1/credentials/{credential.public_id}/revoke"
    client.post(url, {"reason": "fraud"}, content_type="application/json")
    response = client.post(url, {"reason": "again"}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "already_revoked"


def test_only_staff_revoke(client, credential, learner):
    login(client, learner)
    response = client.post(
        f"/api/v1/credentials/{credential.public_id}/revoke",
        {"reason": "I want to"},
        content_type="application/json",
    )
    assert response.status_code == 403
    client.logout()
    assert (
        client.post(
            f"/api/v1/credentials/{credential.public_id}/revoke",
            {"reason": "x"},
            content_type="application/json",
        ).status_code
        == 401
    )


# --- holder endpoints ----------------------------------------------------------------------


def test_my_credentials_api(client, credential, learner):
    CredentialFactory()  # someone else's
    login(client, learner)
    body = client.get("/api/v1/me/credentials").json()["data"]
    assert [row["id"] for row in body] == [credential.public_id]
    assert body[0]["pdf_url"] == f"/api/v1/credentials/{credential.public_id}/pdf"
    assert "linkedin.com/profile/add" in body[0]["add_to_profile_url"]


def test_my_certifications_page(client, credential, learner, django_assert_max_num_queries):
    login(client, learner)
    response = client.get("/certificates/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Developer" in html
    assert f"/certificates/{credential.public_id}/pdf" in html
    assert "linkedin.com/profile/add" in html
    assert f"/certificates/{credential.public_id}/openbadge.json" in html


def test_my_certifications_needs_sign_in(client):
    assert client.get("/certificates/").status_code == 302


def test_my_certifications_query_count_is_flat(client, learner, django_assert_num_queries):
    from tests.certificates.factories import CertificationFactory

    login(client, learner)
    CredentialFactory(person=learner, certification=CertificationFactory())
    with django_assert_num_queries(3) as small:
        client.get("/api/v1/me/credentials")
    for _ in range(4):
        CredentialFactory(person=learner, certification=CertificationFactory())
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/api/v1/me/credentials")


def test_holder_downloads_pdf_and_renders_once(client, credential, learner, monkeypatch):
    login(client, learner)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    from certificates import pdf

    def no_render(_):
        raise AssertionError("rendered again")

    monkeypatch.setattr(pdf, "render_certificate_pdf", no_render)
    page = client.get(f"/certificates/{credential.public_id}/pdf")
    assert page.status_code == 200
    assert b"".join(page.streaming_content).startswith(b"%PDF-")


def test_others_get_404_for_pdf_and_openbadge(client, credential):
    login(client, UserFactory())
    for url in (
        f"/api/v1/credentials/{credential.public_id}/pdf",
        f"/api/v1/credentials/{credential.public_id}/openbadge",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "credential_not_found"
    assert client.get(f"/certificates/{credential.public_id}/pdf").status_code == 404


def test_staff_may_download(client, credential, staff):
    login(client, staff)
    assert client.get(f"/api/v1/credentials/{credential.public_id}/openbadge").status_code == 200


def test_revoked_pdf_is_not_offered(client, credential, learner):
    Credential.objects.filter(pk=credential.pk).update(
        status=CredentialStatus.REVOKED, revoked_at=timezone.now(), revocation_reason="fraud"
    )
    login(client, learner)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/pdf")
    assert response.status_code == 410 and response.json()["code"] == "credential_revoked"
    assert client.get(f"/certificates/{credential.public_id}/pdf").status_code == 410
    assert (
        f"/certificates/{credential.public_id}/pdf"
        not in client.get("/certificates/").content.decode()
    )


def test_openbadge_export(client, credential, learner, settings):
    settings.SITE_URL = "https://academy.example"
    login(client, learner)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    doc = response.json()
    assert "https://www.w3.org/ns/credentials/v2" in doc["@context"]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["id"] == f"https://academy.example/verify/{credential.public_id}"
    assert doc["issuer"]["name"] == "Partner Academy"
    assert doc["validFrom"].startswith(str(credential.issued_at.year))
    assert doc["validUntil"].startswith(str(credential.expires_at.year))
    achievement = doc["credentialSubject"]["achievement"]
    assert achievement["name"] == "Developer" and "Achievement" in achievement["type"]
    assert learner.email not in response.content.decode()
    identity = doc["credentialSubject"]["identifier"][0]
    assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")
    page = client.get(f"/certificates/{credential.public_id}/openbadge.json")
    assert page.status_code == 200 and page.json()["id"] == doc["id"]


def test_verification_url_uses_site_url(settings, credential):
    settings.SITE_URL = "https://academy.example"
    assert selectors.verification_url(credential.public_id) == (
        f"https://academy.example/verify/{credential.public_id}"
    )
