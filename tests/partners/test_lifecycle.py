"""The programme lifecycle service: transitions, history, signal, e-mails,
requirements, re-reviews, suspension semantics and the daily job's edges."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from certificates.rules import add_months
from lms.errors import DomainError
from partners import signals
from partners.applications import services as applications
from partners.lifecycle import services as lifecycle
from partners.lifecycle.selectors import partner_status_history, rereview_queue
from partners.models import (
    AgreementAcceptance,
    Partner,
    PartnerDeadlineReminder,
    PartnerReReview,
    PartnerStatusChange,
    TrackStatusRecord,
)
from partners.status import services as status
from partners.status.selectors import partner_status_overview
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.courses.factories import CoursePageFactory, EnrolmentFactory
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerAdminFactory, PartnerFactory, PartnerTrackFactory
from .portal_factories import AgreementFactory, submit_application
from .status_factories import TechnicalVerificationFactory

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def agreement():
    return applications.agreement_current()  # version 1.0, seeded by a migration


@pytest.fixture
def provisional(agreement, staff_user):
    """An approved applicant: provisional, agreement and attestation done."""
    application = submit_application(name="Acme", slug="acme")
    approved_at = timezone.now() - 10 * DAY
    applications.application_approve(
        application=application, decided_by=staff_user, now=approved_at
    )
    partner = Partner.objects.get(slug="acme")
    return partner, application.applicant


def complete_business_foundations(person):
    course = CoursePageFactory(title="Business Foundations", slug="business-foundations")
    return EnrolmentFactory(person=person, course=course, completed_at=timezone.now())


def stored(partner):
    return Partner.objects.get(pk=partner.pk)


# --- transitions ---------------------------------------------------------------


def test_approval_is_a_transition_with_history_and_a_deadline(provisional, staff_user):
    partner, admin = provisional
    assert partner.status == "provisional"
    change = PartnerStatusChange.objects.get(partner=partner)
    assert (change.from_status, change.to_status, change.by, change.rule) == (
        "applicant",
        "provisional",
        staff_user,
        "",
    )
    assert partner.provisional_deadline == add_months(change.at, 6)


def test_provisional_months_is_a_setting(agreement, staff_user, settings):
    settings.PARTNER_PROVISIONAL_MONTHS = 3
    application = submit_application(name="Short", slug="short")
    now = timezone.now()
    applications.application_approve(application=application, decided_by=staff_user, now=now)
    assert stored(application.partner).provisional_deadline == add_months(now, 3)


def test_suspension_sends_the_signal_inside_the_transaction_and_mails_admins_after_commit(
    staff_user, django_capture_on_commit_callbacks
):
    partner = PartnerFactory(status="active")
    admin = PartnerAdminFactory(partner=partner).person
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    signals.partner_status_changed.connect(receiver, dispatch_uid="test-lifecycle")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.partner_transition(
                partner=partner, to="suspended", reason="Unpaid invoices", by=staff_user
            )
            assert len(heard) == 1 and not mail.outbox  # sent before commit, mailed after
    finally:
        signals.partner_status_changed.disconnect(dispatch_uid="test-lifecycle")
    sent = heard[0]
    assert sent["partner"] == partner and sent["from_state"] == "active"
    assert sent["to_state"] == "suspended" and sent["reason"] == "Unpaid invoices"
    assert sent["by"] == staff_user and sent["at"] is not None
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "Unpaid invoices" in mail.outbox[0].body
    partner = stored(partner)
    assert (partner.status, partner.suspended_from, partner.suspension_cause) == (
        "suspended",
        "active",
        "staff",
    )


def test_reinstating_returns_to_the_state_suspended_from(provisional, staff_user):
    partner, _ = provisional
    lifecycle.partner_transition(partner=partner, to="suspended", reason="Check", by=staff_user)
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_transition(partner=partner, to="active", by=staff_user)
    assert refused.value.code == "invalid_transition" and refused.value.status == 409
    new_deadline = timezone.now() + 60 * DAY
    lifecycle.partner_transition(
        partner=partner, to="provisional", by=staff_user, deadline=new_deadline
    )
    partner = stored(partner)
    assert partner.status == "provisional" and partner.provisional_deadline == new_deadline
    assert partner.suspended_from == ""


@pytest.mark.parametrize(
    ("start", "to", "reason", "code", "status_code"),
    [
        ("terminated", "active", "", "invalid_transition", 409),
        ("terminated", "suspended", "x", "invalid_transition", 409),
        ("active", "suspended", "", "reason_required", 422),
        ("active", "suspended", "   ", "reason_required", 422),
        ("active", "terminated", "", "reason_required", 422),
        ("active", "provisional", "", "invalid_transition", 409),
        ("active", "suspended", "x" * 2001, "reason_too_long", 422),
        ("active", "nonsense", "", "invalid_transition", 409),
    ],
)
def test_refused_transitions_change_nothing(staff_user, start, to, reason, code, status_code):
    partner = PartnerFactory(status=start)
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_transition(partner=partner, to=to, reason=reason, by=staff_user)
    assert (refused.value.code, refused.value.status) == (code, status_code)
    assert stored(partner).status == start
    assert not PartnerStatusChange.objects.exists()
    assert not mail.outbox


def test_a_reinstatement_deadline_in_the_past_is_refused(staff_user):
    partner = PartnerFactory(status="active")
    lifecycle.partner_transition(partner=partner, to="suspended", reason="x", by=staff_user)
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_transition(
            partner=partner, to="active", by=staff_user, deadline=timezone.now() - DAY
        )
    assert refused.value.code == "invalid_deadline"
    assert stored(partner).status == "suspended"


def test_history_newest_first_at_most_50_with_person_or_rule(staff_user):
    partner = PartnerFactory(status="active")
    now = timezone.now()
    for i in range(30):
        lifecycle.partner_transition(
            partner=partner, to="suspended", reason=f"r{i}", by=staff_user, now=now + i * DAY
        )
        lifecycle.partner_transition(partner=partner, to="active", by=staff_user, now=now + i * DAY)
    lifecycle.partner_transition(
        partner=partner, to="suspended", rule="rereview_overdue", reason="late", now=now + 40 * DAY
    )
    history = partner_status_history(partner=partner)
    assert len(history) == 50
    assert history[0].by_kind == "rule" and history[0].by_name == "Re-review overdue"
    assert history[1].by_kind == "person" and history[1].by_name == staff_user.display_name
    assert [h.at for h in history] == sorted((h.at for h in history), reverse=True)


# --- suspension semantics ---------------------------------------------------------


def test_suspension_unverifies_every_track_and_turns_benefits_off_reinstating_restores(
    staff_user, django_capture_on_commit_callbacks
):
    developer = CertificationFactory(slug="developer")
    partner = PartnerFactory(status="active")
    PartnerTrackFactory(partner=partner, track="technology")
    TechnicalVerificationFactory(partner=partner, track="technology")
    people = [MembershipFactory(partner=partner).person for _ in range(2)]
    for person in people:
        CredentialFactory(person=person, certification=developer)
    status.partner_status_recompute(partner=partner)
    assert TrackStatusRecord.objects.get(partner=partner).verified

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.partner_transition(partner=partner, to="suspended", reason="x", by=staff_user)
    record = TrackStatusRecord.objects.get(partner=partner)
    assert (record.verified, record.state, record.reason) == (
        False,
        "not_verified",
        "partner_suspended",
    )
    overview = partner_status_overview(partner=stored(partner))
    assert overview.benefits_have == []
    assert partner.memberships.filter(ended__isnull=True).count() == 2  # untouched

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.partner_transition(partner=partner, to="active", by=staff_user)
    record = TrackStatusRecord.objects.get(partner=partner)
    assert record.verified and record.state == "verified"
    assert partner_status_overview(partner=stored(partner)).benefits_have


# --- the provisional requirements ---------------------------------------------------


def test_staff_confirmation_and_business_foundations_activate_at_once(
    provisional, staff_user, django_capture_on_commit_callbacks
):
    partner, admin = provisional
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.partner_payments_account_confirm(partner=partner, by=staff_user)
    assert stored(partner).status == "provisional"  # Business Foundations missing
    assert not lifecycle.partner_payments_account_confirm(partner=partner, by=staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        enrolment = complete_business_foundations(admin)
        signals_course_completed(enrolment)
    partner = stored(partner)
    assert partner.status == "active" and partner.activated_at is not None
    assert partner.rereview_due_at == add_months(partner.activated_at, 12)
    change = PartnerStatusChange.objects.filter(partner=partner).first()
    assert (change.to_status, change.rule, change.by) == ("active", "requirements_met", None)


def signals_course_completed(enrolment):
    from courses.signals import course_completed

    course_completed.send(sender=type(enrolment), enrolment=enrolment)


def test_a_member_who_already_completed_business_foundations_joining_completes_it(
    provisional, staff_user, django_capture_on_commit_callbacks
):
    partner, _ = provisional
    lifecycle.partner_payments_account_confirm(partner=partner, by=staff_user)
    person = UserFactory()
    complete_business_foundations(person)
    with django_capture_on_commit_callbacks(execute=True):
        MembershipFactory(partner=partner, person=person)
    assert stored(partner).status == "active"


# --- the daily job: provisional deadline -----------------------------------------------


def reminders(partner):
    return sorted(
        PartnerDeadlineReminder.objects.filter(partner=partner).values_list("kind", "days")
    )


def test_provisional_reminders_and_suspension_at_each_edge(
    provisional, django_capture_on_commit_callbacks
):
    partner, admin = provisional
    deadline = stored(partner).provisional_deadline

    def run(at):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return lifecycle.lifecycle_daily(now=at)

    assert run(deadline - 31 * DAY).reminders == 0  # the day before the 30-day reminder
    assert run(deadline - 30 * DAY).reminders == 1  # its day
    assert [m.to for m in mail.outbox] == [[admin.email]] and "30 days" in mail.outbox[0].subject
    assert run(deadline - 29 * DAY).reminders == 0  # the day after: sent once
    assert run(deadline - 8 * DAY).reminders == 0
    assert run(deadline - 7 * DAY).reminders == 1
    assert "7 days" in mail.outbox[0].subject
    assert run(deadline - 6 * DAY).reminders == 0
    assert reminders(partner) == [("provisional", 7), ("provisional", 30)]

    assert run(deadline - DAY).suspended == 0  # the day before the deadline
    assert stored(partner).status == "provisional"
    assert run(deadline).suspended == 1  # the day of
    partner = stored(partner)
    assert partner.status == "suspended" and partner.suspended_from == "provisional"
    change = PartnerStatusChange.objects.filter(partner=partner).first()
    assert change.rule == "provisional_deadline" and change.by is None
    assert "Business Foundations" in change.reason and "Payments account" in change.reason
    assert "agreement" not in change.reason.lower().split(":")[1]  # met items are not listed
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert run(deadline + DAY).suspended == 0  # the day after: once
    assert PartnerStatusChange.objects.filter(partner=partner, to_status="suspended").count() == 1


def test_a_deadline_passed_while_the_workers_were_down_is_handled_once(provisional):
    partner, _ = provisional
    deadline = stored(partner).provisional_deadline
    later = deadline + 20 * DAY  # no run for weeks, not even the reminders
    assert lifecycle.lifecycle_daily(now=later).suspended == 1
    assert lifecycle.lifecycle_daily(now=later + DAY).suspended == 0
    assert reminders(partner) == []  # too late to remind of a passed deadline
    assert stored(partner).status == "suspended"


def test_a_late_job_inside_the_7_day_window_sends_one_reminder(provisional):
    partner, _ = provisional
    deadline = stored(partner).provisional_deadline
    assert lifecycle.lifecycle_daily(now=deadline - 3 * DAY).reminders == 1
    assert lifecycle.lifecycle_daily(now=deadline - 2 * DAY).reminders == 0
    assert reminders(partner) == [("provisional", 7)]


def test_the_daily_job_activates_a_partner_that_meets_every_requirement(provisional, staff_user):
    partner, admin = provisional
    Partner.objects.filter(pk=partner.pk).update(
        payments_account_confirmed_at=timezone.now(), payments_account_confirmed_by=staff_user
    )
    complete_business_foundations(admin)  # no signal: only the daily job sees it
    result = lifecycle.lifecycle_daily(now=timezone.now())
    assert result.activated == 1 and stored(partner).status == "active"
    assert lifecycle.lifecycle_daily(now=timezone.now()).activated == 0


# --- the yearly re-review ------------------------------------------------------------


@pytest.fixture
def active(agreement):
    partner = PartnerFactory(status="active")
    admin = PartnerAdminFactory(partner=partner).person
    AgreementAcceptance.objects.create(
        partner=partner, agreement=agreement, accepted_by=admin, accepted_at=timezone.now()
    )
    activated = timezone.now() - 400 * DAY
    Partner.objects.filter(pk=partner.pk).update(
        activated_at=activated, rereview_due_at=add_months(activated, 12)
    )
    return stored(partner), admin


def test_rereview_reminders_and_suspension_at_each_edge(active, django_capture_on_commit_callbacks):
    partner, admin = active
    due = partner.rereview_due_at

    def run(at):
        with django_capture_on_commit_callbacks(execute=True):
            return lifecycle.lifecycle_daily(now=at)

    assert run(due - 31 * DAY).reminders == 0
    assert run(due - 30 * DAY).reminders == 1
    assert run(due - 29 * DAY).reminders == 0
    assert run(due - 8 * DAY).reminders == 0
    assert run(due - 7 * DAY).reminders == 1
    assert run(due - 6 * DAY).reminders == 0
    assert reminders(partner) == [("rereview", 7), ("rereview", 30)]
    suspends = due + 30 * DAY
    assert run(due).suspended == 0  # due, not yet 30 days overdue
    assert run(suspends - DAY).suspended == 0
    assert run(suspends).suspended == 1
    assert run(suspends + DAY).suspended == 0
    partner = stored(partner)
    assert (partner.status, partner.suspension_cause) == ("suspended", "rereview_overdue")


def test_confirming_an_overdue_rereview_reactivates_when_it_was_the_only_reason(
    active, django_capture_on_commit_callbacks
):
    partner, admin = active
    due = partner.rereview_due_at
    lifecycle.lifecycle_daily(now=due + 30 * DAY)
    new = AgreementFactory(version="2.0", effective_from=timezone.now() - DAY)
    partner = stored(partner)
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_rereview_confirm(
            partner=partner, by=admin, agreement_version="1.0", restricted_business_attested=True
        )
    assert refused.value.code == "agreement_outdated"
    now = timezone.now()
    review = lifecycle.partner_rereview_confirm(
        partner=partner,
        by=admin,
        agreement_version="2.0",
        restricted_business_attested=True,
        now=now,
    )
    assert review.due_at == due and review.agreement == new
    partner = stored(partner)
    assert partner.status == "active" and partner.rereview_due_at == add_months(now, 12)
    assert AgreementAcceptance.objects.filter(partner=partner, agreement=new).exists()
    change = PartnerStatusChange.objects.filter(partner=partner).first()
    assert change.rule == "rereview_confirmed"
    assert rereview_queue(now=now).confirmed[0].partner == partner


def test_confirming_does_not_lift_a_suspension_staff_added_a_reason_to(active, staff_user):
    partner, admin = active
    lifecycle.lifecycle_daily(now=partner.rereview_due_at + 30 * DAY)
    lifecycle.partner_transition(
        partner=partner, to="suspended", reason="Also unpaid fees", by=staff_user
    )
    lifecycle.partner_rereview_confirm(
        partner=stored(partner), by=admin, agreement_version="", restricted_business_attested=True
    )
    assert stored(partner).status == "suspended"


@pytest.mark.parametrize("who", ["employee", "other_admin", "staff", "former_admin"])
def test_a_rereview_confirmed_by_someone_not_a_partner_admin_is_refused(active, who, staff_user):
    partner, admin = active
    Partner.objects.filter(pk=partner.pk).update(rereview_due_at=timezone.now() + 5 * DAY)
    if who == "employee":
        person = MembershipFactory(partner=partner).person
    elif who == "other_admin":
        person = PartnerAdminFactory().person
    elif who == "staff":
        person = staff_user
    else:
        membership = PartnerAdminFactory(partner=partner)
        membership.ended = timezone.now()
        membership.save()
        person = membership.person
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_rereview_confirm(
            partner=stored(partner),
            by=person,
            agreement_version="1.0",
            restricted_business_attested=True,
        )
    assert (refused.value.code, refused.value.status) == ("not_partner_admin", 403)
    assert not PartnerReReview.objects.exists()


def test_rereview_bad_input(active):
    partner, admin = active
    with pytest.raises(DomainError) as refused:  # not open yet
        lifecycle.partner_rereview_confirm(
            partner=partner,
            by=admin,
            agreement_version="1.0",
            restricted_business_attested=True,
            now=partner.rereview_due_at - 31 * DAY,
        )
    assert refused.value.code == "rereview_not_open"
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_rereview_confirm(
            partner=partner, by=admin, agreement_version="1.0", restricted_business_attested=False
        )
    assert refused.value.code == "restricted_business_attestation_required"
    lifecycle.partner_rereview_confirm(
        partner=partner, by=admin, agreement_version="1.0", restricted_business_attested=True
    )
    assert PartnerReReview.objects.count() == 1


def test_partners_created_provisional_or_active_get_their_dates_from_the_daily_job():
    provisional = PartnerFactory(status="provisional")
    active = PartnerFactory(status="active")
    now = timezone.now()
    lifecycle.lifecycle_daily(now=now)
    assert stored(provisional).provisional_deadline == add_months(now, 6)
    assert stored(active).rereview_due_at == add_months(now, 12)
    lifecycle.lifecycle_daily(now=now + DAY)  # idempotent
    assert stored(active).rereview_due_at == add_months(now, 12)


def test_terminating_through_the_state_machine_revokes_the_company_keys(staff_user):
    from partners.api_keys.services import api_key_create
    from partners.models import ApiKey

    partner = PartnerFactory(status="active")
    key, _ = api_key_create(
        partner=partner, name="HR sync", scopes=["partner:read"], created_by=staff_user
    )
    lifecycle.partner_transition(partner=partner, to="suspended", reason="Late", by=staff_user)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None  # suspended keys still read
    lifecycle.partner_transition(partner=partner, to="terminated", reason="Gone", by=staff_user)
    revoked = ApiKey.objects.get(pk=key.pk)
    assert revoked.revoked_at is not None and "Gone" in revoked.revoked_reason


def test_reinstating_past_the_deadline_needs_a_new_one(provisional, staff_user):
    partner, _ = provisional
    deadline = stored(partner).provisional_deadline
    lifecycle.lifecycle_daily(now=deadline)
    assert stored(partner).status == "suspended"
    with pytest.raises(DomainError) as refused:
        lifecycle.partner_transition(
            partner=partner, to="provisional", by=staff_user, now=deadline + DAY
        )
    assert refused.value.code == "deadline_required"
    assert stored(partner).status == "suspended"
    lifecycle.partner_transition(
        partner=partner,
        to="provisional",
        by=staff_user,
        now=deadline + DAY,
        deadline=deadline + 60 * DAY,
    )
    assert lifecycle.lifecycle_daily(now=deadline + 2 * DAY).suspended == 0
    assert stored(partner).status == "provisional"
