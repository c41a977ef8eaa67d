"""Template tags that let other apps' pages show residents data without changing their views.

`incident_parties` is the one tag that queries: the incident page (dispatch) lists the
residents, houses and organisations named in it, scoped like every residents page, and the
dispatch view need not know about residents (one query, only for the detail page).
"""

from django import template

from residents import selectors

register = template.Library()


@register.inclusion_tag("residents/_incident_parties.html", takes_context=True)
def incident_parties(context, incident):
    request = context.get("request")
    user = getattr(request, "user", None)
    parties = selectors.parties_for_incident(user=user, incident=incident) if user else []
    return {"parties": parties}
