"""The profile page's company card: the template composes it (lms, which
renders the profile, may not import partners)."""

from django import template

from partners.membership.selectors import membership_current_for

register = template.Library()


@register.inclusion_tag("partners/includes/company_card.html")
def company_card(user):
    return {"membership": membership_current_for(user)}
