"""Programme lifecycle: status history, deadlines, reminders, re-reviews.

The data step gives existing partners their lifecycle fields:
- provisional partners take their application's provisional deadline (none
  when staff created them without an application: staff may set one);
- active partners get their first re-review 12 months after their approval
  (or creation), but never sooner than 60 days after this migration, so the
  30- and 7-day reminders reach them before anything is due;
- suspended partners return to active when reinstated (the state they were
  suspended from was not recorded), the suspension counted as staff's.
It also schedules the daily lifecycle job (django-q2).
"""

import calendar
import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DAILY = "D"
SCHEDULE_NAME = "Partner lifecycle deadlines"
SCHEDULE_FUNC = "partners.lifecycle.tasks.run_lifecycle_deadlines"


def _add_months(moment, months):
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def existing_states(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    Application = apps.get_model("partners", "PartnerApplication")
    now = datetime.datetime.now(datetime.UTC)
    applications = {a.partner_id: a for a in Application.objects.all()}
    for partner in Partner.objects.filter(status__in=["provisional", "active", "suspended"]):
        application = applications.get(partner.pk)
        approved = (application.decided_at if application else None) or partner.created_at
        if partner.status == "provisional":
            partner.provisional_deadline = application.provisional_deadline if application else None
        else:
            partner.activated_at = approved
            partner.rereview_due_at = max(
                _add_months(approved, 12), now + datetime.timedelta(days=60)
            )
        if partner.status == "suspended":
            partner.suspended_from = "active"
            partner.suspension_cause = "staff"
        partner.save(
            update_fields=[
                "provisional_deadline",
                "activated_at",
                "rereview_due_at",
                "suspended_from",
                "suspension_cause",
            ]
        )
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SCHEDULE_FUNC, "schedule_type": DAILY, "repeats": -1},
    )


def forget_states(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()
    Partner = apps.get_model("partners", "Partner")
    Partner.objects.filter(status="terminated").update(status="suspended")


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0006_trackstatuschange_emailed_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name='PartnerDeadlineReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('provisional', 'Provisional deadline'), ('rereview', 'Re-review')], max_length=20)),
                ('deadline', models.DateTimeField()),
                ('days', models.PositiveSmallIntegerField()),
                ('sent_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-sent_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='PartnerReReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('confirmed_at', models.DateTimeField()),
                ('due_at', models.DateTimeField()),
                ('restricted_business_attested_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-confirmed_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='PartnerStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(choices=[('applicant', 'Applicant'), ('provisional', 'Provisional'), ('active', 'Active'), ('suspended', 'Suspended'), ('terminated', 'Terminated')], max_length=20)),
                ('to_status', models.CharField(choices=[('applicant', 'Applicant'), ('provisional', 'Provisional'), ('active', 'Active'), ('suspended', 'Suspended'), ('terminated', 'Terminated')], max_length=20)),
                ('reason', models.TextField(blank=True)),
                ('rule', models.CharField(blank=True, max_length=40)),
                ('at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-at', '-pk'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='partner',
            name='partners_partner_status_valid',
        ),
        migrations.AddField(
            model_name='partner',
            name='activated_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='partner',
            name='payments_account_confirmed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='partner',
            name='payments_account_confirmed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='partner',
            name='provisional_deadline',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='partner',
            name='rereview_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='partner',
            name='suspended_from',
            field=models.CharField(blank=True, editable=False, max_length=20),
        ),
        migrations.AddField(
            model_name='partner',
            name='suspension_cause',
            field=models.CharField(blank=True, editable=False, max_length=30),
        ),
        migrations.AlterField(
            model_name='partner',
            name='status',
            field=models.CharField(choices=[('applicant', 'Applicant'), ('provisional', 'Provisional'), ('active', 'Active'), ('suspended', 'Suspended'), ('terminated', 'Terminated')], default='applicant', max_length=20),
        ),
        migrations.AddIndex(
            model_name='partner',
            index=models.Index(fields=['status', 'provisional_deadline'], name='partners_partner_deadline'),
        ),
        migrations.AddIndex(
            model_name='partner',
            index=models.Index(fields=['status', 'rereview_due_at'], name='partners_partner_rereview'),
        ),
        migrations.AddConstraint(
            model_name='partner',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['applicant', 'provisional', 'active', 'suspended', 'terminated'])), name='partners_partner_status_valid'),
        ),
        migrations.RunPython(existing_states, forget_states),
        migrations.AddConstraint(
            model_name='partner',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'suspended'), _negated=True), models.Q(('suspended_from', ''), _negated=True), _connector='OR'), name='partners_partner_suspension_returns_somewhere'),
        ),
        migrations.AddField(
            model_name='partnerdeadlinereminder',
            name='partner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='partners.partner'),
        ),
        migrations.AddField(
            model_name='partnerrereview',
            name='agreement',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='partners.partneragreement'),
        ),
        migrations.AddField(
            model_name='partnerrereview',
            name='confirmed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='partnerrereview',
            name='partner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rereviews', to='partners.partner'),
        ),
        migrations.AddField(
            model_name='partnerstatuschange',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='partnerstatuschange',
            name='partner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='partners.partner'),
        ),
        migrations.AddConstraint(
            model_name='partnerdeadlinereminder',
            constraint=models.UniqueConstraint(fields=('partner', 'kind', 'deadline', 'days'), name='partners_partnerdeadlinereminder_once'),
        ),
        migrations.AddConstraint(
            model_name='partnerrereview',
            constraint=models.UniqueConstraint(fields=('partner', 'due_at'), name='partners_partnerrereview_once_per_due_date'),
        ),
        migrations.AddIndex(
            model_name='partnerstatuschange',
            index=models.Index(fields=['partner', 'at'], name='partners_psc_history'),
        ),
        migrations.AddConstraint(
            model_name='partnerstatuschange',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('by__isnull', False), ('rule', '')), models.Q(('by__isnull', True), models.Q(('rule', ''), _negated=True)), _connector='OR'), name='partners_partnerstatuschange_person_or_rule'),
        ),
    ]
