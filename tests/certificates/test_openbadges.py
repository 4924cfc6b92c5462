"""Signed Open Badges 3.0 exports: the eddsa-jcs-2022 proof verifies against the key
the issuer profile publishes, tampering breaks it, revoked credentials are refused.

The verifier here is written independently of certificates.openbadges (stdlib json
and hashlib, `cryptography`, a local base58 decoder), so a bug shared by signer
and verifier cannot make the test pass.
"""

import base64
import copy
import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.core.management import call_command
from django.utils import timezone

from certificates import keys, openbadges
from certificates.models import Credential, CredentialStatus
from tests.certificates.factories import CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

SITE = "https://academy.example"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- an independent eddsa-jcs-2022 verifier ----------------------------------------


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    leading = len(text) - len(text.lstrip("1"))
    return b"\0" * leading + number.to_bytes((number.bit_length() + 7) // 8, "big")


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_from_profile(profile: dict, method_id: str) -> Ed25519PublicKey:
    (method,) = [m for m in profile["verificationMethod"] if m["id"] == method_id]
    assert method["type"] == "Multikey" and method["controller"] == profile["id"]
    assert method_id in profile["assertionMethod"]
    multibase = method["publicKeyMultibase"]
    assert multibase.startswith("z")
    data = b58decode(multibase[1:])
    assert data[:2] == b"\xed\x01" and len(data) == 34  # ed25519-pub multicodec
    return Ed25519PublicKey.from_public_bytes(data[2:])


def verifies(document: dict, public_key: Ed25519PublicKey) -> bool:
    document = copy.deepcopy(document)
    proof = document.pop("proof")
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    proof_value = proof.pop("proofValue")
    if "@context" in proof:
        assert document["@context"][: len(proof["@context"])] == proof["@context"]
        document["@context"] = proof["@context"]
    hash_data = (
        hashlib.sha256(canonical(proof)).digest() + hashlib.sha256(canonical(document)).digest()
    )
    assert proof_value.startswith("z")
    try:
        public_key.verify(b58decode(proof_value[1:]), hash_data)
    except InvalidSignature:
        return False
    return True


# --- fixtures ----------------------------------------------------------------------


@pytest.fixture
def credential(learner, certification):
    return CredentialFactory(person=learner, certification=certification)


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    settings.OPEN_BADGES_SIGNING_KEY = ""
    return settings


def fetch_badge(client, user, credential) -> dict:
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/ld+json")
    return response.json()


def fetch_issuer(client, url: str) -> dict:
    assert url.startswith(SITE)
    client.logout()
    response = client.get(url.removeprefix(SITE))  # public: no sign-in
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    return response.json()


# --- the signature -----------------------------------------------------------------


def test_signature_verifies_with_the_published_key(client, site, credential, learner):
    badge = fetch_badge(client, learner, credential)
    proof = badge["proof"]
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"].endswith("Z")
    method_id = proof["verificationMethod"]
    assert method_id == f"{SITE}/openbadges/issuer#key-1"
    issuer_url = method_id.split("#")[0]
    assert badge["issuer"]["id"] == issuer_url  # the credential names the key's URL

    profile = fetch_issuer(client, issuer_url)
    assert profile["id"] == issuer_url and "Profile" in profile["type"]
    public_key = key_from_profile(profile, method_id)

    assert verifies(badge, public_key)
    assert openbadges.verify_proof(badge, public_key)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda d: d.__setitem__("validUntil", "2099-01-01T00:00:00Z"), id="validUntil"
        ),
        pytest.param(lambda d: d.__setitem__("validFrom", "2000-01-01T00:00:00Z"), id="validFrom"),
        pytest.param(
            lambda d: d["credentialSubject"]["identifier"][0].__setitem__(
                "identityHash", "sha256$" + "0" * 64
            ),
            id="holder",
        ),
        pytest.param(
            lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Architect"),
            id="achievement",
        ),
        pytest.param(lambda d: d["issuer"].__setitem__("name", "Mallory"), id="issuer"),
        pytest.param(
            lambda d: d["proof"].__setitem__("created", "2001-01-01T00:00:00Z"), id="proof-created"
        ),
        pytest.param(lambda d: d.__setitem__("extra", "added"), id="added-field"),
    ],
)
def test_tampering_breaks_the_signature(client, site, credential, learner, tamper):
    badge = fetch_badge(client, learner, credential)
    public_key = key_from_profile(
        fetch_issuer(client, badge["issuer"]["id"]), badge["proof"]["verificationMethod"]
    )
    assert verifies(badge, public_key)
    tampered = copy.deepcopy(badge)
    tamper(tampered)
    assert not verifies(tampered, public_key)
    assert not openbadges.verify_proof(tampered, public_key)


def test_another_key_does_not_verify(client, site, credential, learner):
    badge = fetch_badge(client, learner, credential)
    assert not verifies(badge, Ed25519PrivateKey.generate().public_key())


def test_verify_proof_refuses_malformed_proofs(site, credential):
    badge = openbadges.signed_open_badge_credential(credential)
    public_key = keys.public_key()
    assert openbadges.verify_proof(badge, public_key)
    for broken in (
        {**badge, "proof": "nope"},
        {**badge, "proof": {**badge["proof"], "proofValue": "not-base58!"}},
        {
            **badge,
            "proof": {**badge["proof"], "proofValue": "u" + badge["proof"]["proofValue"][1:]},
        },
        {**badge, "proof": {**badge["proof"], "cryptosuite": "eddsa-rdfc-2022"}},
        {**badge, "@context": ["https://example.com/other"]},
    ):
        assert not openbadges.verify_proof(broken, public_key)
    unsigned = dict(badge)
    del unsigned["proof"]
    assert not openbadges.verify_proof(unsigned, public_key)


def test_page_download_is_signed_too(client, site, credential, learner):
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"/certificates/{credential.public_id}/openbadge.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert verifies(json.loads(response.content), keys.public_key())


# --- required fields ---------------------------------------------------------------


def test_required_open_badges_fields(client, site, credential, learner):
    badge = fetch_badge(client, learner, credential)
    assert "https://www.w3.org/ns/credentials/v2" == badge["@context"][0]
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in badge["@context"]
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(badge["type"])
    assert badge["validFrom"] == credential.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert badge["validUntil"] == credential.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    achievement = badge["credentialSubject"]["achievement"]
    assert achievement["name"] == "Developer"
    assert achievement["description"]
    assert achievement["criteria"]["narrative"]
    assert "Profile" in badge["issuer"]["type"] and badge["issuer"]["name"]
    assert badge["proof"]["@context"] == badge["@context"]
    assert learner.email not in json.dumps(badge)


def test_issuer_profile_is_public_and_cacheable(db, client, site, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/openbadges/issuer")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    profile = response.json()
    assert profile["verificationMethod"][0]["publicKeyMultibase"].startswith("z6Mk")
    assert client.post("/openbadges/issuer").status_code == 405


# --- revoked, expired, access ------------------------------------------------------


def test_revoked_credential_is_refused(client, site, credential, learner):
    Credential.objects.filter(pk=credential.pk).update(
        status=CredentialStatus.REVOKED, revoked_at=timezone.now(), revocation_reason="fraud"
    )
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 410
    assert response.json()["code"] == "credential_revoked"
    page = client.get(f"/certificates/{credential.public_id}/openbadge.json")
    assert page.status_code == 410


def test_expired_credential_is_exported_with_its_past_valid_until(
    client, site, learner, certification
):
    from datetime import timedelta

    past = timezone.now() - timedelta(days=3)
    credential = CredentialFactory(
        person=learner,
        certification=certification,
        issued_at=past - timedelta(days=700),
        expires_at=past,
    )
    badge = fetch_badge(client, learner, credential)
    assert badge["validUntil"] == past.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verifies(badge, keys.public_key())


def test_others_get_404(client, site, credential):
    client.force_login(UserFactory(email="other@example.com"), backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 404
    assert response.json()["code"] == "credential_not_found"
    assert client.get("/api/v1/credentials/not-an-id/openbadge").status_code == 404


# --- the key from settings ---------------------------------------------------------


def test_base64_and_pem_keys_from_settings(client, site, credential, learner):
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for configured in (base64.b64encode(raw).decode(), pem):
        site.OPEN_BADGES_SIGNING_KEY = configured
        badge = fetch_badge(client, learner, credential)
        published = key_from_profile(
            fetch_issuer(client, badge["issuer"]["id"]), badge["proof"]["verificationMethod"]
        )
        assert published.public_bytes_raw() == private.public_key().public_bytes_raw()
        assert verifies(badge, private.public_key())


def test_dev_key_is_deterministic_from_secret_key(site):
    first = keys.public_key_multibase(keys.public_key())
    assert keys.public_key_multibase(keys.public_key()) == first
    site.SECRET_KEY = "another-secret"
    assert keys.public_key_multibase(keys.public_key()) != first


def test_production_without_a_key_answers_503_not_500(client, site, credential, learner):
    site.ENVIRONMENT = "production"
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 503
    assert response.json()["code"] == "openbadge_signing_unavailable"
    assert "OPEN_BADGES_SIGNING_KEY" in response.json()["detail"]
    assert client.get("/openbadges/issuer").status_code == 503
    assert client.get(f"/certificates/{credential.public_id}/openbadge.json").status_code == 503


@pytest.mark.parametrize(
    "configured",
    [
        "not base64 at all!",
        base64.b64encode(b"short").decode(),
        "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n",
    ],
)
def test_unreadable_key_is_a_clear_503_and_a_check_error(
    client, site, credential, learner, configured
):
    site.OPEN_BADGES_SIGNING_KEY = configured
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/credentials/{credential.public_id}/openbadge")
    assert response.status_code == 503
    assert response.json()["code"] == "openbadge_signing_unavailable"
    assert [m.id for m in keys.check_signing_key()] == ["certificates.E001"]


def test_rsa_pem_is_refused(site):
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    site.OPEN_BADGES_SIGNING_KEY = pem
    with pytest.raises(keys.SigningKeyInvalid):
        keys.signing_key()


def test_system_check_is_info_only_in_production(site):
    site.ENVIRONMENT = "production"
    messages = keys.check_signing_key()
    assert [m.id for m in messages] == ["certificates.I001"]
    assert all(m.level < 30 for m in messages)  # below WARNING: check --deploy still passes
    site.ENVIRONMENT = "test"
    assert keys.check_signing_key() == []
    call_command("check")


# --- building blocks ---------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", b"hello world", bytes(range(256))])
def test_base58_round_trip(data):
    assert keys.b58decode(keys.b58encode(data)) == data
    assert b58decode(keys.b58encode(data)) == data


def test_base58_known_vector():
    assert keys.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"


def test_jcs_is_rfc8785_for_our_data():
    value = {"b": [1, True, None, 'é\n"x'], "a": {"d": "", "c": -3}}
    assert openbadges.jcs(value) == '{"a":{"c":-3,"d":""},"b":[1,true,null,"é\\n\\"x"]}'.encode()
    with pytest.raises(TypeError):
        openbadges.jcs({"a": 1.5})


def test_w3c_eddsa_jcs_2022_test_vector():
    """https://www.w3.org/TR/vc-di-eddsa/#representation-eddsa-jcs-2022 (keys, document,
    proof options and the expected proofValue from the specification)."""
    from datetime import UTC, datetime

    secret = keys.multibase_b58_decode("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert secret[:2] == b"\x80\x26"  # ed25519-priv multicodec
    private = Ed25519PrivateKey.from_private_bytes(secret[2:])
    public = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert keys.public_key_multibase(private.public_key()) == public
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    assert hashlib.sha256(openbadges.jcs(document)).hexdigest() == (
        "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
    )
    secured = openbadges.add_proof(
        document,
        key=private,
        verification_method=f"did:key:{public}#{public}",
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC),
    )
    assert secured["proof"]["proofValue"] == (
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
    )
    assert openbadges.verify_proof(secured, keys.public_key_from_multibase(public))
    assert verifies(secured, keys.public_key_from_multibase(public))
