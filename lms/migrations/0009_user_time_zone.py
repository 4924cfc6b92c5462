from django.db import migrations, models

import lms.timezones


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0008_outbox_task"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="time_zone",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Dates and times are shown to this person in this zone (an IANA name "
                "such as Europe/Paris). Empty: the site's zone.",
                max_length=64,
                validators=[lms.timezones.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
    ]
