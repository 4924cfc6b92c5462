"""Demo exams: published, pools three times the draw, idempotent, takeable."""

import pytest

from exams import demo, services
from exams.models import BlueprintRule, Exam, Question

pytestmark = pytest.mark.django_db


def test_seed_exams_is_idempotent_and_publishes_both():
    first = demo.seed_exams()
    counts = (Exam.objects.count(), Question.objects.count(), BlueprintRule.objects.count())
    second = demo.seed_exams()
    assert [e.pk for e in first] == [e.pk for e in second]
    assert counts == (
        Exam.objects.count(),
        Question.objects.count(),
        BlueprintRule.objects.count(),
    )
    assert {e.title for e in second} == {
        "Developer certification exam",
        "Architect certification exam",
        "Developer renewal exam",
        "Architect renewal exam",
    }
    assert all(e.is_published for e in Exam.objects.all())


def test_every_topic_holds_three_times_its_draw():
    demo.seed_exams()
    for rule in BlueprintRule.objects.select_related("topic"):
        pool = rule.topic.questions.filter(is_active=True).count()
        assert pool >= 3 * rule.count, rule.topic.name
    for exam in Exam.objects.all():
        renewal = exam.slug.endswith("-renewal")
        # A renewal exam is shorter than the full one.
        assert sum(r.count for r in exam.blueprint.all()) == (6 if renewal else 10)
        assert exam.time_limit_minutes == (12 if renewal else 20)


def test_a_demo_exam_can_be_taken(learner):
    exam = demo.seed_exams()[0]
    attempt, created = services.attempt_start(person=learner, exam=exam)
    assert created and attempt.items.count() == 10
    result = services.attempt_submit(person=learner, attempt_id=attempt.pk)
    assert result.score_total == 10 and result.passed is False
