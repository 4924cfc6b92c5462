"""Wagtail admin hooks of the lms app.

Wagtail's bulk "Set active state" action deactivates people with a queryset
UPDATE, which sends no save signals; end their tokens and sessions here as
lms.receivers does for every saved deactivation.
"""

from django.contrib.auth import get_user_model
from wagtail import hooks

from . import services


@hooks.register("after_bulk_action")
def end_credentials_of_bulk_deactivated(request, action_type, objects, action_class_instance):
    if action_type != "set_active_state":
        return
    ids = [obj.pk for obj in objects]
    for user in get_user_model()._default_manager.filter(pk__in=ids, is_active=False):
        services.user_credentials_changed(user=user)
