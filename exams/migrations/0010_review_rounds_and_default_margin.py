"""Reviews get a round (1, 2, 3) instead of "is second", so a disagreement can go
to a third grader; briefs without their own borderline margin use the default
(10 % of the pass threshold, rounded up). Existing reviews keep their place:
a second review becomes round 2, every other one round 1. A margin of 0 was
what every brief got by default before, so it becomes "empty" (the new
default); staff who want no second grading set 0 again."""

from django.db import migrations, models


def rounds_from_is_second(apps, schema_editor):
    Review = apps.get_model("exams", "Review")
    Review.objects.filter(is_second=True).update(round=2)
    Review.objects.filter(is_second=False).update(round=1)


def is_second_from_rounds(apps, schema_editor):
    Review = apps.get_model("exams", "Review")
    if Review.objects.filter(round=3).exists():
        raise RuntimeError("Third reviews exist: they have no place in the older schema.")
    Review.objects.filter(round=2).update(is_second=True)
    Review.objects.filter(round=1).update(is_second=False)


def margins_to_default(apps, schema_editor):
    ProjectBrief = apps.get_model("exams", "ProjectBrief")
    ProjectBrief.objects.filter(second_grader_margin=0).update(second_grader_margin=None)


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0009_accommodation_staff_permissions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="projectbrief",
            name="second_grader_margin",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                help_text="A first review whose total is within this many points of the "
                "threshold goes to a second grader (0: never); two reviews whose totals are "
                "further apart go to a third. Empty: 10 % of the threshold, rounded up.",
            ),
        ),
        migrations.RunPython(margins_to_default, migrations.RunPython.noop),
        migrations.AddField(
            model_name="submission",
            name="needs_third_review",
            field=models.BooleanField(default=False),
        ),
        migrations.RemoveConstraint(
            model_name="review",
            name="exams_review_one_per_round",
        ),
        migrations.AddField(
            model_name="review",
            name="round",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "First review"), (2, "Second review"), (3, "Third review")],
                default=1,
            ),
        ),
        migrations.RunPython(rounds_from_is_second, is_second_from_rounds),
        migrations.RemoveField(
            model_name="review",
            name="is_second",
        ),
        migrations.AlterModelOptions(
            name="review",
            options={"ordering": ["submission_id", "round", "pk"]},
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.UniqueConstraint(
                fields=("submission", "round"), name="exams_review_one_per_round"
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("round__gte", 1), ("round__lte", 3)),
                name="exams_review_round_range",
            ),
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(fields=["grader", "round"], name="exams_review_grader_round"),
        ),
    ]
