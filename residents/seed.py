"""Code lists and key-person groups seeded at install (data migration 0002_seed).

Plain data plus `seed_residents`, which runs with historical models, so nothing here may
import the current models. Sources: research/domain-grid-governance.md §1.2 (Tianque's data
dictionary, grade B): these are vendor practice, not official GB/T 31000 codes, and admins
edit them freely. Visit intervals and grants are our defaults, to be set by each deployment.
"""

from __future__ import annotations

DICTIONARY = {
    "ethnicity": [
        "汉族",
        "回族",
        "满族",
        "蒙古族",
        "藏族",
        "维吾尔族",
        "壮族",
        "苗族",
        "土家族",
        "其他",
    ],
    "inflow_reason": [
        "务工经商",
        "房屋拆迁",
        "投亲靠友",
        "两处以上住房",
        "求学入托",
        "分配调动工作",
        "分换住房",
        "其他",
    ],
    "org_kind": [
        "企业",
        "个体工商户",
        "社会团体",
        "行业协会",
        "基金会",
        "民办非企业单位",
        "机关事业单位",
        "其他",
    ],
    "place_kind": [
        "公共场所",
        "公共复杂场所",
        "医院",
        "危险化学品单位",
        "安全生产重点",
        "治安重点",
        "消防安全重点",
        "网吧",
        "旅馆",
        "典当行",
        "其他场所",
    ],
    "relation": ["户主", "配偶", "子女", "父母", "租户", "其他"],
}

# Roles that see each kind of group unless a group says otherwise.
_DESKS = ["community_station", "street_centre", "district_centre"]
_FIELD = ["grid_worker", "grid_leader"]

# code, name, kind, visit interval (days), type-specific fields, roles granted.
# A field marked sensitive (health, drugs, criminal history) is stored encrypted.
GROUPS = [
    (
        "correction",
        "社区矫正人员",
        "key",
        7,
        [
            {"key": "correction_type", "label": "矫正类别"},
            {"key": "term", "label": "矫正期限"},
            {"key": "offence", "label": "罪名", "sensitive": True},
        ],
        _DESKS + _FIELD,
    ),
    (
        "released",
        "刑满释放人员",
        "key",
        30,
        [
            {"key": "released_on", "label": "释放日期"},
            {"key": "offence", "label": "原罪名", "sensitive": True},
        ],
        _DESKS + _FIELD,
    ),
    (
        "mental",
        "严重精神障碍患者",
        "key",
        14,
        [
            {"key": "guardian", "label": "监护人"},
            {"key": "diagnosis", "label": "诊断", "sensitive": True},
            {"key": "treatment", "label": "治疗情况", "sensitive": True},
        ],
        _DESKS + _FIELD,
    ),
    (
        "drug",
        "吸毒人员",
        "key",
        14,
        [
            {"key": "state", "label": "吸毒状态"},
            {"key": "drug_history", "label": "吸毒史", "sensitive": True},
        ],
        _DESKS + _FIELD,
    ),
    (
        "petition",
        "信访重点人员",
        "key",
        7,
        [{"key": "matter", "label": "信访事项", "sensitive": True}],
        _DESKS,
    ),
    (
        "youth",
        "重点青少年",
        "key",
        30,
        [{"key": "youth_type", "label": "人员类型"}, {"key": "guardian", "label": "监护人"}],
        _DESKS + _FIELD,
    ),
    (
        "elderly_alone",
        "独居老人",
        "care",
        7,
        [{"key": "health", "label": "健康状况", "sensitive": True}],
        _DESKS + _FIELD + ["leader"],
    ),
    (
        "low_income",
        "低保对象",
        "care",
        30,
        [{"key": "allowance", "label": "保障金额"}],
        _DESKS + _FIELD + ["leader"],
    ),
    (
        "disabled",
        "残疾人",
        "care",
        30,
        [{"key": "disability", "label": "残疾类别", "sensitive": True}],
        _DESKS + _FIELD + ["leader"],
    ),
    (
        "left_behind",
        "留守儿童",
        "care",
        30,
        [{"key": "guardian", "label": "监护人"}],
        _DESKS + _FIELD + ["leader"],
    ),
]


def seed_residents(Dictionary, KeyGroup, KeyGroupGrant) -> None:
    """Create what is missing; entries admins have edited are left alone."""
    for kind, names in DICTIONARY.items():
        for sort, name in enumerate(names, start=1):
            Dictionary.objects.get_or_create(
                kind=kind, code=f"{sort:02d}", defaults={"name": name, "sort": sort}
            )
    for sort, (code, name, kind, days, fields, roles) in enumerate(GROUPS, start=1):
        group, created = KeyGroup.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "visit_interval_days": days,
                "detail_fields": fields,
                "sort": sort,
            },
        )
        if created:
            KeyGroupGrant.objects.bulk_create(
                [KeyGroupGrant(group=group, role=role) for role in roles]
            )
