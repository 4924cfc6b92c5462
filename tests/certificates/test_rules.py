from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from certificates import rules

T = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (T, 1, datetime(2025, 2, 28, 12, 0, tzinfo=UTC)),
        (T, 24, datetime(2027, 1, 31, 12, 0, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 24, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 11, 15, tzinfo=UTC), 2, datetime(2025, 1, 15, tzinfo=UTC)),
    ],
)
def test_add_months(moment, months, expected):
    assert rules.add_months(moment, months) == expected


@pytest.mark.parametrize(
    ("revoked_at", "now", "expected"),
    [
        (None, T - timedelta(seconds=1), "active"),
        (None, T, "expired"),
        (T - timedelta(days=400), T - timedelta(days=1), "revoked"),
        (T - timedelta(days=1), T + timedelta(days=1), "revoked"),
    ],
)
def test_status(revoked_at, now, expected):
    assert rules.credential_status(revoked_at=revoked_at, expires_at=T, now=now) == expected


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(181, False), (180, True), (1, True), (0, False), (-5, False)],
)
def test_renewal_window(days_before, expected):
    now = T - timedelta(days=days_before)
    assert rules.in_renewal_window(now=now, expires_at=T, window_days=180) is expected


def test_renewal_extends_from_current_expiry():
    assert rules.renewed_expiry(expires_at=T, validity_months=24) == datetime(
        2027, 1, 31, 12, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(120, None), (90, 90), (60, 90), (30, 30), (20, 30), (7, 7), (1, 7), (0, None), (-3, None)],
)
def test_reminder_due_is_the_most_urgent_kind(days_left, expected):
    assert rules.reminder_due(expires_at=T, now=T - timedelta(days=days_left)) == expected


def test_add_to_profile_url_carries_name_issuer_dates_url_and_id():
    url = rules.add_to_profile_url(
        name="Developer & Co",
        issuer="Partner Academy",
        issued_at=T,
        expires_at=datetime(2027, 1, 31, tzinfo=UTC),
        url="https://academy.example/verify/abc",
        credential_id="abc",
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == "www.linkedin.com"
    assert query["name"] == ["Developer & Co"]
    assert query["organizationName"] == ["Partner Academy"]
    assert query["issueYear"] == ["2025"] and query["issueMonth"] == ["1"]
    assert query["expirationYear"] == ["2027"] and query["expirationMonth"] == ["1"]
    assert query["certUrl"] == ["https://academy.example/verify/abc"]
    assert query["certId"] == ["abc"]
