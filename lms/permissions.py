"""Object-level permissions: roles and a registry of allow rules.

Contract:
- `can(user, action, obj=None) -> bool` answers "may this user do `action`
  (on `obj`)?". Anonymous and inactive users may do nothing; an active
  superuser may do everything; everyone else needs at least one registered
  rule for `action` to return True (rules are an allow-list combined with OR).
- `check_can(user, action, obj=None)` is the guard form: it returns nothing or
  raises `lms.errors.NotFound` when the user may not even see `obj` (so an API
  answers 404 and does not reveal that it exists), else
  `lms.errors.PermissionDenied` (403).
- An unknown action raises `UnknownAction`: a typo must fail loudly, not deny
  quietly.
- Apps register rules with `@register_rule("<entity>.<verb>")` from their
  AppConfig.ready(). lms is the lowest layer: it never imports the apps that
  register here, which is why this is a registry.

Role predicates (`is_programme_staff`, `is_instructor`) read the user's groups
once per user object and cache the names on it, like Django's own permission
cache.
"""

from collections.abc import Callable
from typing import Any

from .errors import NotFound, PermissionDenied

# Group names. Data migrations repeat them as literal strings on purpose:
# a migration must not import code that may change after it was written.
INSTRUCTORS = "Instructors"
PROGRAMME_STAFF = "Programme staff"

Rule = Callable[[Any, Any], bool]

_rules: dict[str, list[Rule]] = {}
# action -> the action that decides whether the object may be seen at all
_view_actions: dict[str, str] = {}

_ROLE_CACHE = "_lms_role_names"


class UnknownAction(LookupError):
    """`can()` was asked about an action no rule was ever registered for."""


# --- roles ----------------------------------------------------------------


def _is_active_user(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def role_names(user) -> frozenset[str]:
    """Names of the user's groups (cached on the user object)."""
    if not _is_active_user(user):
        return frozenset()
    cached = getattr(user, _ROLE_CACHE, None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, _ROLE_CACHE, cached)
    return cached


def forget_roles(user) -> None:
    """Drop the cached group names (after changing a user's groups in the same request)."""
    if user is not None and hasattr(user, _ROLE_CACHE):
        delattr(user, _ROLE_CACHE)


def is_programme_staff(user) -> bool:
    """Programme operations: a member of the staff group, or a superuser."""
    if not _is_active_user(user):
        return False
    return bool(user.is_superuser) or PROGRAMME_STAFF in role_names(user)


def is_instructor(user) -> bool:
    """Teaches and authors. Programme staff can do everything instructors can."""
    if not _is_active_user(user):
        return False
    return bool(user.is_superuser) or bool({INSTRUCTORS, PROGRAMME_STAFF} & role_names(user))


# --- registry ---------------------------------------------------------------


def register_rule(action: str, *, view_action: str | None = None) -> Callable[[Rule], Rule]:
    """Decorator: `rule(user, obj) -> bool` grants `action` when it returns True.

    `view_action` names the action that decides whether the user may see the
    object at all (default: `"<entity>.view"` from `"<entity>.<verb>"`); it
    only matters for which error `check_can` raises. Registering the same
    function twice (a module imported again) is a no-op.
    """
    if "." not in action:
        raise ValueError(f"Action names look like '<entity>.<verb>', got {action!r}.")

    def decorator(rule: Rule) -> Rule:
        rules = _rules.setdefault(action, [])
        key = (rule.__module__, rule.__qualname__)
        if all((r.__module__, r.__qualname__) != key for r in rules):
            rules.append(rule)
        if view_action is not None:
            _view_actions[action] = view_action
        return rule

    return decorator


def _view_action_for(action: str) -> str:
    return _view_actions.get(action) or action.split(".", 1)[0] + ".view"


def can(user, action: str, obj=None) -> bool:
    rules = _rules.get(action)
    if rules is None:
        raise UnknownAction(f"No permission rule is registered for {action!r}.")
    if not _is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return any(rule(user, obj) for rule in rules)


def check_can(user, action: str, obj=None) -> None:
    """Raise NotFound (hide the object) or PermissionDenied unless `can()`."""
    if can(user, action, obj):
        return
    if obj is not None:
        view_action = _view_action_for(action)
        visible = view_action != action and view_action in _rules and can(user, view_action, obj)
        if not visible:
            raise NotFound("Not found.")
    raise PermissionDenied("You do not have permission to do this.")


# --- built-in rules ---------------------------------------------------------


@register_rule("user.view_records")
def _own_records_or_staff(user, person) -> bool:
    """A learner sees their own records; programme staff see everyone's.

    Partner admins get their company's current members through a rule the
    partners app registers.
    """
    if person is None:
        return is_programme_staff(user)
    return person.pk == user.pk or is_programme_staff(user)


@register_rule("user.view")
def _view_user(user, person) -> bool:
    # Seeing that a person exists follows seeing their records.
    return can(user, "user.view_records", person)
