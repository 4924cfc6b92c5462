"""Production: every secret comes from the environment, no defaults.

Passes `manage.py check --deploy --fail-level WARNING` with the variables the
README lists (SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, ...).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable for production.")
    return value


ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [required("ALLOWED_HOSTS")]

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# /healthz is probed over plain HTTP by load balancers on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Privileged people need a second factor for the admins and API tokens
# unless OTP_REQUIRED=0 says otherwise.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
# Webhooks: https and public addresses only, whatever the environment says
# about private hosts unless WEBHOOKS_ALLOW_PRIVATE_HOSTS=1 is set explicitly.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)
WEBHOOKS_REQUIRE_HTTPS = True
