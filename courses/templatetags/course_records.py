"""Template tags that let other apps' pages (the profile) show course records
without importing this app: the template composes, the view stays in its layer."""

from django import template

from courses.selectors import completions_for

register = template.Library()


@register.inclusion_tag("courses/includes/completion_record.html")
def completion_record(user):
    return {"completions": completions_for(user=user) if user.is_authenticated else []}
