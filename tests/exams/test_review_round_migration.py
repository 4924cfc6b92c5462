"""The migration to review rounds keeps every existing review in its place."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("exams", "0009_accommodation_staff_permissions")]
AFTER = [("exams", "0010_review_rounds_and_default_margin")]


def migrate(targets):
    """Migrate exams to `targets` with every other app at its latest state (so
    the historical models carry their fields, a person's time zone among them)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "exams"]
    executor.migrate(others + targets)
    return executor.loader.project_state(others + targets).apps


@pytest.mark.django_db(transaction=True)
def test_is_second_becomes_round_two_and_the_rest_round_one():
    old = migrate(BEFORE)
    user_model = old.get_model("lms", "User")
    learner = user_model.objects.create(email="learner@example.com")
    first = user_model.objects.create(email="first@example.com")
    second = user_model.objects.create(email="second@example.com")
    brief = old.get_model("exams", "ProjectBrief").objects.create(
        slug="old-brief", title="Old", instructions="-", pass_threshold=70, second_grader_margin=5
    )
    submissions = old.get_model("exams", "Submission")
    reviews = old.get_model("exams", "Review")
    now = timezone.now()
    double = submissions.objects.create(
        person=learner, brief=brief, status="passed", created_at=now, decided_at=now, score=70
    )
    single = submissions.objects.create(
        person=learner, brief=brief, status="failed", created_at=now, decided_at=now, score=10
    )
    row = {"scores": {}, "details": [], "created_at": now}
    reviews.objects.create(
        submission=double, grader=first, total=69, outcome="revise", is_second=False, **row
    )
    reviews.objects.create(
        submission=double, grader=second, total=71, outcome="passed", is_second=True, **row
    )
    reviews.objects.create(
        submission=single, grader=first, total=10, outcome="failed", is_second=False, **row
    )

    new = migrate(AFTER)
    migrated = new.get_model("exams", "Review").objects.order_by("submission_id", "round")
    assert [(r.submission_id, r.grader_id, r.total, r.round) for r in migrated] == [
        (double.pk, first.pk, 69, 1),
        (double.pk, second.pk, 71, 2),
        (single.pk, first.pk, 10, 1),
    ]
    # A brief's own margin stays; the decisions stand.
    assert new.get_model("exams", "ProjectBrief").objects.get().second_grader_margin == 5
    assert not new.get_model("exams", "Submission").objects.filter(needs_third_review=True).exists()
