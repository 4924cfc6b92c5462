"""Track status: per-track rule settings, technical verifications, the computed
status and its history, apps milestone figures; seeds one rule row per track
with the programme defaults and schedules the daily recompute (django-q2).

Data steps are idempotent (get_or_create) and use literals on purpose: a
migration must not import code that may change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import partners.models

TRACKS = ["apps", "embedded_payments", "services", "technology"]
DAILY = "D"
SCHEDULE_NAME = "Recompute partner track statuses"
SCHEDULE_FUNC = "partners.tasks.recompute_all_partner_statuses"


def seed(apps, schema_editor):
    TrackRuleSetting = apps.get_model("partners", "TrackRuleSetting")
    for track in TRACKS:
        TrackRuleSetting.objects.get_or_create(
            track=track,
            defaults={
                "required": 2,
                "grace_days": 60,
                "counting_certifications": ["developer", "architect"],
            },
        )
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SCHEDULE_FUNC, "schedule_type": DAILY, "repeats": -1},
    )


def unseed(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_create_instructor_and_staff_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrackRuleSetting",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "track",
                    models.CharField(
                        choices=[
                            ("apps", "Apps"),
                            ("embedded_payments", "Embedded payments"),
                            ("services", "Services"),
                            ("technology", "Technology"),
                        ],
                        max_length=30,
                        unique=True,
                    ),
                ),
                (
                    "required",
                    models.PositiveSmallIntegerField(
                        default=2, help_text="Certified individuals a partner needs on this track."
                    ),
                ),
                (
                    "grace_days",
                    models.PositiveSmallIntegerField(
                        default=60,
                        help_text="Days a track stays verified (at risk) after the count drops.",
                    ),
                ),
                (
                    "counting_certifications",
                    models.JSONField(
                        default=partners.models.default_counting_certifications,
                        help_text='Certification slugs that count, e.g. ["developer"].',
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["track"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("track__in", ["apps", "embedded_payments", "services", "technology"])
                        ),
                        name="partners_trackrulesetting_track_valid",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AppMilestoneFigure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("installs", models.PositiveBigIntegerField(default=0)),
                (
                    "payment_volume_usd",
                    models.DecimalField(decimal_places=2, default=0, max_digits=18),
                ),
                ("app_review_passed", models.BooleanField(default=False)),
                ("recorded_on", models.DateField()),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="app_figures",
                        to="partners.partner",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["partner", "-recorded_on", "-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["partner", "recorded_on"], name="partners_amf_latest")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("installs__gte", 0), ("payment_volume_usd__gte", 0)),
                        name="partners_appmilestonefigure_non_negative",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TechnicalVerification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "track",
                    models.CharField(
                        choices=[
                            ("apps", "Apps"),
                            ("embedded_payments", "Embedded payments"),
                            ("services", "Services"),
                            ("technology", "Technology"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("passed", "Passed"), ("failed", "Failed")], max_length=10
                    ),
                ),
                ("decided_on", models.DateField()),
                ("notes", models.TextField(blank=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="technical_verifications",
                        to="partners.partner",
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["partner", "track", "-decided_on", "-created_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["partner", "track", "decided_on"], name="partners_tv_latest"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["passed", "failed"])),
                        name="partners_technicalverification_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("track__in", ["apps", "embedded_payments", "services", "technology"])
                        ),
                        name="partners_technicalverification_track_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="TrackStatusChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "track",
                    models.CharField(
                        choices=[
                            ("apps", "Apps"),
                            ("embedded_payments", "Embedded payments"),
                            ("services", "Services"),
                            ("technology", "Technology"),
                        ],
                        max_length=30,
                    ),
                ),
                ("from_state", models.CharField(blank=True, max_length=20)),
                (
                    "to_state",
                    models.CharField(
                        choices=[
                            ("verified", "Verified"),
                            ("at_risk", "At risk"),
                            ("not_verified", "Not verified"),
                        ],
                        max_length=20,
                    ),
                ),
                ("from_milestone", models.CharField(blank=True, default="", max_length=10)),
                ("to_milestone", models.CharField(blank=True, default="", max_length=10)),
                ("reason", models.CharField(blank=True, max_length=40)),
                ("explanation", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="track_status_changes",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "indexes": [
                    models.Index(fields=["partner", "track", "at"], name="partners_tsc_history")
                ],
            },
        ),
        migrations.CreateModel(
            name="TrackStatusRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "track",
                    models.CharField(
                        choices=[
                            ("apps", "Apps"),
                            ("embedded_payments", "Embedded payments"),
                            ("services", "Services"),
                            ("technology", "Technology"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("verified", "Verified"),
                            ("at_risk", "At risk"),
                            ("not_verified", "Not verified"),
                        ],
                        max_length=20,
                    ),
                ),
                ("verified", models.BooleanField(default=False)),
                ("certified_individuals", models.PositiveIntegerField(default=0)),
                ("required", models.PositiveSmallIntegerField(default=2)),
                ("technical_verification", models.CharField(default="missing", max_length=10)),
                ("at_risk_until", models.DateTimeField(blank=True, null=True)),
                ("lapses_on", models.DateTimeField(blank=True, null=True)),
                ("below_required_since", models.DateTimeField(blank=True, null=True)),
                ("renewals_that_matter", models.JSONField(blank=True, default=list)),
                (
                    "milestone",
                    models.CharField(
                        blank=True,
                        choices=[("", "None"), ("build", "Build"), ("growth", "Growth")],
                        default="",
                        max_length=10,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=40)),
                ("explanation", models.TextField(blank=True)),
                ("computed_at", models.DateTimeField()),
                ("changed_at", models.DateTimeField()),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="track_statuses",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["partner", "track"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("partner", "track"), name="partners_trackstatusrecord_one_per_track"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("state__in", ["verified", "at_risk", "not_verified"])),
                        name="partners_trackstatusrecord_state_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
