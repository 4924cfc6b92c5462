"""Record what each attempt's draw started from, so staff can replay it.

Attempts started before this have no snapshot (null): which questions were
retired or moved, the blueprint and the shuffle flags at their start were
never kept, so their replay says it cannot be reconstructed instead of
guessing from today's pool.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0006_choice_feedback"),
    ]

    operations = [
        migrations.CreateModel(
            name="DrawSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("data", models.JSONField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["pk"]},
        ),
        migrations.AddField(
            model_name="attempt",
            name="draw_snapshot",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="attempts",
                to="exams.drawsnapshot",
            ),
        ),
        migrations.AddField(
            model_name="attempt",
            name="draw_seen",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
