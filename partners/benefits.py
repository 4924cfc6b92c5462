"""Programme benefits as data, and which a partner has now (pure; no Django).

Contract:
- `BENEFITS` is the seed's benefits table (seed/partner-ecosystem.md, "Benefits
  overview" and "Program benefit details"): category (build, market, sell,
  engage), what unlocks each benefit, and the table's footnote 1 ("available to
  select verified partners and Apps partners who have achieved the Growth
  milestone") as `select=True`.
- The seed text lost the table's tick marks, so the columns were rebuilt from
  the benefit details: "Stripe partner" benefits come with an approved
  (provisional or active) partnership; track-verified benefits with that
  track's verification (at risk still counts: the track stays verified during
  the grace period); apps benefits marked 1 with the growth milestone.
- `benefits_for(standing)` -> (have, locked): `have` lists the benefits unlocked
  now; `locked` lists the others, each with `unlocked_by` in plain words.
  Applicants and suspended partners have none of them.
- `app_milestone(...)` is the apps-track milestone rule: build once the app
  passed review; growth once it passed review and has over 2,000 installs or
  over 100 million USD payment volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

CATEGORIES = ("build", "market", "sell", "engage")
TRACKS = ("apps", "embedded_payments", "services", "technology")
TRACK_LABELS = {
    "apps": "apps",
    "embedded_payments": "embedded payments",
    "services": "services",
    "technology": "technology",
}
APPROVED_STATUSES = frozenset({"provisional", "active"})

GROWTH_INSTALLS = 2_000
GROWTH_PAYMENT_VOLUME_USD = Decimal(100_000_000)

MILESTONE_BUILD = "build"
MILESTONE_GROWTH = "growth"

# Unlock conditions ("any of" them suffices).
PARTNER = "partner"  # an approved partner (provisional or active)
GROWTH = "growth"  # the apps growth milestone
ALL_VERIFIED = tuple(f"verified:{t}" for t in TRACKS)
NON_APPS_VERIFIED = tuple(f"verified:{t}" for t in TRACKS if t != "apps")


def app_milestone(
    *, app_review_passed: bool, installs: int, payment_volume_usd: Decimal | int | float | str
) -> str:
    """ "" (none), "build" or "growth" from the latest recorded figures."""
    if not app_review_passed:
        return ""
    if installs > GROWTH_INSTALLS or Decimal(payment_volume_usd) > GROWTH_PAYMENT_VOLUME_USD:
        return MILESTONE_GROWTH
    return MILESTONE_BUILD


@dataclass(frozen=True)
class Benefit:
    slug: str
    category: str
    name: str
    unlocks: tuple[str, ...]  # any of: PARTNER, GROWTH, "verified:<track>"
    select: bool = False  # footnote 1: select verified partners and growth apps


BENEFITS: tuple[Benefit, ...] = (
    # Build
    Benefit("technical_training", "build", "Technical training and certification", (PARTNER,)),
    Benefit(
        "pm_roundtables",
        "build",
        "Eligible for roundtables with product management",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
    Benefit(
        "project_delivery_kits",
        "build",
        "Project delivery kits, including solution blueprints and templates",
        NON_APPS_VERIFIED,
    ),
    Benefit(
        "investment_funding",
        "build",
        "Eligible for investment funding",
        ("verified:services", "verified:technology"),
        select=True,
    ),
    Benefit("github_access", "build", "GitHub access", ("verified:apps",)),
    Benefit("discord_access", "build", "Discord channel access", ("verified:apps",)),
    Benefit(
        "apps_roadmap_preview", "build", "Apps product roadmap preview", (GROWTH,), select=True
    ),
    # Market
    Benefit(
        "marketing_content",
        "market",
        "Marketing content, campaign assets, how-to guides, and templates",
        (PARTNER,),
    ),
    Benefit(
        "verified_badge",
        "market",
        "Stripe Verified Partner badge and co-branding guidelines",
        ALL_VERIFIED,
    ),
    Benefit("social_media", "market", "Social media highlights", ALL_VERIFIED),
    Benefit(
        "case_studies",
        "market",
        "Eligible for joint customer case studies (by invitation)",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
    Benefit(
        "mdf",
        "market",
        "Eligible to request market development funds (MDF)",
        ("verified:services", "verified:technology", GROWTH),
        select=True,
    ),
    Benefit(
        "marketing_advisory",
        "market",
        "Eligible for marketing advisory workshops and funds",
        ("verified:embedded_payments",),
    ),
    Benefit(
        "directory_listing",
        "market",
        "Amplify your company and solution with a directory listing",
        NON_APPS_VERIFIED,
    ),
    Benefit("app_marketplace_listing", "market", "App Marketplace listing", ("verified:apps",)),
    Benefit(
        "app_marketplace_promotion",
        "market",
        "App Marketplace and Stripe Dashboard promotion",
        (GROWTH,),
        select=True,
    ),
    Benefit("app_marketing_events", "market", "App marketing events", ("verified:apps",)),
    # Sell
    Benefit(
        "deal_registration", "sell", "Deal registration to request co-selling support", (PARTNER,)
    ),
    Benefit("sales_enablement", "sell", "Sales enablement and payments education", (PARTNER,)),
    Benefit(
        "crossbeam",
        "sell",
        "Crossbeam account mapping for joint account planning",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
    Benefit(
        "referral_incentive",
        "sell",
        "Eligible for Referral Incentive",
        ("verified:apps", "verified:services", "verified:technology"),
    ),
    Benefit(
        "connect_revenue_share",
        "sell",
        "Eligible for Stripe Connect revenue share",
        ("verified:embedded_payments",),
    ),
    # Engage
    Benefit("partner_portal", "engage", "Partner portal and partner support", (PARTNER,)),
    Benefit(
        "partner_management",
        "engage",
        "Eligible for partner management",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
    Benefit("partner_awards", "engage", "Eligible for partner awards", ALL_VERIFIED),
    Benefit(
        "speaking",
        "engage",
        "Sponsorship and speaking opportunities at Stripe events",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
    Benefit(
        "partner_hosted_events",
        "engage",
        "Eligible for Stripe participation in partner-hosted online events",
        (*ALL_VERIFIED, GROWTH),
        select=True,
    ),
)

SELECT_NOTE = "Available to select verified partners and Apps partners at the growth milestone."


@dataclass(frozen=True)
class PartnerStanding:
    """What benefits depend on: the partner's status, verified tracks, growth milestone."""

    status: str
    verified_tracks: frozenset[str] = field(default_factory=frozenset)
    growth: bool = False


@dataclass(frozen=True)
class BenefitView:
    slug: str
    category: str
    name: str
    select: bool
    unlocked_by: str  # plain words: what unlocks it (or unlocked it)


def _condition_met(condition: str, standing: PartnerStanding) -> bool:
    if condition == PARTNER:
        return True
    if condition == GROWTH:
        return standing.growth
    return condition.removeprefix("verified:") in standing.verified_tracks


def _describe(condition: str) -> str:
    if condition == PARTNER:
        return "an approved partnership"
    if condition == GROWTH:
        return "the apps growth milestone"
    return f"verification on the {TRACK_LABELS[condition.removeprefix('verified:')]} track"


def describe_unlocks(benefit: Benefit) -> str:
    words = [_describe(c) for c in benefit.unlocks]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return text + (" (select partners)" if benefit.select else "")


def benefits_for(standing: PartnerStanding) -> tuple[list[BenefitView], list[BenefitView]]:
    """(have, locked) in table order; see the module contract."""
    have: list[BenefitView] = []
    locked: list[BenefitView] = []
    approved = standing.status in APPROVED_STATUSES
    for b in BENEFITS:
        view = BenefitView(b.slug, b.category, b.name, b.select, describe_unlocks(b))
        if approved and any(_condition_met(c, standing) for c in b.unlocks):
            have.append(view)
        else:
            locked.append(view)
    return have, locked
