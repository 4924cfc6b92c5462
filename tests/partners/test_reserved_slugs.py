"""Words the partner pages use under /partners/ can never be a partner's slug."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver

from lms.errors import DomainError
from partners.membership import services
from partners.models import Partner
from partners.rules import RESERVED_SLUGS, is_reserved_slug


def _routes(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def fixed_first_segments_under_partners() -> set[str]:
    """The literal first path segment of every route below /partners/."""
    words = set()
    for route in _routes(get_resolver().url_patterns):
        if not route.startswith("partners/"):
            continue
        rest = route.removeprefix("partners/")
        first = rest.split("/", 1)[0]
        if first and "<" not in first:
            words.add(first.split(".", 1)[0])  # "partners.csv" under staff/ is not first
    return words


def test_the_urlconf_has_partner_routes_to_check():
    words = fixed_first_segments_under_partners()
    assert {"apply", "directory", "staff", "invitations"} <= words


def test_every_fixed_segment_under_partners_is_reserved():
    missing = fixed_first_segments_under_partners() - RESERVED_SLUGS
    assert not missing, f"add {sorted(missing)} to partners.rules.RESERVED_SLUGS"


@pytest.mark.parametrize("word", sorted(RESERVED_SLUGS))
def test_reserved_words_are_refused_by_the_service(db, word):
    with pytest.raises(DomainError) as refused:
        services.partner_create(name="Some Company", slug=word)
    assert refused.value.code == "slug_reserved" and refused.value.status == 400
    assert not Partner.objects.filter(slug=word).exists()


def test_a_name_that_slugifies_to_a_reserved_word_is_refused(db):
    with pytest.raises(DomainError) as refused:
        services.partner_create(name="Directory")
    assert refused.value.code == "slug_reserved"
    assert not Partner.objects.exists()


def test_the_model_refuses_them_too(db):
    partner = Partner(name="Staff Inc", slug="staff")
    with pytest.raises(ValidationError) as refused:
        partner.full_clean()
    assert "slug" in refused.value.error_dict


def test_the_check_ignores_case_and_spaces_but_not_other_words():
    assert is_reserved_slug(" Directory ")
    assert not is_reserved_slug("directory-partners")
    assert not is_reserved_slug("northwind")


def test_the_apply_form_refuses_a_reserved_name(client, db):
    from tests.lms.factories import MODEL_BACKEND, UserFactory

    from .portal_factories import AgreementFactory

    agreement = AgreementFactory()
    client.force_login(UserFactory(), backend=MODEL_BACKEND)
    response = client.post(
        "/partners/apply/",
        {
            "name": "Apply",
            "tracks": ["technology"],
            "agreement_version": agreement.version,
            "accept_agreement": "on",
            "restricted_business": "on",
        },
    )
    assert response.status_code == 400
    assert b"word the partner pages use" in response.content
    assert not Partner.objects.filter(slug="apply").exists()
