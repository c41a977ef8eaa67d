"""The schemes a new deployment starts with (admins edit them; see docs/assessment.md).

Drawn from the sources in research/domain-grid-governance.md section 3: the 三率 weights of a
county scheme (响应率 30 %, 解决率 35 %, 满意率 35 %), Tianque's base score (100 − 5 per
yellow card − 10 per red card + 1 per case handled on time), groups out of 100 and 150.
"""

# (name, kind, method, base, min_cases, [items], [groups]); an item is
# (name, "weight", indicator, weight, "", None) or (name, "points", "", None, formula, cap);
# a group is (name, full marks, unit kind, level).
SCHEMES = [
    (
        "承办单位“三率”考核",
        "unit",
        "weighted",
        100,
        3,
        [
            ("响应率（及时签收率）", "weight", "timely_signin_rate", 30, "", None),
            ("解决率", "weight", "resolution_rate", 35, "", None),
            ("满意率", "weight", "satisfaction_rate", 35, "", None),
            ("退单被驳回扣分", "points", "", None, "-2 * overruled", 10),
        ],
        [("区级职能部门", 100, "department", 2), ("街道职能部门", 100, "department", 3)],
    ),
    (
        "承办单位基准分考核",
        "unit",
        "base",
        100,
        3,
        [
            ("黄牌扣分", "points", "", None, "-5 * yellow_cards", 50),
            ("红牌扣分", "points", "", None, "-10 * red_cards", 50),
            ("按期办结加分", "points", "", None, "results_on_time", 10),
        ],
        [("区级职能部门", 100, "department", 2), ("街道职能部门", 100, "department", 3)],
    ),
    (
        "网格员月度考核",
        "worker",
        "base",
        80,
        1,
        [
            ("有效上报加分", "points", "", None, "2 * valid_reports", 10),
            ("自行处置加分", "points", "", None, "self_handled", 5),
            ("无效上报扣分", "points", "", None, "-5 * (reports - valid_reports)", 10),
            ("巡查达标加分", "points", "", None, "0.5 * patrol_days_met", 10),
            ("走访欠账扣分", "points", "", None, "-2 * max(visits_required - key_visits, 0)", 10),
        ],
        [("网格员", 100, "", None)],
    ),
    (
        "区域综合考核",
        "area",
        "weighted",
        100,
        5,
        [
            ("按期办结率", "weight", "on_time_rate", 40, "", None),
            ("解决率", "weight", "resolution_rate", 30, "", None),
            ("满意率", "weight", "satisfaction_rate", 30, "", None),
        ],
        [("社区", 100, "", 4), ("街道", 100, "", 3), ("区", 150, "", 2)],
    ),
]


def seed_schemes(Scheme, Item, Group) -> None:
    """Create the starting schemes when there are none (models passed in: migrations)."""
    if Scheme.objects.exists():
        return
    for sort, (name, kind, method, base, min_cases, items, groups) in enumerate(SCHEMES):
        scheme = Scheme.objects.create(
            name=name,
            subject_kind=kind,
            method=method,
            base_score=base,
            min_cases=min_cases,
            sort=sort,
        )
        for n, (item_name, item_kind, indicator, weight, formula, cap) in enumerate(items):
            Item.objects.create(
                scheme=scheme,
                name=item_name,
                kind=item_kind,
                indicator=indicator,
                weight=weight,
                formula=formula,
                cap=cap,
                sort=n,
            )
        for n, (group_name, marks, unit_kind, level) in enumerate(groups):
            Group.objects.create(
                scheme=scheme,
                name=group_name,
                full_marks=marks,
                unit_kind=unit_kind,
                level=level,
                sort=n,
            )


def seed_default() -> None:
    from .models import AssessmentScheme, SchemeGroup, SchemeItem

    seed_schemes(AssessmentScheme, SchemeItem, SchemeGroup)
