"""lms.permissions: roles, the rule registry, and the rules the partners app registers."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.utils import timezone

from lms import permissions
from lms.errors import NotFound, PermissionDenied
from lms.permissions import (
    INSTRUCTORS,
    PROGRAMME_STAFF,
    UnknownAction,
    can,
    check_can,
    is_instructor,
    is_programme_staff,
    register_rule,
)
from partners.membership.services import membership_end
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def _in_group(name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def staff():
    return _in_group(PROGRAMME_STAFF)


@pytest.fixture
def instructor():
    return _in_group(INSTRUCTORS)


@pytest.fixture
def acme():
    """A partner with an admin, an employee and a former employee."""
    partner = PartnerFactory(name="Acme")
    return {
        "partner": partner,
        "admin": PartnerAdminFactory(partner=partner).person,
        "employee": MembershipFactory(partner=partner).person,
        "former": MembershipFactory(partner=partner, ended=timezone.now()).person,
    }


@pytest.fixture
def globex():
    partner = PartnerFactory(name="Globex")
    return {
        "partner": partner,
        "admin": PartnerAdminFactory(partner=partner).person,
        "employee": MembershipFactory(partner=partner).person,
    }


@pytest.fixture
def scratch_rules():
    """Rules registered by a test disappear afterwards."""
    rules, views = dict(permissions._rules), dict(permissions._view_actions)
    permissions._rules = {k: list(v) for k, v in rules.items()}
    yield
    permissions._rules, permissions._view_actions = rules, views


# --- roles ------------------------------------------------------------------------


def test_roles_of_anonymous_learner_instructor_staff_superuser(instructor, staff):
    superuser = UserFactory(is_superuser=True)
    learner = UserFactory()
    assert not is_programme_staff(AnonymousUser()) and not is_instructor(AnonymousUser())
    assert not is_programme_staff(None)
    assert not is_programme_staff(learner) and not is_instructor(learner)
    assert is_instructor(instructor) and not is_programme_staff(instructor)
    assert is_programme_staff(staff) and is_instructor(staff)  # staff can do what instructors do
    assert is_programme_staff(superuser) and is_instructor(superuser)


def test_inactive_staff_has_no_role(staff):
    staff.is_active = False
    assert not is_programme_staff(staff)
    assert not can(staff, "partner.view", PartnerFactory())


def test_group_names_are_read_once_per_user_object(staff, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert is_programme_staff(staff)
        assert is_instructor(staff)
        assert is_programme_staff(staff)


def test_forget_roles_rereads_groups(staff):
    assert is_programme_staff(staff)
    staff.groups.clear()
    permissions.forget_roles(staff)
    assert not is_programme_staff(staff)


# --- registry -----------------------------------------------------------------------


def test_unknown_action_fails_loudly():
    with pytest.raises(UnknownAction):
        can(UserFactory(), "partner.veiw", PartnerFactory())


def test_action_names_need_an_entity():
    with pytest.raises(ValueError):
        register_rule("view")


def test_rules_are_an_allow_list_combined_with_or(scratch_rules):
    user = UserFactory()

    @register_rule("widget.view")
    def nobody(user, obj):
        return False

    assert not can(user, "widget.view", object())

    @register_rule("widget.view")
    def everybody(user, obj):
        return True

    register_rule("widget.view")(everybody)  # registering again is a no-op
    assert permissions._rules["widget.view"] == [nobody, everybody]
    assert can(user, "widget.view", object())


def test_check_can_says_403_when_the_object_is_visible_and_404_when_not(scratch_rules):
    user = UserFactory()
    register_rule("widget.view")(lambda user, obj: obj == "visible")
    register_rule("widget.edit")(lambda user, obj: False)

    with pytest.raises(PermissionDenied) as exc:
        check_can(user, "widget.edit", "visible")
    assert exc.value.code == "permission_denied" and exc.value.status == 403

    with pytest.raises(NotFound) as exc:
        check_can(user, "widget.edit", "hidden")
    assert exc.value.code == "not_found" and exc.value.status == 404

    with pytest.raises(NotFound):
        check_can(user, "widget.view", "hidden")
    check_can(user, "widget.view", "visible")


def test_check_can_without_an_object_is_403(scratch_rules):
    register_rule("report.export")(lambda user, obj: False)
    with pytest.raises(PermissionDenied):
        check_can(UserFactory(), "report.export")


def test_check_can_uses_a_declared_view_action(scratch_rules):
    register_rule("grade.view")(lambda user, obj: True)
    register_rule("submission.grade", view_action="grade.view")(lambda user, obj: False)
    with pytest.raises(PermissionDenied):
        check_can(UserFactory(), "submission.grade", object())


def test_anonymous_users_may_do_nothing_and_learn_nothing(acme):
    anonymous = AnonymousUser()
    for action, obj in [
        ("partner.view", acme["partner"]),
        ("partner.manage_members", acme["partner"]),
        ("user.view_records", acme["employee"]),
    ]:
        assert not can(anonymous, action, obj)
        with pytest.raises(NotFound):
            check_can(anonymous, action, obj)


# --- user.view_records ----------------------------------------------------------------


def test_a_learner_sees_only_their_own_records(acme):
    learner, other = UserFactory(), acme["employee"]
    assert can(learner, "user.view_records", learner)
    assert not can(learner, "user.view_records", other)
    check_can(learner, "user.view_records", learner)
    with pytest.raises(NotFound):  # not even whether the person exists
        check_can(learner, "user.view_records", other)


def test_an_employee_does_not_see_colleagues_records(acme):
    assert not can(acme["employee"], "user.view_records", acme["admin"])


def test_a_partner_admin_sees_their_current_members_records(acme, globex):
    admin = acme["admin"]
    assert can(admin, "user.view_records", acme["employee"])
    assert can(admin, "user.view_records", admin)
    assert not can(admin, "user.view_records", acme["former"])  # left the company
    assert not can(admin, "user.view_records", globex["employee"])  # another company
    assert not can(admin, "user.view_records", UserFactory())  # nobody's employee


def test_a_partner_admin_check_costs_two_queries(acme, django_assert_num_queries):
    with django_assert_num_queries(2):  # groups + one membership query
        assert can(acme["admin"], "user.view_records", acme["employee"])


def test_a_former_admin_loses_access_when_the_membership_ends(acme):
    admin = acme["admin"]
    assert can(admin, "user.view_records", acme["employee"])
    membership_end(membership=admin.memberships.get(ended__isnull=True))
    assert not can(admin, "user.view_records", acme["employee"])
    assert not can(admin, "partner.view", acme["partner"])
    assert not can(admin, "partner.manage_members", acme["partner"])
    assert can(admin, "user.view_records", admin)  # their own records stay theirs


def test_records_of_a_member_who_moved_follow_the_new_company(acme, globex):
    moved = acme["employee"]
    membership_end(membership=moved.memberships.get(ended__isnull=True))
    MembershipFactory(person=moved, partner=globex["partner"])
    assert not can(acme["admin"], "user.view_records", moved)
    assert can(globex["admin"], "user.view_records", moved)


def test_staff_and_superusers_see_everyones_records(staff, acme):
    superuser = UserFactory(is_superuser=True)
    for user in (staff, superuser):
        assert can(user, "user.view_records", acme["employee"])
        assert can(user, "user.view_records", acme["former"])


def test_an_instructor_sees_only_their_own_records(instructor, acme):
    assert can(instructor, "user.view_records", instructor)
    assert not can(instructor, "user.view_records", acme["employee"])


# --- partner.view / partner.manage_members ----------------------------------------------


@pytest.mark.parametrize("action", ["partner.view", "partner.manage_members"])
def test_partner_admin_only_for_their_own_partner(action, acme, globex):
    assert can(acme["admin"], action, acme["partner"])
    assert not can(acme["admin"], action, globex["partner"])
    with pytest.raises(NotFound):
        check_can(acme["admin"], action, globex["partner"])


@pytest.mark.parametrize("action", ["partner.view", "partner.manage_members"])
def test_employees_and_former_members_may_not(action, acme):
    for person in (acme["employee"], acme["former"]):
        assert not can(person, action, acme["partner"])
        with pytest.raises(NotFound):
            check_can(person, action, acme["partner"])


@pytest.mark.parametrize("action", ["partner.view", "partner.manage_members"])
def test_staff_may_and_instructors_may_not(action, staff, instructor, acme):
    assert can(staff, action, acme["partner"])
    assert not can(instructor, action, acme["partner"])


def test_a_demoted_admin_keeps_seeing_nothing_of_the_partner(acme):
    from partners.membership.services import membership_set_role

    admin = acme["admin"]
    membership_set_role(membership=admin.memberships.get(ended__isnull=True), role="employee")
    assert not can(admin, "partner.manage_members", acme["partner"])
    assert not can(admin, "user.view_records", acme["employee"])
