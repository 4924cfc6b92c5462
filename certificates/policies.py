"""Permission rules for credentials (registered with lms.permissions).

- `credential.view`: anyone (verification is public by design).
- `credential.download` (PDF, Open Badges export): the holder, whoever may see
  the holder's records (their partner admin, through the partners app's
  `user.view_records` rule) and programme staff.
- `credential.revoke`: programme staff.
"""

from lms.permissions import can, is_programme_staff, register_rule


@register_rule("credential.view")
def credential_view(user, credential) -> bool:
    return True


@register_rule("credential.download", view_action="credential.download")
def credential_download(user, credential) -> bool:
    if credential is None:
        return False
    return credential.person_id == user.pk or can(user, "user.view_records", credential.person)


@register_rule("credential.revoke")
def credential_revoke(user, credential) -> bool:
    return is_programme_staff(user)
