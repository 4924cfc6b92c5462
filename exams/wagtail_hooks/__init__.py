"""Wagtail admin for exam authors: an "Exams" menu with banks, topics, questions, exams.

Every write goes through exams.services, so the admin obeys the same rules
as imports and the API: a question saved here is validated by
`check_choices` and, once used in an attempt, changes by a new version
(`question_revise`); publishing goes through `exam_publish`, whose refusal
is shown as a message. One module per concern: `banks` (banks, topics,
import and export), `questions`, `exams` (settings, blueprint, publishing,
item analysis, drop/credit), `accommodations` (extra time and rest breaks,
with their history; programme staff); the screens they link to are in
exams.admin_views, and the Projects menu is in exams.projects.wagtail_hooks.
Wagtail loads only this module, which imports the parts. Access follows the model
permissions given to "Instructors" and "Programme staff" (migration 0004).
"""

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from .accommodations import AccommodationViewSet
from .banks import QuestionBankViewSet, TopicViewSet
from .exams import ExamViewSet
from .questions import QuestionViewSet


class ExamsMenu(ViewSetGroup):
    menu_label = "Exams"
    menu_icon = "form"
    menu_order = 260
    items = (
        QuestionBankViewSet("exams_admin_banks", url_prefix="exams/banks"),
        TopicViewSet("exams_admin_topics", url_prefix="exams/topics"),
        QuestionViewSet("exams_admin_questions", url_prefix="exams/questions"),
        ExamViewSet("exams_admin_exams", url_prefix="exams/exams"),
        AccommodationViewSet("exams_admin_accommodations", url_prefix="exams/accommodations"),
    )


@hooks.register("register_admin_viewset")
def register_exams_menu():
    return ExamsMenu()


# The Projects menu (briefs and rubrics) registers itself on import.
from ..projects import wagtail_hooks as projects_wagtail_hooks  # noqa: E402, F401
