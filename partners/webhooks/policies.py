"""Who may manage a partner's webhooks (a rule for lms.permissions).

Programme staff and the partner's current admins, like its members. A company
API key never may (the API refuses it with 403 `insufficient_scope` before
asking this rule).
"""

from lms.permissions import is_programme_staff, register_rule

from ..models import Membership


@register_rule("partner.manage_webhooks")
def partner_manage_webhooks(user, partner) -> bool:
    if is_programme_staff(user):
        return True
    return (
        partner is not None
        and Membership.objects.filter(
            person_id=user.pk,
            partner_id=partner.pk,
            role=Membership.Role.ADMIN,
            ended__isnull=True,
        ).exists()
    )
