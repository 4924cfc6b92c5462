import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from certificates.models import Credential
from lms.errors import DomainError
from partners.invitations import services as invitations
from partners.models import Invitation, Membership
from tests.certificates.factories import CredentialFactory
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory
from tests.partners.portal_factories import invite, partner_with_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return partner_with_admin(name="Northwind", slug="northwind")


def _token_from_mail() -> str:
    return re.search(r"/partners/invitations/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)


# --- creating -------------------------------------------------------------------


def test_invitation_is_mailed_with_a_link_and_only_its_hash_is_kept(
    company, django_capture_on_commit_callbacks
):
    partner, admin = company
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invite(partner=partner, admin=admin, email="  New.Person@Example.COM ")
    assert invitation.email == "new.person@example.com"
    assert token not in invitation.token_hash
    assert invitation.token_hash == invitations.token_hash(token)
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert _token_from_mail() == token
    assert "Northwind" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("email", "role", "code", "status"),
    [
        ("not-an-email", "employee", "invalid_email", 422),
        ("", "employee", "invalid_email", 422),
        ("a@b.example", "owner", "invalid_role", 400),
    ],
)
def test_bad_invitations_are_refused(company, email, role, code, status):
    partner, admin = company
    with pytest.raises(DomainError) as error:
        invite(partner=partner, admin=admin, email=email, role=role)
    assert (error.value.code, error.value.status) == (code, status)
    assert not Invitation.objects.exists()


def test_a_pending_invitation_is_not_duplicated(company):
    partner, admin = company
    invite(partner=partner, admin=admin, email="x@example.com")
    with pytest.raises(DomainError) as error:
        invite(partner=partner, admin=admin, email="X@example.com")
    assert (error.value.code, error.value.status) == ("duplicate_invitation", 409)
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_is_superseded_by_a_new_one(company):
    partner, admin = company
    old, _ = invite(
        partner=partner, admin=admin, email="x@example.com", now=timezone.now() - timedelta(days=8)
    )
    new, _ = invite(partner=partner, admin=admin, email="x@example.com")
    old.refresh_from_db()
    assert old.revoked_at is not None and "superseded" in old.revoked_reason
    assert new.state_at(timezone.now()) == "open"


def test_a_member_of_this_partner_cannot_be_invited_again(company):
    partner, admin = company
    with pytest.raises(DomainError) as error:
        invite(partner=partner, admin=admin, email=admin.email.upper())
    assert (error.value.code, error.value.status) == ("already_member", 409)


def test_inviting_says_nothing_about_memberships_elsewhere(
    company, django_capture_on_commit_callbacks
):
    partner, admin = company
    elsewhere = MembershipFactory().person
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invite(partner=partner, admin=admin, email=elsewhere.email)
    assert invitation.email == elsewhere.email
    assert mail.outbox[-1].to == [elsewhere.email]


@pytest.mark.parametrize("status", ["applicant", "suspended", "terminated"])
def test_only_approved_partners_can_invite(company, status):
    partner, admin = company
    partner.status = status
    partner.suspended_from = "active" if status == "suspended" else ""
    partner.save()
    with pytest.raises(DomainError) as error:
        invite(partner=partner, admin=admin, email="someone@example.com")
    assert (error.value.code, error.value.status) == ("partner_not_approved", 403)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("status", ["provisional", "active"])
def test_provisional_and_active_partners_can_invite(company, status):
    partner, admin = company
    partner.status = status
    partner.suspended_from = "active" if status == "suspended" else ""
    partner.save()
    invitation, _ = invite(partner=partner, admin=admin, email="someone@example.com")
    assert invitation.pk


def test_invitations_per_partner_per_day_are_limited(company, settings):
    settings.INVITATION_DAILY_LIMIT = 2
    partner, admin = company
    invite(partner=partner, admin=admin, email="one@example.com")
    invite(partner=partner, admin=admin, email="two@example.com")
    with pytest.raises(DomainError) as error:
        invite(partner=partner, admin=admin, email="three@example.com")
    assert (error.value.code, error.value.status) == ("too_many_requests", 429)
    assert error.value.retry_after > 0
    # A day later the partner may invite again; other partners were never limited.
    later = timezone.now() + timedelta(days=1, minutes=1)
    invite(partner=partner, admin=admin, email="three@example.com", now=later)
    other, other_admin = partner_with_admin(name="Globex", slug="globex")
    invite(partner=other, admin=other_admin, email="three@example.com")


def test_a_refused_invitation_does_not_count_towards_the_limit(company, settings):
    settings.INVITATION_DAILY_LIMIT = 1
    partner, admin = company
    with pytest.raises(DomainError):
        invite(partner=partner, admin=admin, email=admin.email)  # already_member
    invite(partner=partner, admin=admin, email="one@example.com")


# --- accepting ------------------------------------------------------------------


def test_accepting_starts_the_membership_with_the_invited_role(company):
    partner, admin = company
    person = UserFactory(email="new.person@example.com")
    invitation, token = invite(partner=partner, admin=admin, email=person.email, role="admin")
    membership = invitations.invitation_accept(token=token, person=person)
    assert (membership.partner, membership.role) == (partner, "admin")
    invitation.refresh_from_db()
    assert invitation.accepted_by == person and invitation.membership == membership


def _expect(code, status, **kwargs):
    with pytest.raises(DomainError) as error:
        invitations.invitation_accept(**kwargs)
    assert (error.value.code, error.value.status) == (code, status)


def test_the_link_is_single_use(company):
    partner, admin = company
    person = UserFactory(email="new.person@example.com")
    _, token = invite(partner=partner, admin=admin, email=person.email)
    invitations.invitation_accept(token=token, person=person)
    _expect("invitation_used", 410, token=token, person=person)
    assert Membership.objects.filter(person=person).count() == 1


def test_expired_revoked_and_unknown_links_are_refused(company):
    partner, admin = company
    person = UserFactory(email="new.person@example.com")
    _, token = invite(partner=partner, admin=admin, email=person.email)
    _expect(
        "invitation_expired",
        410,
        token=token,
        person=person,
        now=timezone.now() + timedelta(days=8),
    )
    invitation = Invitation.objects.get()
    invitations.invitation_revoke(invitation=invitation)
    _expect("invitation_revoked", 410, token=token, person=person)
    _expect("invitation_not_found", 404, token="x" * 43, person=person)
    _expect("invitation_not_found", 404, token="../../etc/passwd", person=person)
    assert not Membership.objects.filter(person=person).exists()


def test_only_the_invited_address_may_accept(company):
    partner, admin = company
    invitation, token = invite(partner=partner, admin=admin, email="invited@example.com")
    _expect("invitation_email_mismatch", 403, token=token, person=UserFactory())
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_member_elsewhere_is_refused_and_the_invitation_stays_open(company):
    partner, admin = company
    person = UserFactory(email="busy@example.com")
    _, token = invite(partner=partner, admin=admin, email=person.email)
    other = MembershipFactory(person=person)  # joined another company meanwhile
    _expect("already_member", 409, token=token, person=person)
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is None
    from partners.membership.services import membership_end

    membership_end(membership=other)
    invitations.invitation_accept(token=token, person=person)


def test_accept_with_signup_creates_an_unconfirmed_account_and_mails_a_link(
    company, django_capture_on_commit_callbacks
):
    partner, admin = company
    _, token = invite(partner=partner, admin=admin, email="fresh@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        user, membership = invitations.invitation_accept_with_signup(
            token=token, password=DEFAULT_PASSWORD, first_name="Ada", last_name="Lovelace"
        )
    assert user.email == "fresh@example.com" and user.legal_name == "Ada Lovelace"
    assert user.email_confirmed_at is None
    assert membership.partner == partner
    assert mail.outbox[-1].to == ["fresh@example.com"]
    assert "/accounts/confirm/" in mail.outbox[-1].body


def test_accept_with_signup_for_an_existing_account_changes_nothing_and_tells_the_owner(
    company, django_capture_on_commit_callbacks
):
    partner, admin = company
    owner = UserFactory(email="exists@example.com")
    password_hash = owner.password
    _, token = invite(partner=partner, admin=admin, email="exists@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        result = invitations.invitation_accept_with_signup(
            token=token, password="another-password-1", first_name="A", last_name="B"
        )
    assert result == (None, None)
    assert Invitation.objects.get().accepted_at is None
    owner.refresh_from_db()
    assert owner.password == password_hash
    notice = mail.outbox[-1]
    assert notice.to == ["exists@example.com"]
    assert "already have an account" in notice.body
    assert f"/partners/invitations/{token}/" in notice.body


# --- roles and ending memberships -------------------------------------------------


def test_the_last_admin_cannot_be_demoted_or_removed(company):
    partner, admin = company
    membership = Membership.objects.get(person=admin)
    with pytest.raises(DomainError) as error:
        invitations.member_role_set(partner=partner, membership=membership, role="employee")
    assert (error.value.code, error.value.status) == ("last_admin", 409)
    with pytest.raises(DomainError) as error:
        invitations.member_end(partner=partner, membership=membership)
    assert error.value.code == "last_admin"
    membership.refresh_from_db()
    assert membership.role == "admin" and membership.ended is None


def test_promote_then_demote_and_end(company):
    partner, admin = company
    employee = MembershipFactory(partner=partner)
    invitations.member_role_set(partner=partner, membership=employee, role="admin")
    first = Membership.objects.get(person=admin)
    invitations.member_role_set(partner=partner, membership=first, role="employee")
    first.refresh_from_db()
    assert first.role == "employee"
    invitations.member_end(partner=partner, membership=first, reason="Left")
    first.refresh_from_db()
    assert first.ended is not None


def test_a_stale_copy_cannot_remove_the_last_admin(company):
    partner, admin = company
    second = PartnerAdminFactory(partner=partner)
    stale_first = Membership.objects.get(person=admin)
    invitations.member_end(partner=partner, membership=second)
    with pytest.raises(DomainError) as error:
        invitations.member_end(partner=partner, membership=stale_first)
    assert error.value.code == "last_admin"


def test_ending_a_membership_keeps_the_persons_credentials(company):
    partner, _ = company
    membership = MembershipFactory(partner=partner)
    credential = CredentialFactory(person=membership.person)
    invitations.member_end(partner=partner, membership=membership)
    assert Credential.objects.get(pk=credential.pk).revoked_at is None


def test_another_partners_member_is_not_found(company):
    partner, _ = company
    outsider = MembershipFactory()
    with pytest.raises(DomainError) as error:
        invitations.member_get(partner=partner, member_id=outsider.pk)
    assert (error.value.code, error.value.status) == ("member_not_found", 404)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite serialises)"
)
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_keep_one():
    import threading

    from django.db import close_old_connections

    partner, admin = partner_with_admin()
    other = PartnerAdminFactory(partner=partner)
    memberships = [Membership.objects.get(person=admin), other]
    barrier = threading.Barrier(2)
    results = []

    def demote(membership):
        try:
            barrier.wait()
            invitations.member_role_set(partner=partner, membership=membership, role="employee")
            results.append("ok")
        except DomainError as error:
            results.append(error.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=demote, args=(m,)) for m in memberships]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["last_admin", "ok"]
    assert Membership.objects.filter(partner=partner, role="admin", ended__isnull=True).count() == 1


# --- pages --------------------------------------------------------------------


def test_invitation_page_accept_when_signed_in(client, company):
    partner, admin = company
    person = UserFactory(email="join@example.com")
    _, token = invite(partner=partner, admin=admin, email=person.email)
    client.force_login(person)
    url = f"/partners/invitations/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and "Join Northwind" in page.content.decode()
    assert client.post(url).status_code == 302
    assert Membership.objects.get(person=person, ended__isnull=True).partner == partner
    again = client.post(url)
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert Membership.objects.filter(person=person).count() == 1


def test_invitation_page_sign_up_then_accept(client, company):
    partner, admin = company
    _, token = invite(partner=partner, admin=admin, email="newbie@example.com")
    url = f"/partners/invitations/{token}/"
    assert "Create account and join" in client.get(url).content.decode()
    bad = client.post(
        url, {"first_name": "N", "last_name": "B", "password1": "x", "password2": "y"}
    )
    assert bad.status_code == 400
    response = client.post(
        url,
        {
            "first_name": "New",
            "last_name": "Bie",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    membership = Membership.objects.get(person__email="newbie@example.com")
    assert membership.partner == partner
    assert "_auth_user_id" not in client.session


def test_invitation_page_sign_up_answers_the_same_for_an_existing_account(client, company):
    partner, admin = company
    answers = []
    for email in ("newbie@example.com", "exists@example.com"):
        if email == "exists@example.com":
            UserFactory(email=email)
        _, token = invite(partner=partner, admin=admin, email=email)
        response = client.post(
            f"/partners/invitations/{token}/",
            {
                "first_name": "New",
                "last_name": "Bie",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
            },
        )
        html = response.content.decode().replace(email, "EMAIL")
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        answers.append((response.status_code, html))
    assert answers[0] == answers[1]
    assert "exists already" not in answers[1][1]


@pytest.mark.parametrize(
    ("setup", "status", "text"),
    [
        ("expired", 410, "This invitation has expired"),
        ("revoked", 410, "This invitation was withdrawn"),
        ("unknown", 404, "This invitation link is not valid"),
    ],
)
def test_invitation_page_explains_dead_links(client, company, setup, status, text):
    partner, admin = company
    now = timezone.now() - timedelta(days=8) if setup == "expired" else None
    invitation, token = invite(partner=partner, admin=admin, email="late@example.com", now=now)
    if setup == "revoked":
        invitations.invitation_revoke(invitation=invitation)
    if setup == "unknown":
        token = "A" * 43
    client.force_login(UserFactory(email="late@example.com"))
    for response in (
        client.get(f"/partners/invitations/{token}/"),
        client.post(f"/partners/invitations/{token}/"),
    ):
        assert response.status_code == status
        assert text in response.content.decode()
    assert not Membership.objects.filter(person__email="late@example.com").exists()


def test_invitation_page_refuses_a_member_elsewhere(client, company):
    partner, admin = company
    busy = MembershipFactory(person=UserFactory(email="busy@example.com")).person
    invitation = Invitation.objects.create(
        partner=partner,
        email=busy.email,
        token_hash=invitations.token_hash("B" * 43),
        created_by=admin,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    client.force_login(busy)
    response = client.post(f"/partners/invitations/{'B' * 43}/")
    assert response.status_code == 409
    assert "current member of" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_people_page_actions(client, company, django_capture_on_commit_callbacks):
    partner, admin = company
    client.force_login(admin)
    base = f"/partners/{partner.slug}/people/"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post(
                base + "invite/", {"email": "a@example.com", "role": "employee"}
            ).status_code
            == 302
        )
    assert len(mail.outbox) == 1
    duplicate = client.post(base + "invite/", {"email": "a@example.com", "role": "employee"})
    assert duplicate.status_code == 409 and "pending invitation" in duplicate.content.decode()
    bad = client.post(base + "invite/", {"email": "nope", "role": "employee"})
    assert bad.status_code == 422 and "is not an e-mail address" in bad.content.decode()

    mine = Membership.objects.get(person=admin)
    last = client.post(base + f"{mine.pk}/role/", {"role": "employee"})
    assert last.status_code == 409 and "at least one partner admin" in last.content.decode()
    assert client.post(base + f"{mine.pk}/end/").status_code == 409

    employee = MembershipFactory(partner=partner)
    assert client.post(base + f"{employee.pk}/role/", {"role": "admin"}).status_code == 302
    assert client.post(base + f"{employee.pk}/role/", {"role": "boss"}).status_code == 400
    assert client.post(base + f"{employee.pk}/end/").status_code == 302
    assert client.post(base + f"{employee.pk}/end/").status_code == 404  # already ended

    invitation = Invitation.objects.get()
    assert client.post(base + f"invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.parametrize("status", ["applicant", "suspended", "terminated"])
def test_people_page_hides_the_invite_form_before_approval(client, company, status):
    partner, admin = company
    partner.status = status
    partner.suspended_from = "active" if status == "suspended" else ""
    partner.save()
    client.force_login(admin)
    base = f"/partners/{partner.slug}/people/"
    page = client.get(base).content.decode()
    assert 'action="' + base + 'invite/"' not in page
    assert "Send invitation" not in page
    refused = client.post(base + "invite/", {"email": "a@example.com", "role": "employee"})
    assert refused.status_code == 403
    assert "approved" in refused.content.decode() or "suspended" in refused.content.decode()
    assert not Invitation.objects.exists()


def test_people_page_invite_limit_is_429_with_retry_after(client, company, settings):
    settings.INVITATION_DAILY_LIMIT = 1
    partner, admin = company
    client.force_login(admin)
    base = f"/partners/{partner.slug}/people/"
    sent = client.post(base + "invite/", {"email": "a@example.com", "role": "employee"})
    assert sent.status_code == 302
    refused = client.post(base + "invite/", {"email": "b@example.com", "role": "employee"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "invitations in the last 24 hours" in refused.content.decode()


def test_people_actions_are_hidden_from_other_companies(client, company):
    partner, _ = company
    other_partner, other_admin = partner_with_admin()
    employee = MembershipFactory(partner=partner)
    client.force_login(other_admin)
    base = f"/partners/{partner.slug}/people/"
    assert client.post(base + "invite/", {"email": "a@example.com"}).status_code == 404
    assert client.post(base + f"{employee.pk}/end/").status_code == 404
    # the other admin's own partner does not reach this partner's member either
    assert (
        client.post(f"/partners/{other_partner.slug}/people/{employee.pk}/end/").status_code == 404
    )
    employee.refresh_from_db()
    assert employee.ended is None
