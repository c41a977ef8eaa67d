"""Routing rules: ordered, first match wins; inactive units are skipped and flagged."""

import pytest
from django.urls import reverse

from dispatch.models import RoutingRule
from dispatch.routing import rule_for
from govgrid.accounts.models import UnitKind
from incidents.models import Category
from incidents.services import ReportInput, incident_report
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(people, city):
    category = Category.objects.filter(parent__isnull=False, handling_level=3).first()
    p = city.grids[0].boundary.point_on_surface
    return incident_report(
        data=ReportInput(category=category, description="x", lon=p.x, lat=p.y),
        actor=people["worker"],
    )


def rule(name, unit, priority=100, *, categories=(), areas=(), channels=(), urgency=""):
    r = RoutingRule.objects.create(
        name=name, lead_unit=unit, priority=priority, channels=list(channels), urgency=urgency
    )
    r.categories.add(*categories)
    r.areas.add(*areas)
    return r


def test_first_matching_rule_by_priority_wins(incident, people, city):
    dept = people["units"]["department"]
    other = factories.make_unit(area=city.streets[0], kind=UnitKind.DEPARTMENT)
    rule("late", other, 200)
    first = rule("early", dept, 10, categories=[incident.category.parent], areas=[city.streets[0]])
    assert rule_for(incident) == first


@pytest.mark.parametrize(
    "condition",
    ["other_category", "other_area", "other_channel", "other_urgency"],
)
def test_a_rule_whose_condition_fails_does_not_match(incident, people, city, condition):
    dept = people["units"]["department"]
    other_category = (
        Category.objects.filter(parent__isnull=False)
        .exclude(parent=incident.category.parent)
        .first()
    )
    kwargs = {
        "other_category": {"categories": [other_category]},
        "other_area": {"areas": [city.streets[1]]},
        "other_channel": {"channels": ["hotline"]},
        "other_urgency": {"urgency": "urgent"},
    }[condition]
    rule("miss", dept, **kwargs)
    assert rule_for(incident) is None


def test_a_rule_pointing_at_an_inactive_unit_is_skipped_and_flagged(client, incident, people, city):
    dept = people["units"]["department"]
    dept.is_active = False
    dept.save()
    rule("broken", dept, 1)
    fallback_unit = factories.make_unit(area=city.streets[0], kind=UnitKind.DEPARTMENT)
    fallback = rule("fallback", fallback_unit, 50)
    assert rule_for(incident) == fallback
    client.force_login(people["admin"])
    response = client.get(reverse("admin:dispatch_routingrule_changelist"), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("broken" in m for m in messages)


def test_duplicates_nearby_are_offered_at_triage(incident, people, city):
    from dispatch.selectors import duplicate_candidates

    p = incident.location
    category = incident.category
    near = incident_report(
        data=ReportInput(category=category, description="同一处", lon=p.x + 0.0002, lat=p.y),
        actor=people["worker"],
    )
    other_category = (
        Category.objects.filter(parent__isnull=False, handling_level=3)
        .exclude(pk=category.pk)
        .first()
    )
    incident_report(
        data=ReportInput(category=other_category, description="别的类别", lon=p.x, lat=p.y),
        actor=people["worker"],
    )
    beyond = category.duplicate_radius_m / 111_000 * 1.5 / 0.86  # 1.5 radii east, in degrees
    incident_report(
        data=ReportInput(category=category, description="远处", lon=p.x + beyond, lat=p.y),
        actor=people["worker"],
    )
    found = duplicate_candidates(incident=near)
    assert [i.pk for i in found] == [incident.pk]
    assert 0 < found[0].distance.m < category.duplicate_radius_m


def test_the_documented_state_table_matches_the_code():
    """docs/workflow.md carries the table generated from dispatch/workflow.py."""
    from pathlib import Path

    from django.utils import translation

    from dispatch.management.commands.workflow_table import render_table

    with translation.override("zh-hans"):
        table = render_table()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "workflow.md").read_text()
    assert table in doc, "regenerate: manage.py workflow_table --language zh-hans"
