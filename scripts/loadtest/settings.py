"""Settings of the load-test nodes: the production settings (or, for the
single-node run, `make run`'s), with two changes: a fast password hasher, and static files collected
without compressed copies.

Each simulated person signs in once; with Django's PBKDF2 (a third of a
second of CPU per sign-in on the 2-core machine) the run would measure the
hasher, not the site. `LOADTEST_REAL_HASHER=1` keeps the real one.
"""

import os

if os.environ.get("LOADTEST_BASE_SETTINGS") == "dev":
    from lms.settings.dev import *  # noqa: F403
else:
    from lms.settings.production import *  # noqa: F403

# nginx serves the static files in the cluster: hashed names, without
# WhiteNoise's compressed copies (minutes of CPU to build on this machine).
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
}

if os.environ.get("LOADTEST_REAL_HASHER", "0") != "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
