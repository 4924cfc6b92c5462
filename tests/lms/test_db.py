"""lms.db.c_timestamp_loader: the same values as Django's loader, only faster."""

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from lms.db import bulk_insert, c_timestamp_loader
from partners.models import Membership
from tests.partners.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_rows_read_inside_are_the_rows_read_outside(django_assert_num_queries):
    now = timezone.now()
    MembershipFactory(started=now - timedelta(days=3), ended=now - timedelta(microseconds=1))
    MembershipFactory(started=now)
    rows = Membership.objects.order_by("pk").values_list("started", "ended")
    plain = list(rows.all())
    with django_assert_num_queries(1), c_timestamp_loader():
        fast = list(rows.all())
    assert fast == plain
    assert [type(t) for row in fast for t in row] == [type(t) for row in plain for t in row]
    assert {t.tzinfo for row in fast for t in row if t} == {UTC}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_on_postgresql_the_cursor_uses_psycopgs_loader():
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.adapters.types["timestamptz"].oid
    with c_timestamp_loader(), connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        cursor.fetchone()
        assert cursor.cursor.adapters.get_loader(oid, Format.TEXT) is psycopg.adapters.get_loader(
            oid, Format.TEXT
        )
    with connection.cursor() as cursor:  # and only inside
        assert cursor.cursor.adapters.get_loader(oid, Format.TEXT) is not (
            psycopg.adapters.get_loader(oid, Format.TEXT)
        )


NOW = timezone.now()


def _record(partner, track, now=NOW, **kwargs):
    from partners.models import TrackStatusRecord

    values = {
        "state": "verified",
        "verified": True,
        "certified_individuals": 3,
        "required": 2,
        "technical_verification": "passed",
        "lapses_on": now + timedelta(days=40),
        "renewals_that_matter": [
            {
                "person": 7,
                "counts_until": now.isoformat(),
                "ends_by": 'a "quote" \\ and a backslash',
            }
        ],
        "reason": "verified",
        "explanation": 'Verified: tabs\there, "quotes", back\\slashes,\nand lines.',
        "computed_at": now,
        "changed_at": now,
    }
    return TrackStatusRecord(partner=partner, track=track, **(values | kwargs))


def test_bulk_insert_stores_what_bulk_create_stores(django_assert_num_queries):
    from partners.models import TrackStatusRecord
    from tests.partners.factories import PartnerFactory

    copied, created = PartnerFactory(), PartnerFactory()
    fields = [
        f.name for f in TrackStatusRecord._meta.concrete_fields if f.name not in ("id", "partner")
    ]
    with django_assert_num_queries(1):
        bulk_insert([_record(copied, "technology"), _record(copied, "apps", at_risk_until=None)])
    TrackStatusRecord.objects.bulk_create(
        [_record(created, "technology"), _record(created, "apps", at_risk_until=None)]
    )
    rows = TrackStatusRecord.objects.order_by("track").values_list(*fields)
    assert list(rows.filter(partner=copied)) == list(rows.filter(partner=created))
    assert len(rows.filter(partner=copied)) == 2


def test_bulk_insert_errors_are_djangos_and_input_is_checked():
    from django.db import IntegrityError, transaction
    from django.db.models.functions import Now

    from tests.partners.factories import PartnerFactory

    partner = PartnerFactory()
    bulk_insert([_record(partner, "technology")])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([_record(partner, "technology")])  # one record per track
    saved = _record(partner, "services")
    saved.save()
    with pytest.raises(ValueError):
        bulk_insert([saved])
    if connection.vendor == "postgresql":  # COPY takes values only (bulk_create elsewhere)
        with pytest.raises(ValueError):
            bulk_insert([_record(partner, "apps", computed_at=Now())])
