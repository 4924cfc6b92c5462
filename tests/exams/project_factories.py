"""Factories for project briefs with rubrics, submissions and uploads."""

import io
import zipfile

import factory
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from exams.models import ProjectBrief, RubricCriterion, RubricLevel
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF, forget_roles
from tests.lms.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class ProjectBriefFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectBrief

    slug = factory.Sequence(lambda n: f"project-{n}")
    title = factory.Sequence(lambda n: f"Project {n}")
    instructions = "Build it and hand it in."
    pass_threshold = 6
    allowed_file_types = ["pdf", "zip", "md", "txt", "png"]
    max_upload_bytes = 1024 * 1024
    # One review decides unless a test asks for double grading (the model's
    # default, None, is 10 % of the threshold rounded up).
    second_grader_margin = 0
    is_published = True


def make_brief(*, criteria=3, levels=(0, 1, 2, 3), **kwargs) -> ProjectBrief:
    """A brief with `criteria` criteria, each with levels worth `levels` points.

    Defaults: 3 criteria x max 3 points = 9 points; threshold 6.
    """
    brief = ProjectBriefFactory(**kwargs)
    for c in range(criteria):
        criterion = RubricCriterion.objects.create(
            brief=brief, title=f"Criterion {c}", description=f"About {c}", position=c
        )
        for p, points in enumerate(levels):
            RubricLevel.objects.create(
                criterion=criterion, title=f"Level {points}", points=points, position=p
            )
    return brief


def scores_for(brief, points: list[int]) -> dict[str, int]:
    """{criterion_id: level_id} choosing the level worth points[i] for criterion i."""
    result = {}
    for criterion, wanted in zip(brief.criteria.order_by("position"), points, strict=True):
        result[str(criterion.pk)] = criterion.levels.get(points=wanted).pk
    return result


def make_instructor(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=INSTRUCTORS)[0])
    forget_roles(user)
    return user


def make_staff(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=PROGRAMME_STAFF)[0])
    forget_roles(user)
    return user


def upload(name="report.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def zip_bytes(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()
