from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


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

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person: learner, partner admin, instructor or programme staff.

    `legal_name` is the name printed on certificates; the person edits it.
    """

    username = None
    email = models.EmailField("e-mail address", unique=True)
    legal_name = models.CharField(
        "name on certificates",
        max_length=200,
        blank=True,
        help_text="Printed on your certificates exactly as written here.",
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
    def display_name(self) -> str:
        return self.legal_name or self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        # Normalising the stored form keeps the case-insensitive rule cheap to query.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)
