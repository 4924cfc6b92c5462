"""Settings shared by every environment.

Environment variables are read here and only here (production.py tightens them).
SQLite is the embedded default; DATABASE_URL switches to PostgreSQL.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def with_query_defaults(url: str, **defaults: float) -> str:
    """`url` with each of `defaults` added to its query string unless it names it already."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in defaults.items():
        query.setdefault(key, str(value))
    return urlunsplit(parts._replace(query=urlencode(query)))


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
ENVIRONMENT = "development"  # production.py says "production"; seed_demo refuses to run there
# Without SITE_URL, links in e-mails, certificates and Open Badges point at the
# port this machine serves on (`PORT=8770 make run`), not at a fixed 8000.
SITE_URL = os.environ.get(
    "SITE_URL", "http://127.0.0.1:{}".format(os.environ.get("PORT", "8000"))
).rstrip("/")

INSTALLED_APPS = [
    # project apps (order: lowest layer first)
    "lms",
    "courses",
    "exams",
    "certificates",
    "partners",
    "cms",
    # wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # third party
    "csp",
    "django_q",
    # second factor: TOTP apps and single-use recovery codes (lms.two_factor)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",  # serves the API docs (Swagger UI) from our static files, not a CDN (CSP)
    # django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 503 + Retry-After, not 500, when no database connection can be had (lms.overload).
    "lms.overload.OverloadMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The admins' sign-in pages give way to ours (which asks for the code), and
    # the admins need a verified session from whoever must use a second factor.
    "lms.views_two_factor.TwoFactorAdminMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lms.csp.PathPolicyMiddleware",  # django-csp 4, with a looser policy for the admins only
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Repeat views of a lesson by the same session (courses.learner_page_cache); inside
    # every middleware that adds headers, so cached answers carry them too.
    "courses.learner_page_cache.LearnerPageCacheMiddleware",
    # Dates and times in the signed-in person's own zone (lms.timezones). Inside the
    # lesson copy cache, whose repeat views need not load the user (a zone change
    # retires the copies: it saves the user row).
    "lms.timezones.UserTimeZoneMiddleware",
    # Last, so it sees the view's answer: a paused sign-in becomes 429 (lms.throttle).
    "lms.throttle.LoginThrottleMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "lms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "lms.context_processors.site",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
# SQLite options (docs/pitfalls.md): WAL + IMMEDIATE transactions + a long busy
# timeout lost 0 % of concurrent saves where Django's defaults lost a third.
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"),
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, with a health check that sends no query (see it).
        DATABASES["default"]["ENGINE"] = "lms.db_backends.postgresql"
        # Values bound on the server, and a statement run 5 times on a
        # connection prepared there (psycopg's automatic prepared statements;
        # Django's documented server_side_binding option): the hot statements
        # (the API token lookup, the answer save) are then planned once per
        # connection instead of on every request. By default Django binds on
        # the client and nothing is prepared. DB_PREPARED_STATEMENTS=0 keeps
        # that default (PgBouncer in transaction mode before 1.21).
        if os.environ.get("DB_PREPARED_STATEMENTS", "1") != "0":
            DATABASES["default"].setdefault("OPTIONS", {}).update(
                server_side_binding=True, prepare_threshold=5
            )
        # A bounded pool per process (Django 5.2, psycopg_pool): each web
        # process holds at most DB_POOL_MAX_SIZE connections whatever its
        # thread count, and a request that waits longer than DB_POOL_TIMEOUT
        # for one is answered 503 (lms.overload), instead of every thread
        # keeping its own connection until PostgreSQL's max_connections runs
        # out. The pool checks a connection when lending it, so Django's
        # per-request health check and CONN_MAX_AGE give way (the lending
        # check is psycopg's: an empty query, one round trip; our backend's
        # socket-only is_usable serves the DB_POOL=0 case). DB_POOL=0 turns
        # it off (PgBouncer in front does the pooling).
        if env_bool("DB_POOL", True):
            DATABASES["default"]["CONN_MAX_AGE"] = 0
            DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
                "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "1")),
                "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "4")),
                "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": SQLITE_OPTIONS,
            # Reuse connections: opening one (and its PRAGMAs) per request cost
            # ~90 % of /healthz's throughput in the benchmark.
            "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- users and authentication ---------------------------------------------
AUTH_USER_MODEL = "lms.User"
AUTHENTICATION_BACKENDS = [
    # E-mail + password, throttled; it decides every password check alone.
    "lms.backends.ThrottledEmailBackend",
    # Only loads users of sessions signed in through it (sign-up, older sessions).
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Throttling of failed sign-ins (lms.throttle), counted in the database. A
# pair (client IP, account) pauses after LOGIN_FAILURE_LIMIT failures within
# the cool-off; an account after LOGIN_ACCOUNT_FAILURE_LIMIT from any IPs;
# an IP after LOGIN_IP_FAILURE_LIMIT for any accounts within its own window.
# A limit <= 0 is off.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_COOLOFF_MINUTES = int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15"))
LOGIN_ACCOUNT_FAILURE_LIMIT = int(os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMIT", "20"))
LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("LOGIN_IP_FAILURE_LIMIT", "100"))
LOGIN_IP_WINDOW_MINUTES = int(os.environ.get("LOGIN_IP_WINDOW_MINUTES", "5"))

# Second factor (lms.two_factor). OTP_REQUIRED: instructors, programme staff
# and superusers must use one for the admins and API tokens (production.py turns
# it on unless the environment says 0). Anyone who has confirmed a device is
# asked for a code at sign-in whatever this says.
OTP_REQUIRED = env_bool("OTP_REQUIRED", False)
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = "Partner Academy"
# Superusers remove a lost phone's device in the Django admin; they never
# need to see its secret key or QR code there.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Client IP (lms.client_ip): REMOTE_ADDR, or with N trusted proxies in front
# (a load balancer: 1) the N-th entry from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Sign-up and account e-mails (lms.confirmation). Hourly limits per client IP;
# the per-address ones hold mail back quietly (the page answers the same).
EMAIL_CONFIRMATION_HOURS = int(os.environ.get("EMAIL_CONFIRMATION_HOURS", "24"))
SIGNUP_RATE_LIMIT = int(os.environ.get("SIGNUP_RATE_LIMIT", "10"))
PASSWORD_RESET_RATE_LIMIT = int(os.environ.get("PASSWORD_RESET_RATE_LIMIT", "10"))
PASSWORD_RESET_EMAIL_LIMIT = int(os.environ.get("PASSWORD_RESET_EMAIL_LIMIT", "3"))
CONFIRMATION_RESEND_RATE_LIMIT = int(os.environ.get("CONFIRMATION_RESEND_RATE_LIMIT", "5"))
CONFIRMATION_RESEND_EMAIL_LIMIT = int(os.environ.get("CONFIRMATION_RESEND_EMAIL_LIMIT", "3"))

# Partner limits: invitations per partner per day, report and certificates-zip
# builds per partner per hour, and the largest roll-up PDF rendered (rows).
INVITATION_DAILY_LIMIT = int(os.environ.get("INVITATION_DAILY_LIMIT", "50"))
# Months an approved (provisional) partner has to meet the partner requirements
# before it is suspended (docs/product-rules.md).
PARTNER_PROVISIONAL_MONTHS = int(os.environ.get("PARTNER_PROVISIONAL_MONTHS", "6"))
PARTNER_BUILD_RATE_LIMIT = int(os.environ.get("PARTNER_BUILD_RATE_LIMIT", "20"))
REPORT_PDF_MAX_ROWS = int(os.environ.get("REPORT_PDF_MAX_ROWS", "500"))

# Personal API tokens.
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))

# --- i18n / time ----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
# Private files (certificates, project uploads) live outside the public media root.
PRIVATE_ROOT = Path(os.environ.get("PRIVATE_ROOT", str(BASE_DIR / "var" / "private")))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # S3-compatible object storage via django-storages (pip install ".[s3]").
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- e-mail ---------------------------------------------------------------
# dev.py keeps an EMAIL_BACKEND given in the environment and prints mail otherwise.
EMAIL_BACKEND_FROM_ENV = os.environ.get("EMAIL_BACKEND", "")
EMAIL_BACKEND = EMAIL_BACKEND_FROM_ENV or "django.core.mail.backends.smtp.EmailBackend"
# With the file backend each e-mail is a file in this folder (`make run` uses
# var/mail), so someone trying the site locally can open confirmation links.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Partner Academy <academy@example.com>")

# --- cache ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to connect to Redis and to wait for an answer: when it is down or
# unreachable, a request loses at most this much before carrying on without it.
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "1"))
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, except that Redis being down is a miss (and a
            # lost write, cleared once it is back), not a 500 (lms.cache).
            "BACKEND": "lms.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Repeat lesson views answered from a per-session copy (courses.learner_page_cache).
# Its invalidation needs a cache every web process shares, so it is on by
# default only with Redis; LEARNER_PAGE_CACHE=1/0 overrides.
LEARNER_PAGE_CACHE = env_bool("LEARNER_PAGE_CACHE", bool(REDIS_URL))
# Sessions are read from the shared cache and written through to the
# database; a per-process cache would keep a signed-out session alive in
# other processes, so without Redis they are read from the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# --- background jobs (django-q2) -------------------------------------------
# docs/pitfalls.md: retry > timeout (plus queue wait) so a slow task is not run
# twice; catch_up off so missed schedules do not replay after downtime; the ORM
# broker keeps receipts, Redis is used when REDIS_URL is set.
Q_CLUSTER = {
    "name": "academy",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 120,
    # Seconds after which a task not acknowledged (its worker stopped or died)
    # is handed out again; Q_RETRY_SECONDS lets tests see that sooner.
    "retry": int(os.environ.get("Q_RETRY_SECONDS", "300")),
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "recycle": 200,
    "max_rss": 300_000,  # KiB: recycle a worker that grew past ~300 MB (PDF rendering)
    "save_limit": 1000,
    "queue_limit": 50,
    "label": "Background jobs",
    "orm": "default",
    "poll": 1,
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    # Bounded waits: with Redis unreachable, queueing fails within a second
    # or two (and lms.outbox keeps the work) instead of hanging a request.
    Q_CLUSTER["redis"] = with_query_defaults(
        REDIS_URL, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )

# After-commit work (lms.outbox): a row in the cause's transaction, queued on
# commit, run once (claimed), queued again by the sweep every minute while it
# is not done. A run holds its row for OUTBOX_CLAIM_SECONDS (longer than the
# django-q2 timeout, after which a task is killed anyway); a row whose queue
# message is lost is queued again after OUTBOX_REQUEUE_SECONDS; a failing one
# after a back-off doubling from a minute (at most an hour), until
# OUTBOX_MAX_ATTEMPTS runs. Done rows are deleted after OUTBOX_KEEP_DAYS.
OUTBOX_CLAIM_SECONDS = int(os.environ.get("OUTBOX_CLAIM_SECONDS", str(Q_CLUSTER["timeout"] + 60)))
OUTBOX_REQUEUE_SECONDS = int(os.environ.get("OUTBOX_REQUEUE_SECONDS", "300"))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "5"))
OUTBOX_KEEP_DAYS = int(os.environ.get("OUTBOX_KEEP_DAYS", "7"))

# Project grading: the staff report of grader agreement covers each grader's
# last GRADER_AGREEMENT_WINDOW double-graded submissions.
GRADER_AGREEMENT_WINDOW = max(1, int(os.environ.get("GRADER_AGREEMENT_WINDOW", "50")))

# Partner webhooks (partners.webhooks; docs/security.md). Production: https
# only, public addresses only (checked at every delivery). Development and
# test settings turn both off so receivers on 127.0.0.1 work.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", True)
# A delivery counts when a 2xx answer arrives within this many seconds.
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# Fernet keys for the stored signing secrets (comma-separated, the first
# encrypts); empty: a key derived from SECRET_KEY (partners.webhooks.crypto).
WEBHOOKS_ENCRYPTION_KEYS = env_list("WEBHOOKS_ENCRYPTION_KEYS")
WEBHOOKS_MAX_ENDPOINTS = int(os.environ.get("WEBHOOKS_MAX_ENDPOINTS", "20"))

# Exam accommodations (exams.accommodations; docs/product-rules.md): the most
# rest breaks per attempt and the longest break staff may grant.
ACCOMMODATION_MAX_BREAKS = int(os.environ.get("ACCOMMODATION_MAX_BREAKS", "4"))
ACCOMMODATION_MAX_BREAK_MINUTES = int(os.environ.get("ACCOMMODATION_MAX_BREAK_MINUTES", "30"))

# Open Badges 3.0 signing key (Ed25519): PEM or base64 of the 32-byte seed. Empty:
# a dev-only key derived from SECRET_KEY; production answers 503 until it is set
# (certificates.keys; system check certificates.I001).
OPEN_BADGES_SIGNING_KEY = os.environ.get("OPEN_BADGES_SIGNING_KEY", "")

# --- wagtail ----------------------------------------------------------------
WAGTAIL_SITE_NAME = "Partner Academy"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = True
WAGTAIL_PASSWORD_RESET_ENABLED = True
# The admin makes no request to another site: no avatars from gravatar.com
# (which would also hand it a hash of every staff e-mail address) ...
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# ... and no superuser dashboard fetch of releases.wagtail.org (upgrades are
# planned from the changelog, not from a banner).
WAGTAIL_ENABLE_UPDATE_CHECK = False

# --- security headers (tightened in production.py) -------------------------
X_FRAME_OPTIONS = "DENY"  # Wagtail overrides this to SAMEORIGIN for its preview panel
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # Our pages load every script from a static file: no inline script, no
        # on*= handlers, no eval. No nonces either: lesson pages are answered
        # from a per-session cached copy (courses.learner_page_cache).
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Added to the policy above under these path prefixes (lms.csp.PathPolicyMiddleware).
CSP_PATH_UPDATES = {
    # Wagtail 8's admin still writes an inline <script> after each date and
    # date-time widget (initDateChooser / initDateTimeChooser: the listing and
    # history filters, a page's go-live and expiry dates), after each page
    # chooser (new PageChooser(...): sites, redirects) and InlinePanel, and its
    # editor panels set style attributes. Without these the filters, the page
    # editor's scheduling fields and the choosers break. Nonces cannot help:
    # those scripts are rendered by Wagtail's widgets, not by our templates.
    "/admin/": {"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]},
    # Django 5.2's admin runs under our strict policy as it is (it passes data
    # in <script type="application/json">), so it gets nothing added.
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
