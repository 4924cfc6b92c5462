"""The track-status jobs under the dotted paths they had before they moved to
partners.status.tasks.

django-q2 imports a job's function from the dotted path stored with it: the
daily Schedule row created by migration 0003 stores
"partners.tasks.recompute_all_partner_statuses", and jobs queued before a
deploy store "partners.tasks.track_status_changes_mail". Those rows outlive
the move, so these names must keep resolving. New code names
partners.status.tasks.
"""

from .status.tasks import recompute_all_partner_statuses, track_status_changes_mail

__all__ = ["recompute_all_partner_statuses", "track_status_changes_mail"]
