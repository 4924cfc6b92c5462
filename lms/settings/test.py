"""Test settings: fast hashing, in-memory mail and cache, django-q2 in sync mode."""

from .base import *  # noqa: F403
from .base import Q_CLUSTER

ENVIRONMENT = "test"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# django-q2: override_settings has no effect on Q_CLUSTER (docs/pitfalls.md); sync
# mode runs every task inline so its exceptions reach the test.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
Q_CLUSTER.pop("redis", None)
Q_CLUSTER["orm"] = "default"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
PRIVATE_ROOT = BASE_DIR / "var" / "test-private"  # noqa: F405
# One process and one in-memory cache: the lesson page cache is safe here,
# and on, so every lesson-page test also exercises its invalidation.
LEARNER_PAGE_CACHE = True
# Sign-in as today unless a test turns the second factor on (override_settings).
OTP_REQUIRED = False
# The test Client does not hand the connection back after each request (it
# keeps Django from closing connections between requests), so a test's
# threads each hold a pooled connection until they end: the concurrency tests
# run 20 at once. Production keeps DB_POOL_MAX_SIZE.
if "pool" in DATABASES["default"].get("OPTIONS", {}):  # noqa: F405
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 30  # noqa: F405
# Webhook tests run their receivers on 127.0.0.1 over http; the production
# rules are tested with override_settings.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
WEBHOOKS_REQUIRE_HTTPS = False
