"""A hand-built September 2026 in the tiny city, walked through the real services.

Times are Asia/Shanghai. The street centre owns every case; the department (城管执法中队) is
the lead unit; the conftest's grid worker reports. Each case covers an edge of the month's
figures; tests/assessment/test_indicators.py states every expected value and why.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatch.services import incident_act
from incidents.models import Category, Incident, Rating
from incidents.services import ReportInput, incident_report

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def evidence() -> list:
    photo = SimpleUploadedFile("evidence.jpg", b"\xff\xd8\xff\xe0 evidence", "image/jpeg")
    return [(photo, "image/jpeg")]


class MonthBuilder:
    def __init__(self, city, people):
        self.people = people
        self.centre = people["street"]
        self.handler = people["handler"]
        self.worker = people["worker"]
        self.department = people["units"]["department"]
        big = Category.objects.filter(parent__isnull=True).first()
        self.category = Category.objects.create(
            parent=big,
            code="T-ASSESS",
            name="考核测试小类",
            handling_level=3,
            signin_limit=1,
            handle_limit=5,
            verify_limit=2,
        )
        self.point = city.grids[0].boundary.point_on_surface
        self.cases: dict[str, Incident] = {}

    def report(self, name: str, when: datetime, **extra) -> Incident:
        incident = incident_report(
            data=ReportInput(
                category=self.category,
                description=f"考核测试 {name}",
                lon=self.point.x,
                lat=self.point.y,
                reported_at=when,
                **extra,
            ),
            actor=self.worker,
        )
        self.cases[name] = incident
        return incident

    def act(self, name: str, action: str, when: datetime, actor=None, **fields) -> Incident:
        if actor is None:
            actor = (
                self.handler
                if action in ("sign", "return", "handle", "request_extension")
                else self.centre
            )
        if action == "rate":
            actor = self.worker
        incident = incident_act(
            incident_id=self.cases[name].pk, action=action, actor=actor, now=when, **fields
        )
        self.cases[name] = incident
        return incident

    def dispatch(self, name: str, when: datetime) -> None:
        self.act(name, "accept", when)
        self.act(name, "dispatch", when.replace(minute=10), lead_unit=self.department)

    def build_september(self) -> dict[str, Incident]:
        # A: the clean case, rated satisfied.
        self.report("A", at(9, 7))
        self.dispatch("A", at(9, 7))
        self.act("A", "sign", at(9, 7, 10))
        self.act("A", "handle", at(9, 8, 10), result="已处置", evidence=evidence())
        self.act("A", "verify", at(9, 8, 15))
        self.act("A", "rate", at(9, 9, 10), rating=Rating.SATISFIED)
        # B: signed, an extension granted, a yellow and a red supervision, still open and
        # overdue at the month's end.
        self.report("B", at(9, 10))
        self.dispatch("B", at(9, 10))
        self.act("B", "sign", at(9, 10, 9, 30))
        self.act("B", "request_extension", at(9, 11, 10), reason="需协调", days=2)
        self.act("B", "decide_extension", at(9, 11, 11), approve=True)
        self.act("B", "supervise", at(9, 25, 10), note="请加快", level="yellow", reply_days=2)
        self.act("B", "supervise", at(9, 28, 10), note="仍未办结", level="red", reply_days=1)
        # C: returned, the centre overrules the return, signed late, handled, closed, unrated.
        self.report("C", at(9, 14))
        self.dispatch("C", at(9, 14))
        self.act("C", "return", at(9, 14, 10), reason="不属于本单位")
        self.act("C", "overrule", at(9, 14, 11), reason="属于本单位职责")
        self.act("C", "sign", at(9, 16, 10))
        self.act("C", "handle", at(9, 17, 10), result="已处置", evidence=evidence())
        self.act("C", "verify", at(9, 17, 16))
        # D: a rework at verification, closed, rated unsatisfied, reopened (not overdue).
        self.report("D", at(9, 21))
        self.dispatch("D", at(9, 21))
        self.act("D", "sign", at(9, 21, 10))
        self.act("D", "handle", at(9, 22, 10), result="已处置", evidence=evidence())
        self.act("D", "rework", at(9, 22, 15), reason="未处理到位")
        self.act("D", "handle", at(9, 23, 10), result="已重新处置", evidence=evidence())
        self.act("D", "verify", at(9, 23, 15))
        self.act("D", "rate", at(9, 24, 10), rating=Rating.UNSATISFIED)
        self.act("D", "decide_reopen", at(9, 24, 16), approve=True)
        # E: crosses the month boundary: dispatched and signed in August, the rest in
        # September (rated basically satisfied).
        self.report("E", at(8, 28))
        self.dispatch("E", at(8, 28))
        self.act("E", "sign", at(8, 28, 10))
        self.act("E", "handle", at(9, 1, 10), result="已处置", evidence=evidence())
        self.act("E", "verify", at(9, 1, 15))
        self.act("E", "rate", at(9, 2, 10), rating=Rating.BASIC)
        # F: dispatched at the end of September, its sign-in deadline passes unsigned; it is
        # signed in October.
        self.report("F", at(9, 28))
        self.dispatch("F", at(9, 28))
        self.act("F", "sign", at(10, 9, 10))
        # G: rejected at triage (not a valid report).
        self.report("G", at(9, 15))
        self.act("G", "reject", at(9, 15, 10), reason="不属于受理范围")
        # H: handled on the spot by the worker, waiting for verification.
        self.report("H", at(9, 16), is_self_handled=True, result="已劝导", evidence=evidence())
        # I: reported in October: not September's.
        self.report("I", at(10, 9))
        return self.cases


@pytest.fixture
def september(city, people):
    builder = MonthBuilder(city, people)
    builder.build_september()
    return builder
