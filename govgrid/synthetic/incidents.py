"""Demo incidents over the last three months, produced through the real services.

Every incident is filed with `incident_report` and moved with `incident_act`, "as of" a
moment in the past, so its history, deadlines and assignments are what the loop would
have produced. Outcomes are drawn so that every state of the loop is represented.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from dispatch.models import RoutingRule
from dispatch.services import incident_act
from dispatch.workflow import State
from govgrid.accounts.models import Unit, UnitKind, User
from govgrid.lib.errors import DomainError
from grids.models import Area, AreaLevel, GridStaff, StaffRole
from incidents.models import Category, Rating
from incidents.services import ReportInput, incident_report

DESCRIPTIONS = {
    "矛盾纠纷": [
        "楼上漏水导致邻里争执",
        "物业费收取引发业主不满",
        "工资拖欠三个月，工人聚集讨薪",
        "宅基地边界存在争议",
        "租户与房东就押金退还发生纠纷",
    ],
    "城市管理": [
        "小区门口暴露垃圾无人清运",
        "人行道被流动摊贩占用",
        "墙面乱贴小广告",
        "夜间施工噪音扰民",
        "道路出现坑洞影响通行",
        "共享单车乱停乱放",
    ],
    "安全隐患": [
        "楼道堆放杂物堵塞消防通道",
        "电动车在楼道内充电",
        "燃气管道有异味",
        "老旧电线裸露",
        "广告牌松动有坠落风险",
    ],
    "民生服务": [
        "独居老人需要上门服务",
        "咨询医保报销流程",
        "申请低保需要指导",
        "路灯损坏夜间无照明",
    ],
}
GENERIC = ["居民反映情况需要处理", "现场发现问题需要协调解决"]

# A 1×1 JPEG: demo photos are placeholders; real photos come from phones.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0"
    "000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bff"
    "c400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a10823"
    "42b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a5354555657"
    "58595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aa"
    "b2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9faffda0008010100003f00fbd3ffd9"
)


def _photo(name: str):
    return (ContentFile(TINY_JPEG, name=f"{name}.jpg"), "image/jpeg")


class Cast:
    """Who plays which part: centre staff per unit, a handler per department, grid workers."""

    def __init__(self) -> None:
        self.members: dict[int, User] = {}
        for user in User.objects.filter(unit__isnull=False).exclude(roles=[]).order_by("pk"):
            self.members.setdefault(user.unit_id, user)
        self.workers = {
            s.grid_id: s.user
            for s in GridStaff.objects.filter(
                role=StaffRole.WORKER, until__isnull=True
            ).select_related("user")
        }
        self.grids = list(Area.objects.grids().filter(pk__in=self.workers).select_related("parent"))
        self.departments_by_area: dict[int, list[Unit]] = {}
        for unit in Unit.objects.filter(kind=UnitKind.DEPARTMENT, is_active=True):
            self.departments_by_area.setdefault(unit.jurisdiction_id, []).append(unit)

    def departments_for(self, grid: Area) -> list[Unit]:
        street = grid.parent.parent_id
        district = Area.objects.filter(pk=street).values_list("parent_id", flat=True).first()
        return self.departments_by_area.get(street, []) + self.departments_by_area.get(district, [])


def routing_rules_create() -> None:
    """A few rules like a district would write: city-management items to the street's
    城管 squad (pre-filled), sudden events straight to the district's 城管执法局 (automatic)."""
    if RoutingRule.objects.exists():
        return
    city_mgmt = Category.objects.filter(parent__isnull=True, name="城市管理").first()
    for street in Area.objects.filter(level=AreaLevel.STREET):
        squad = Unit.objects.filter(jurisdiction=street, code__endswith="cgzd").first()
        if squad and city_mgmt:
            rule = RoutingRule.objects.create(
                name=f"{street.name}城市管理→{squad.name}", priority=100, lead_unit=squad
            )
            rule.categories.add(city_mgmt)
            rule.areas.add(street)
    for district in Area.objects.filter(level=AreaLevel.DISTRICT):
        bureau = Unit.objects.filter(jurisdiction=district, code__endswith="cg").first()
        sudden = Category.objects.filter(name__startswith="突发事件", parent__isnull=False)
        if bureau and sudden.exists():
            rule = RoutingRule.objects.create(
                name=f"{district.name}突发事件自动交办",
                priority=10,
                lead_unit=bureau,
                auto_dispatch=True,
            )
            rule.categories.add(*sudden)
            rule.areas.add(district)


def build_incidents(
    *,
    count: int,
    seed: int,
    progress: Callable[[Iterable, str, int], Iterable],
    now: datetime | None = None,
    days: int = 90,
) -> dict[str, int]:
    rng = random.Random(seed)
    now = now or timezone.now()
    routing_rules_create()
    cast = Cast()
    categories = list(
        Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent")
    )
    made = 0
    for _i in progress(range(count), "incidents", count):
        grid = rng.choice(cast.grids)
        category = rng.choice(categories)
        worker = cast.workers[grid.pk]
        reported_at = now - timedelta(seconds=rng.randint(600, days * 86400))
        point = grid.boundary.point_on_surface
        # jitter inside the grid
        for _try in range(5):
            lon = point.x + rng.uniform(-0.002, 0.002)
            lat = point.y + rng.uniform(-0.002, 0.002)
            if grid.boundary.contains(type(point)(lon, lat, srid=4326)):
                break
        else:
            lon, lat = point.x, point.y
        texts = DESCRIPTIONS.get(category.parent.name, GENERIC)
        self_handled = rng.random() < 0.12
        try:
            with transaction.atomic():
                incident = incident_report(
                    data=ReportInput(
                        category=category,
                        description=rng.choice(texts),
                        lon=lon,
                        lat=lat,
                        reported_at=reported_at,
                        photos=[_photo("photo")],
                        is_self_handled=self_handled,
                        result="已现场劝导处理" if self_handled else "",
                        evidence=[_photo("evidence")] if self_handled else [],
                    ),
                    actor=worker,
                )
                _walk(incident, rng, cast, reported_at, now, worker)
        except DomainError:
            continue
        made += 1
    return {"incidents": made}


def _walk(incident, rng: random.Random, cast: Cast, t: datetime, now: datetime, worker) -> None:
    """Move the incident along the loop, each step a few hours later, never past `now`."""
    age_hours = (now - t).total_seconds() / 3600

    def later(hours_low: float, hours_high: float) -> datetime | None:
        nonlocal t
        step = timedelta(hours=rng.uniform(hours_low, hours_high))
        if t + step >= now:
            return None
        t = t + step
        return t

    def act(action, actor, **fields):
        nonlocal incident
        incident = incident_act(
            incident_id=incident.pk, action=action, actor=actor, now=t, **fields
        )
        return incident

    centre = cast.members.get(incident.owner_unit_id)
    if centre is None:
        return
    # Young incidents stay early in the loop; old ones have mostly run through it.
    stop = rng.random() * min(1.0, age_hours / 240)
    if incident.state == State.HANDLED:  # handled on the spot
        if stop > 0.15 and later(1, 20):
            act("verify", centre)
            if stop > 0.3 and later(20, 30):
                act("rate", worker, rating=rng.choice([Rating.SATISFIED] * 8 + [Rating.BASIC]))
        return
    if incident.state == State.REPORTED:
        if stop < 0.05 or not later(0.2, 6):
            return
        roll = rng.random()
        if roll < 0.05:
            act("reject", centre, reason="不属于受理范围")
            return
        if roll < 0.08 and incident.owner_unit.parent_id:
            act("escalate", centre, reason="需要上级协调")
            return
        act("accept", centre)
        roll = rng.random()
        if roll < 0.03 and later(1, 24):
            act("suspend", centre, reason="等待当事人返回")
            return
        if roll < 0.05 and later(1, 24):
            act("cancel", centre, reason="当事人已自行解决")
            return
        units = cast.departments_for(incident.grid)
        if not units or stop < 0.1 or not later(0.2, 4):
            return
        act("dispatch", centre, lead_unit=rng.choice(units))
    if incident.state != State.DISPATCHED:
        return
    handler = cast.members.get(incident.lead_unit_id)
    if handler is None or stop < 0.2 or not later(0.5, 30):
        return
    if rng.random() < 0.08:
        act("return", handler, reason="不属于本单位职责")
        if stop > 0.35 and later(1, 8):
            act("overrule", centre, reason="属于本单位职责范围，请签收处理")
        return
    act("sign", handler)
    if stop < 0.35:
        return
    if rng.random() < 0.1 and later(1, 24):
        try:
            act("request_extension", handler, reason="需协调多个部门", days=rng.randint(1, 3))
            if later(1, 8):
                act("decide_extension", centre, approve=rng.random() < 0.8)
        except DomainError:
            pass
    if stop < 0.45 or not later(4, 120):
        return
    act("handle", handler, result="已到现场处置完毕", evidence=[_photo("result")])
    if stop < 0.55 or not later(1, 24):
        return
    if rng.random() < 0.07:
        act("rework", centre, reason="现场核查未处理到位")
        return
    act("verify", centre)
    if stop < 0.65 or not later(20, 30):
        return
    rating = rng.choice([Rating.SATISFIED] * 7 + [Rating.BASIC] * 2 + [Rating.UNSATISFIED])
    act("rate", worker, rating=rating)
    if rating == Rating.UNSATISFIED and later(2, 24):
        act("decide_reopen", centre, approve=rng.random() < 0.5)
