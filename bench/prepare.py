"""Create the benchmark's person and API token; print the token on the last line."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from lms.tokens import token_create  # noqa: E402

User = get_user_model()
user, _ = User.objects.get_or_create(
    email="bench@example.com", defaults={"legal_name": "Bench Mark", "first_name": "Bench"}
)
_, plain = token_create(user=user, name="bench")
print(plain)
