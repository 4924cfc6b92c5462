from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .timezones import TIME_ZONE_MAX_LENGTH, validate_time_zone


class EmailUserManager(UserManager):
    """Users sign in with their e-mail address; it is unique regardless of case."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        # Whoever runs createsuperuser controls the server; there is no link to follow.
        extra_fields.setdefault("email_confirmed_at", timezone.now())
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person: learner, partner admin, instructor or programme staff.

    `legal_name` is the name printed on certificates; the person edits it.
    `email_confirmed_at` is set when the person followed the confirmation link
    (lms.confirmation); until then the account cannot sign in and is issued no
    certificate. `create_user` leaves it empty: whoever creates an account in
    code decides whether the address is proven. `time_zone` (lms.timezones) is
    where the person's dates and times are shown; empty means the site's zone.
    """

    username = None
    email = models.EmailField("e-mail address", unique=True)
    legal_name = models.CharField(
        "name on certificates",
        max_length=200,
        blank=True,
        help_text="Printed on your certificates exactly as written here.",
    )
    email_confirmed_at = models.DateTimeField(
        "e-mail confirmed",
        null=True,
        blank=True,
        help_text="When the person followed the link sent to their address. Empty: they "
        "cannot sign in yet.",
    )

    time_zone = models.CharField(
        "time zone",
        max_length=TIME_ZONE_MAX_LENGTH,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="Dates and times are shown to this person in this zone (an IANA name such "
        "as Europe/Paris). Empty: the site's zone.",
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="lms_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def display_name(self) -> str:
        return self.legal_name or self.get_full_name() or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Normalising the stored form keeps the case-insensitive rule cheap to query.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class ApiToken(models.Model):
    """A personal API token (`Authorization: Bearer <token>`).

    Only the SHA-256 of the token is stored; the token itself is shown once,
    when it is created. `prefix` (its first characters) lets a person tell
    their tokens apart. Workflows live in `lms.tokens`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_api_tokens"
    )
    name = models.CharField("label", max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="lms_apitoken_user_created"),
            models.Index(fields=["expires_at"], name="lms_apitoken_expires"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="lms_apitoken_expires_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"


class RateEvent(models.Model):
    """One counted event for a rate limit or sign-in throttle (lms.ratelimit).

    `key` is a digest of the scope and the thing counted (an IP, an account,
    a partner), never the value itself.
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "key", "created_at"], name="lms_rateevent_scope_key_at"),
            models.Index(fields=["created_at"], name="lms_rateevent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class OutboxTask(models.Model):
    """A piece of after-commit work, recorded in its cause's transaction (lms.outbox).

    `task` is the dotted path of the function that does it, called with
    `args` and `kwargs` (JSON). A row is pending until `done_at` is set; a
    worker running it holds it until `claimed_until`; `due_at` is when the
    periodic sweep queues it again if it is still not done (its queue message
    lost, its worker killed, or a failure's back-off over). `attempts` counts
    the runs started; past `OUTBOX_MAX_ATTEMPTS` the row is given up and waits
    for a person (`last_error` says why). The payload is cleared once done: it
    may hold a mail's personal data or a one-time link.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "after-commit task"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(done_at__isnull=True), name="lms_outbox_pending_due"
            ),
            models.Index(
                fields=["done_at"], condition=Q(done_at__isnull=False), name="lms_outbox_done"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
