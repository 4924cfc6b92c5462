"""Pure certification rules: no Django, no database, `now` is always passed in.

Contract:
- `credential_status(revoked_at=, expires_at=, now=)` -> "active" | "expired" | "revoked".
  Revocation wins over expiry; a credential is expired from `expires_at` on
  (the stored status may lag until the daily job runs; pages and the API use
  this rule, not the stored column).
- `add_months(moment, months)` keeps the day of month where it exists and
  clamps to the month's last day otherwise (31 Jan + 1 month = 28/29 Feb).
- `renewal_window_opens(expires_at=, window_days=)` and
  `in_renewal_window(now=, expires_at=, window_days=)`: the window is
  `[expires_at - window_days, expires_at)`.
- `renewed_expiry(expires_at=, validity_months=)`: renewal extends from the
  current expiry, never from the renewal date (no one loses time by renewing early).
- `reminder_due(expires_at=, now=, kinds=)` -> the reminder kind (days before
  expiry) that applies now, or None. Only the most urgent applicable kind is
  due, so a job that catches up after downtime sends one reminder (the 30-day
  one 20 days before expiry), not a burst of 90 + 30.
- `add_to_profile_url(...)`: the LinkedIn "add certification" link.
"""

import calendar
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

Status = Literal["active", "expired", "revoked"]

ACTIVE: Status = "active"
EXPIRED: Status = "expired"
REVOKED: Status = "revoked"

REMINDER_KINDS = (90, 30, 7)
VALIDITY_MONTHS = 24
RENEWAL_WINDOW_DAYS = 180

ADD_TO_PROFILE_BASE = "https://www.linkedin.com/profile/add"


def credential_status(
    *, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> Status:
    if revoked_at is not None:
        return REVOKED
    if now >= expires_at:
        return EXPIRED
    return ACTIVE


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(*, issued_at: datetime, validity_months: int) -> datetime:
    return add_months(issued_at, validity_months)


def renewal_window_opens(*, expires_at: datetime, window_days: int) -> datetime:
    return expires_at - timedelta(days=window_days)


def in_renewal_window(*, now: datetime, expires_at: datetime, window_days: int) -> bool:
    return renewal_window_opens(expires_at=expires_at, window_days=window_days) <= now < expires_at


def renewed_expiry(*, expires_at: datetime, validity_months: int) -> datetime:
    return add_months(expires_at, validity_months)


def reminder_due(
    *, expires_at: datetime, now: datetime, kinds: tuple[int, ...] = REMINDER_KINDS
) -> int | None:
    if now >= expires_at:
        return None
    left = expires_at - now
    due = [kind for kind in kinds if left <= timedelta(days=kind)]
    return min(due) if due else None


def add_to_profile_url(
    *,
    name: str,
    issuer: str,
    issued_at: datetime,
    expires_at: datetime | None,
    url: str,
    credential_id: str,
) -> str:
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": issuer,
        "issueYear": issued_at.year,
        "issueMonth": issued_at.month,
    }
    if expires_at is not None:
        params["expirationYear"] = expires_at.year
        params["expirationMonth"] = expires_at.month
    params["certUrl"] = url
    params["certId"] = credential_id
    return f"{ADD_TO_PROFILE_BASE}?{urlencode(params)}"
