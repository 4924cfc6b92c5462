"""Local development: DEBUG on, e-mail printed to the console (or EMAIL_BACKEND's)."""

from .base import *  # noqa: F403
from .base import EMAIL_BACKEND_FROM_ENV, env_bool

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = EMAIL_BACKEND_FROM_ENV or "django.core.mail.backends.console.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Webhook receivers on this machine (127.0.0.1, http) are fine in development.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", True)
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", False)
