"""Track status roll-up: the "N certified individuals" rule as one pure function.

Contract:
- No Django, no database, no clock. Callers load the records (the track's rule
  and technical verification, the partner's memberships and its members'
  credentials) and pass `now`. Every datetime must be timezone-aware (a naive
  one raises ValueError); results are returned in UTC.
- Spans are half-open and an end of None means open-ended: a membership covers
  t when ``started <= t < ended``; a credential is valid at t when
  ``issued_at <= t < expires_at`` and it is not revoked at t (``revoked_at <= t``).
- A person counts at t when a membership covers t and they hold a credential of
  a counting certification valid at t. People are counted once, however many
  credentials or memberships they hold.
- verified = technical verification passed and current (``now < expires_at``)
  AND (count >= required OR at risk) AND the partner is neither suspended nor
  terminated (`partner_status`); a suspended or terminated partner's count,
  verification and lapse date are still reported, with no grace deadline.
- At risk: the current shortfall began at a moment D <= now when the count fell
  from >= required to < required, the fall was not caused by a revocation at D
  (would the count have stayed >= required had the revocations at D not
  happened? then it was), and now < D + grace_days. `at_risk_until` is that
  deadline; it is reported from the count alone, like `lapses_on`, so the
  dashboard can show it while the technical verification is being redone.
- lapses_on (only when count >= required): the first moment the count would fall
  below required if nobody renews and nobody new joins or certifies, from each
  current holder's recorded end (credential expiry, a membership end or a
  revocation already on record).
- Cost: one sort of the change points (membership starts/ends, credential
  issue/expiry/revocation), O(n log n) in the number of records.

Worked cases: tests/testdata/partner-rollup.json.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Literal

DEFAULT_REQUIRED = 2
DEFAULT_GRACE_DAYS = 60

VerificationState = Literal["passed", "expired", "failed", "missing"]
TrackState = Literal["verified", "at_risk", "not_verified"]
EndKind = Literal["expiry", "membership_end", "revocation"]

# Stable reason codes (kept in status history and shown by the API).
REASON_VERIFIED = "verified"
REASON_AT_RISK = "at_risk"
REASON_VERIFICATION_MISSING = "verification_missing"
REASON_VERIFICATION_FAILED = "verification_failed"
REASON_VERIFICATION_EXPIRED = "verification_expired"
REASON_TOO_FEW_CERTIFIED = "too_few_certified"
REASON_REVOKED = "revoked"
REASON_GRACE_ENDED = "grace_ended"
REASON_PARTNER_SUSPENDED = "partner_suspended"
REASON_PARTNER_TERMINATED = "partner_terminated"
# Programme statuses in which a partner is verified on no track, whatever its records.
NOT_IN_GOOD_STANDING = frozenset({"suspended", "terminated"})


def _require_aware(value: datetime | None, name: str) -> None:
    # `tzinfo is UTC` first: what the database returns, and far cheaper than
    # utcoffset() for the 350,000 spans of a recompute of 10,000 partners.
    if (
        value is not None
        and value.tzinfo is not UTC
        and (value.tzinfo is None or value.utcoffset() is None)
    ):
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class TrackRule:
    """Per-track settings: how many certified individuals, the grace, what counts."""

    counting_certifications: frozenset[Hashable]
    required: int = DEFAULT_REQUIRED
    grace_days: int = DEFAULT_GRACE_DAYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "counting_certifications", frozenset(self.counting_certifications))
        if self.required < 0:
            raise ValueError("required must be >= 0")
        if self.grace_days < 0:
            raise ValueError("grace_days must be >= 0")

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.grace_days)


@dataclass(frozen=True)
class TechnicalVerification:
    """The track's latest technical verification: "passed", "failed" or None (none yet).

    Any other status (e.g. "pending") is treated as no passed verification on record.
    """

    status: str | None
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.expires_at, "expires_at")

    def state_at(self, now: datetime) -> VerificationState:
        if self.status == "passed":
            if self.expires_at is not None and self.expires_at <= now:
                return "expired"
            return "passed"
        if self.status == "failed":
            return "failed"
        return "missing"


@dataclass(frozen=True, slots=True)
class MemberSpan:
    """One membership of `person` in the partner: [started, ended)."""

    person: Hashable
    started: datetime
    ended: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.started, "started")
        _require_aware(self.ended, "ended")

    def covers(self, t: datetime) -> bool:
        return self.started <= t and (self.ended is None or t < self.ended)


@dataclass(frozen=True, slots=True)
class CredentialSpan:
    """One credential held by `person`: valid on [issued_at, min(expires_at, revoked_at))."""

    person: Hashable
    certification: Hashable
    issued_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.issued_at, "issued_at")
        _require_aware(self.expires_at, "expires_at")
        _require_aware(self.revoked_at, "revoked_at")

    def valid_at(self, t: datetime) -> bool:
        return (
            self.issued_at <= t
            and (self.expires_at is None or t < self.expires_at)
            and (self.revoked_at is None or t < self.revoked_at)
        )

    def _end(self) -> tuple[datetime | None, EndKind]:
        """When validity ends and why; a revocation at or after expiry changes nothing."""
        if self.revoked_at is not None and (
            self.expires_at is None or self.revoked_at < self.expires_at
        ):
            return self.revoked_at, "revocation"
        return self.expires_at, "expiry"


@dataclass(frozen=True)
class HolderForecast:
    """A current certified individual and when they stop counting if nothing changes."""

    person: Hashable
    counts_until: datetime | None  # None: no end on record
    ends_by: EndKind | None


@dataclass(frozen=True)
class TrackStatus:
    state: TrackState
    verified: bool
    certified_individuals: int
    required: int
    technical_verification: VerificationState
    at_risk_until: datetime | None
    lapses_on: datetime | None
    # When the current shortfall began (the count fell below `required`); None if
    # the count is not below required or never reached it.
    below_required_since: datetime | None
    renewals_that_matter: tuple[HolderForecast, ...] = field(default=())
    reason: str = ""
    explanation: str = ""


def certified_count_at(
    t: datetime,
    members: Iterable[MemberSpan],
    credentials: Iterable[CredentialSpan],
    rule: TrackRule,
) -> int:
    """Distinct people who count at instant `t` (direct O(n) check, no history)."""
    _require_aware(t, "t")
    current = {m.person for m in members if m.covers(t)}
    return len(
        {
            c.person
            for c in credentials
            if c.person in current
            and c.certification in rule.counting_certifications
            and c.valid_at(t)
        }
    )


# Change-point kinds.
_JOIN, _LEAVE, _ISSUE, _EXPIRE, _REVOKE = range(5)


@dataclass(frozen=True)
class _Sweep:
    count: int
    below_since: datetime | None
    fall_by_revocation: bool
    holders: tuple[HolderForecast, ...]  # in order of counts_until, open-ended last


def _sweep(
    now: datetime,
    rule: TrackRule,
    members: Iterable[MemberSpan],
    credentials: Iterable[CredentialSpan],
) -> _Sweep:
    """Walk the change points in time order.

    Up to `now`: keep the count and the start of the current shortfall. After
    `now`: follow only the people counting at `now` until each stops counting.
    """
    index: dict[Hashable, int] = {}
    people: list[Hashable] = []

    def pid(person: Hashable) -> int:
        i = index.get(person)
        if i is None:
            i = index[person] = len(people)
            people.append(person)
        return i

    events: list[tuple[datetime, int, int]] = []
    for m in members:
        if m.ended is not None and m.ended <= m.started:
            continue  # empty span
        i = pid(m.person)
        events.append((m.started, _JOIN, i))
        if m.ended is not None:
            events.append((m.ended, _LEAVE, i))
    for c in credentials:
        if c.certification not in rule.counting_certifications:
            continue
        end, kind = c._end()
        if end is not None and end <= c.issued_at:
            continue  # never valid
        i = pid(c.person)
        events.append((c.issued_at, _ISSUE, i))
        if end is not None:
            events.append((end, _REVOKE if kind == "revocation" else _EXPIRE, i))
    events.sort(key=itemgetter(0))  # stable; never compares people

    n = len(people)
    memberships = [0] * n
    valid_creds = [0] * n
    count = count_at_now = 0
    below_since: datetime | None = None
    fall_by_revocation = False
    pending: set[int] | None = None  # holders at `now`, once the sweep passes it
    ends: dict[int, tuple[datetime, EndKind]] = {}
    required = rule.required

    pos = 0
    total = len(events)
    while pos < total:
        t = events[pos][0]
        if pending is None and t > now:
            pending = {i for i in range(n) if memberships[i] and valid_creds[i]}
            count_at_now = count
        if pending is not None and not pending:
            break
        before = count
        touched: list[int] = []
        revoked: set[int] = set()
        while pos < total and events[pos][0] == t:
            _, event_kind, i = events[pos]
            was = memberships[i] > 0 and valid_creds[i] > 0
            if event_kind == _JOIN:
                memberships[i] += 1
            elif event_kind == _LEAVE:
                memberships[i] -= 1
            elif event_kind == _ISSUE:
                valid_creds[i] += 1
            else:
                valid_creds[i] -= 1
                if event_kind == _REVOKE:
                    revoked.add(i)
            count += (memberships[i] > 0 and valid_creds[i] > 0) - was
            touched.append(i)
            pos += 1
        if pending is None:
            if before >= required > count:
                below_since = t.astimezone(UTC)  # grace is added in UTC, not wall-clock
                # Caused by a revocation when undoing the revocations at t would
                # have kept the count at or above required.
                restored = sum(1 for i in revoked if memberships[i] and not valid_creds[i])
                fall_by_revocation = count + restored >= required
            elif count >= required:
                below_since = None
                fall_by_revocation = False
        else:
            for i in touched:
                if i in pending and not (memberships[i] and valid_creds[i]):
                    pending.discard(i)
                    if not memberships[i]:
                        ends[i] = (t, "membership_end")
                    elif i in revoked:
                        ends[i] = (t, "revocation")
                    else:
                        ends[i] = (t, "expiry")

    if pending is None:  # every change point is at or before `now`
        holders_now = [i for i in range(n) if memberships[i] and valid_creds[i]]
        count_at_now = count
    else:
        holders_now = [i for i in range(n) if i in pending or i in ends]

    ended_holders = sorted((i for i in holders_now if i in ends), key=lambda i: (ends[i][0], i))
    open_holders = [i for i in holders_now if i not in ends]
    holders = tuple(
        HolderForecast(people[i], ends[i][0].astimezone(UTC), ends[i][1]) for i in ended_holders
    ) + tuple(HolderForecast(people[i], None, None) for i in sorted(open_holders))
    return _Sweep(
        count=count_at_now,
        below_since=below_since,
        fall_by_revocation=fall_by_revocation,
        holders=holders,
    )


def _lapse(sweep: _Sweep, required: int) -> tuple[datetime | None, tuple[HolderForecast, ...]]:
    """When the count first drops below required, and the holders ending by then."""
    if required <= 0 or sweep.count < required:
        return None, ()
    # The count drops below required once (count - required + 1) holders stop.
    lapses_on = sweep.holders[sweep.count - required].counts_until
    if lapses_on is None:
        return None, ()
    matter = tuple(
        h for h in sweep.holders if h.counts_until is not None and h.counts_until <= lapses_on
    )
    return lapses_on, matter


def people_whose_renewal_matters(
    *,
    now: datetime,
    rule: TrackRule,
    members: Iterable[MemberSpan],
    credentials: Iterable[CredentialSpan],
) -> tuple[HolderForecast, ...]:
    """Current holders who stop counting on or before `lapses_on`, earliest first.

    Pushing any of these ends later (renewing, or not leaving) moves the lapse
    date; `ends_by` says whether it is an expiry, a membership end or a revocation.
    Empty when the count is already below required or nothing on record ends it.
    """
    _require_aware(now, "now")
    return _lapse(_sweep(now, rule, members, credentials), rule.required)[1]


RENEWAL_HORIZON_DAYS = 180  # renewal opens 180 days before expiry (docs/product-rules.md)


@dataclass(frozen=True)
class RenewalDue:
    """A current holder whose credential's expiry would take the track below required."""

    person: Hashable
    certification: Hashable  # the counting certification whose expiry ends their count
    expires_at: datetime


def renewals_that_matter(
    *,
    now: datetime,
    rule: TrackRule,
    members: Iterable[MemberSpan],
    credentials: Iterable[CredentialSpan],
    horizon_days: int = RENEWAL_HORIZON_DAYS,
) -> tuple[RenewalDue, ...]:
    """The renewals that keep the track at `required` over the next `horizon_days`.

    If nobody renews and nobody joins or certifies, the count first drops below
    `required` at `lapses_on`, when the (count - required + 1)-th current
    holder stops counting. A holder's expiry "takes the track below required"
    when it comes on or before that moment: renewing any one of them moves the
    lapse later. Listed only when the lapse falls within `horizon_days` of
    `now` (so each listed expiry does too), soonest first.
    Ends that are not expiries (a recorded membership end or a revocation)
    count towards the drop but are not renewals, so they are not listed; a
    track already below required lists nobody. `certification` is the
    counting certification whose expiry ends that person's count (the later
    one when they hold several; the smaller name on a tie).
    """
    _require_aware(now, "now")
    if horizon_days < 0:
        raise ValueError("horizon_days must be >= 0")
    credentials = list(credentials)
    lapses_on, matter = _lapse(_sweep(now, rule, members, credentials), rule.required)
    if lapses_on is None or lapses_on > now + timedelta(days=horizon_days):
        return ()
    due = []
    for h in matter:
        if h.ends_by != "expiry" or h.counts_until is None:
            continue
        ending = [
            c.certification
            for c in credentials
            if c.person == h.person
            and c.certification in rule.counting_certifications
            and c._end() == (h.counts_until, "expiry")
        ]
        certification = min(ending, key=str) if ending else None
        due.append(RenewalDue(h.person, certification, h.counts_until))
    return tuple(due)


def _when(t: datetime) -> str:
    t = t.astimezone(UTC)
    if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0):
        return t.date().isoformat()
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _people(n: int) -> str:
    return f"{n} certified individual{'' if n == 1 else 's'}"


def track_status(
    *,
    now: datetime,
    rule: TrackRule,
    verification: TechnicalVerification | None,
    members: Iterable[MemberSpan],
    credentials: Iterable[CredentialSpan],
    partner_status: str = "active",
) -> TrackStatus:
    """The track's status at `now` from the records alone (see the module contract)."""
    _require_aware(now, "now")
    sweep = _sweep(now, rule, members, credentials)
    count, required = sweep.count, rule.required
    tv = verification.state_at(now) if verification is not None else "missing"

    enough = count >= required
    at_risk_until = None
    if not enough and sweep.below_since is not None and not sweep.fall_by_revocation:
        deadline = sweep.below_since + rule.grace
        if now < deadline:
            at_risk_until = deadline.astimezone(UTC)
    lapses_on, matter = _lapse(sweep, required)

    tv_ok = tv == "passed"
    verified = tv_ok and (enough or at_risk_until is not None)
    state: TrackState = ("verified" if enough else "at_risk") if verified else "not_verified"

    have = f"{_people(count)} ({required} required)"
    if tv == "missing":
        reason, text = REASON_VERIFICATION_MISSING, "no passed technical verification on record"
    elif tv == "failed":
        reason, text = REASON_VERIFICATION_FAILED, "the technical verification failed"
    elif tv == "expired":
        assert verification is not None and verification.expires_at is not None
        reason = REASON_VERIFICATION_EXPIRED
        text = f"the technical verification expired on {_when(verification.expires_at)}"
    elif enough:
        reason, text = REASON_VERIFIED, f"{have} and a current technical verification"
    elif at_risk_until is not None:
        assert sweep.below_since is not None
        reason = REASON_AT_RISK
        text = (
            f"certified individuals fell to {count} ({required} required) on "
            f"{_when(sweep.below_since)}; verified until {_when(at_risk_until)} "
            f"unless the count is back to {required}"
        )
    elif sweep.below_since is not None and sweep.fall_by_revocation:
        reason = REASON_REVOKED
        text = (
            f"certified individuals fell to {count} ({required} required) on "
            f"{_when(sweep.below_since)} because a credential was revoked; "
            "no grace period after a revocation"
        )
    elif sweep.below_since is not None:
        reason = REASON_GRACE_ENDED
        text = (
            f"certified individuals fell to {count} ({required} required) on "
            f"{_when(sweep.below_since)}; the {rule.grace_days}-day grace period ended on "
            f"{_when(sweep.below_since + rule.grace)}"
        )
    else:
        reason, text = REASON_TOO_FEW_CERTIFIED, f"only {have}"

    if not tv_ok:
        text = f"{text}; {have}"
        if at_risk_until is not None:
            text = f"{text}, grace for the shortfall until {_when(at_risk_until)}"
    if lapses_on is not None:
        text = f"{text}; drops below {required} on {_when(lapses_on)} unless someone renews"
    if partner_status in NOT_IN_GOOD_STANDING:
        verified, state, at_risk_until = False, "not_verified", None
        reason = (
            REASON_PARTNER_SUSPENDED if partner_status == "suspended" else REASON_PARTNER_TERMINATED
        )
        text = f"the partner is {partner_status}; {have}"
    label = {"verified": "Verified", "at_risk": "At risk", "not_verified": "Not verified"}[state]

    return TrackStatus(
        state=state,
        verified=verified,
        certified_individuals=count,
        required=required,
        technical_verification=tv,
        at_risk_until=at_risk_until,
        lapses_on=lapses_on,
        below_required_since=sweep.below_since,
        renewals_that_matter=matter,
        reason=reason,
        explanation=f"{label}: {text}.",
    )
