"""Factories for the exams app: banks, topics, questions (through the services) and exams."""

import factory

from exams import services
from exams.models import Exam, QuestionBank, QuestionKind, Topic
from exams.services import ChoiceSpec


class QuestionBankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionBank

    slug = factory.Sequence(lambda n: f"bank-{n}")
    title = factory.Sequence(lambda n: f"Bank {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    bank = factory.SubFactory(QuestionBankFactory)
    name = factory.Sequence(lambda n: f"Topic {n}")
    objective = "Know the thing."


class ExamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exam

    slug = factory.Sequence(lambda n: f"exam-{n}")
    title = factory.Sequence(lambda n: f"Exam {n}")
    time_limit_minutes = 90


_counter = iter(range(10**9))


def make_question(topic, *, kind=QuestionKind.SINGLE, options=4, right=(0,), **kwargs):
    n = next(_counter)
    return services.question_create(
        topic=topic,
        kind=kind,
        stem=kwargs.pop("stem", f"Question {n} about {topic.name}?"),
        choices=[ChoiceSpec(f"Option {n}.{i}", i in right) for i in range(options)],
        explanation=kwargs.pop("explanation", f"SECRET-EXPLANATION-{n}"),
        **kwargs,
    )


def make_exam(*, topics=2, draw=3, pool=6, publish=True, multiple_every=3, **exam_kwargs):
    """An exam drawing `draw` questions from each of `topics` topics holding `pool` each.

    Every `multiple_every`-th question is multiple-answer (options 0 and 1 right).
    """
    exam = ExamFactory(**exam_kwargs)
    bank = QuestionBankFactory()
    rules = []
    for t in range(topics):
        topic = TopicFactory(bank=bank, name=f"Topic {t} of {exam.slug}")
        for q in range(pool):
            if multiple_every and q % multiple_every == multiple_every - 1:
                make_question(topic, kind=QuestionKind.MULTIPLE, right=(0, 1))
            else:
                make_question(topic)
        rules.append((topic, draw))
    services.blueprint_set(exam=exam, counts=rules)
    if publish:
        services.exam_publish(exam=exam)
    return exam
