"""Formatting for the assessment pages: rates as percentages, indicator labels."""

from django import template

from dispatch.assessment.indicators import describe

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.8333 → “83.33%”; a rate with nothing to count → “—”."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.2f}%"


@register.filter
def indicator_label(code: str) -> str:
    return str(describe(code)[0])
