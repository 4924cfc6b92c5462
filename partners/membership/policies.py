"""Who may do what with partners and their people (rules for lms.permissions).

Contract: each rule answers from the current memberships only, with one query
at most, so a former admin loses access the moment the membership ends.
Programme staff (and superusers, handled by `lms.permissions.can`) may do all
of it. Imported once from PartnersConfig.ready().

`StaffPolicy` is the Wagtail permission policy of the staff-only admin screens
(track status, applications, agreement versions): programme staff and
superusers, whatever their Django model permissions.
"""

from wagtail.permission_policies.base import ModelPermissionPolicy

from lms.permissions import is_programme_staff, register_rule

from ..models import Membership


def _is_current_admin_of(user, partner) -> bool:
    return Membership.objects.filter(
        person_id=user.pk,
        partner_id=partner.pk,
        role=Membership.Role.ADMIN,
        ended__isnull=True,
    ).exists()


@register_rule("partner.view")
def partner_view(user, partner) -> bool:
    """Staff see every partner; a partner admin sees their own company."""
    if is_programme_staff(user):
        return True
    return partner is not None and _is_current_admin_of(user, partner)


@register_rule("partner.manage_members")
def partner_manage_members(user, partner) -> bool:
    """Staff, or a current admin of this partner (employees may not)."""
    if is_programme_staff(user):
        return True
    return partner is not None and _is_current_admin_of(user, partner)


@register_rule("user.view_records")
def user_view_records_as_partner_admin(user, person) -> bool:
    """A partner admin sees the records of their company's current members."""
    if person is None or person.pk == user.pk:
        return False  # self and staff are granted by lms's own rule
    # One query: a current membership of `person` at a partner where `user`
    # is a current admin (the related filters share one join).
    return Membership.objects.filter(
        person_id=person.pk,
        ended__isnull=True,
        partner__memberships__person_id=user.pk,
        partner__memberships__role=Membership.Role.ADMIN,
        partner__memberships__ended__isnull=True,
    ).exists()


class StaffPolicy(ModelPermissionPolicy):
    """Programme staff may do `allowed` actions; nobody else but superusers."""

    def __init__(self, model, allowed):
        super().__init__(model)
        self.allowed = frozenset(allowed)

    def user_has_permission(self, user, action):
        if action not in self.allowed:
            return False
        return bool(user.is_active and (user.is_superuser or is_programme_staff(user)))

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, a) for a in actions)
