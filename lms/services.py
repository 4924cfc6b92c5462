"""Account workflows.

Contract:
- `user_register(*, email, password, first_name, last_name, legal_name="")`
  creates an active learner account and returns it. The e-mail is stored
  lower-cased; an e-mail already used (in any letter case) raises
  `lms.errors.Conflict` with code `duplicate_email` (the database constraint
  `lms_user_email_ci_unique` backs this up under races). A blank
  `legal_name` defaults to "first last". The password is validated by the
  caller (the sign-up form runs Django's validators).
- `user_profile_update(*, user, legal_name, first_name, last_name)` saves the
  names a person may edit about themselves.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .errors import Conflict

DUPLICATE_EMAIL = "An account with this e-mail already exists."


def default_legal_name(*, first_name: str, last_name: str) -> str:
    return " ".join(part for part in (first_name.strip(), last_name.strip()) if part)


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str, last_name: str, legal_name=""):
    User = get_user_model()
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(DUPLICATE_EMAIL, code="duplicate_email")
    legal_name = " ".join((legal_name or "").split()) or default_legal_name(
        first_name=first_name, last_name=last_name
    )
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                legal_name=legal_name,
            )
    except IntegrityError as error:  # a concurrent sign-up won the race
        raise Conflict(DUPLICATE_EMAIL, code="duplicate_email") from error


@transaction.atomic
def user_profile_update(*, user, legal_name: str, first_name: str, last_name: str):
    user.legal_name = " ".join(legal_name.split())
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.save(update_fields=["legal_name", "first_name", "last_name"])
    return user
