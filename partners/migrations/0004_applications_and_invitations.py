"""Partner applications (agreement versions and their acceptance, attestations,
the staff decision) and e-mailed invitations; seeds agreement version 1.0."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def seed_agreement(apps, schema_editor):
    # A first agreement version so a company can apply on a fresh install;
    # staff publish later versions in the admin. Literals on purpose.
    PartnerAgreement = apps.get_model("partners", "PartnerAgreement")
    PartnerAgreement.objects.get_or_create(
        version="1.0",
        defaults={
            "title": "Partner Programme Agreement",
            "url": "https://stripe.com/legal/partner-ecosystem",
            "text": "The terms of the Partner Programme, version 1.0.",
            "effective_from": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_track_status"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PartnerAgreement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.CharField(max_length=40, unique=True)),
                ("title", models.CharField(default="Partner Programme Agreement", max_length=200)),
                ("text", models.TextField(blank=True)),
                ("url", models.URLField(blank=True)),
                ("effective_from", models.DateTimeField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-effective_from", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="AgreementAcceptance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("accepted_at", models.DateTimeField()),
                (
                    "accepted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="agreement_acceptances",
                        to="partners.partner",
                    ),
                ),
                (
                    "agreement",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acceptances",
                        to="partners.partneragreement",
                    ),
                ),
            ],
            options={
                "ordering": ["-accepted_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="PartnerApplication",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "tracks",
                    models.JSONField(default=list, help_text="Tracks chosen when applying."),
                ),
                ("restricted_business_attested_at", models.DateTimeField()),
                ("embedded_payments_attested_at", models.DateTimeField(blank=True, null=True)),
                ("submitted_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("rejection_reason", models.TextField(blank=True)),
                ("provisional_deadline", models.DateTimeField(blank=True, null=True)),
                (
                    "agreement_acceptance",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.agreementacceptance",
                    ),
                ),
                (
                    "applicant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="partner_applications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "partner",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="application",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-submitted_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254)),
                (
                    "role",
                    models.CharField(
                        choices=[("employee", "Employee"), ("admin", "Partner admin")],
                        default="employee",
                        max_length=20,
                    ),
                ),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_reason", models.CharField(blank=True, max_length=200)),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "membership",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.membership",
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="invitations",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("accepted_at__isnull", True), ("revoked_at__isnull", True)
                        ),
                        fields=("partner", "email"),
                        name="partners_invitation_one_open_per_email",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("accepted_at__isnull", True),
                            ("revoked_at__isnull", True),
                            _connector="OR",
                        ),
                        name="partners_invitation_not_accepted_and_revoked",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("role__in", ["employee", "admin"])),
                        name="partners_invitation_role_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="partners_invitation_expires_after_created",
                    ),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="agreementacceptance",
            constraint=models.UniqueConstraint(
                fields=("partner", "agreement"), name="partners_agreementacceptance_once"
            ),
        ),
        migrations.AddIndex(
            model_name="partnerapplication",
            index=models.Index(
                fields=["status", "provisional_deadline"], name="partners_app_deadline"
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerapplication",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "approved", "rejected"])),
                name="partners_partnerapplication_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerapplication",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "rejected"), _negated=True),
                    models.Q(("rejection_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="partners_partnerapplication_rejection_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerapplication",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "approved"), _negated=True),
                    ("provisional_deadline__isnull", False),
                    _connector="OR",
                ),
                name="partners_partnerapplication_approval_has_deadline",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerapplication",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "pending"), ("decided_at__isnull", False), _connector="OR"
                ),
                name="partners_partnerapplication_decision_has_time",
            ),
        ),
        migrations.RunPython(seed_agreement, migrations.RunPython.noop),
    ]
