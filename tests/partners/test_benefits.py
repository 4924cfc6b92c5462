"""Benefits as data and the apps milestone rule (partners.benefits, pure)."""

from decimal import Decimal

import pytest

from partners.benefits import (
    BENEFITS,
    CATEGORIES,
    PartnerStanding,
    app_milestone,
    benefits_for,
)


def slugs(views):
    return {v.slug for v in views}


def test_table_is_complete_and_well_formed():
    assert len({b.slug for b in BENEFITS}) == len(BENEFITS) == 27
    assert {b.category for b in BENEFITS} == set(CATEGORIES)
    assert all(b.unlocks for b in BENEFITS)


@pytest.mark.parametrize("status", ["applicant", "suspended"])
def test_applicants_and_suspended_partners_have_nothing(status):
    have, locked = benefits_for(PartnerStanding(status, frozenset({"services"}), growth=True))
    assert have == [] and len(locked) == len(BENEFITS)


def test_a_partner_gets_the_partner_benefits_only():
    have, locked = benefits_for(PartnerStanding("provisional"))
    assert slugs(have) == {
        "technical_training",
        "marketing_content",
        "deal_registration",
        "sales_enablement",
        "partner_portal",
    }
    badge = next(v for v in locked if v.slug == "verified_badge")
    assert "verification on the apps track" in badge.unlocked_by


def test_verified_embedded_payments_unlocks_revenue_share_and_advisory():
    have, _ = benefits_for(PartnerStanding("active", frozenset({"embedded_payments"})))
    assert {"connect_revenue_share", "marketing_advisory", "verified_badge"} <= slugs(have)
    assert "referral_incentive" not in slugs(have)
    assert "mdf" not in slugs(have)


def test_mdf_needs_services_or_technology_verification_or_growth():
    assert "mdf" in slugs(benefits_for(PartnerStanding("active", frozenset({"services"})))[0])
    assert "mdf" not in slugs(benefits_for(PartnerStanding("active", frozenset({"apps"})))[0])
    assert "mdf" in slugs(benefits_for(PartnerStanding("active", growth=True))[0])


def test_locked_say_what_unlocks_them_and_mark_select_benefits():
    _, locked = benefits_for(PartnerStanding("active"))
    promo = next(v for v in locked if v.slug == "app_marketplace_promotion")
    assert promo.select and "growth milestone" in promo.unlocked_by
    assert "select partners" in promo.unlocked_by


@pytest.mark.parametrize(
    "review, installs, volume, expected",
    [
        (False, 10_000, 0, ""),
        (True, 0, 0, "build"),
        (True, 2_000, 0, "build"),
        (True, 2_001, 0, "growth"),
        (True, 0, Decimal("100000000"), "build"),
        (True, 0, Decimal("100000000.01"), "growth"),
    ],
)
def test_app_milestone(review, installs, volume, expected):
    assert (
        app_milestone(app_review_passed=review, installs=installs, payment_volume_usd=volume)
        == expected
    )
