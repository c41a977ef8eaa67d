"""The category tree seeded at install: big categories (大类) and their small ones (小类).

Plain data plus `seed_categories`, which the data migration `0002_seed_categories` runs with
the historical `Category` model, so nothing here may import the current models.

Sources: PRODUCT.md section 6 and the research notes (domain-grid-governance.md, 1.3): the 28
dispute types are Tianque's `ContradictionResolve` list in its order; 治安防控, 特殊人群服务管理,
民生服务, 社情民意 and 政策法规宣传 follow the Sichuan duty-based domains; 城市管理 uses the
数字城管 event classes.

城市管理 and the two-level tree: the 数字城管 classes (市容环境、宣传广告、施工管理、街面秩序、
突发事件) are a level of their own in CJ/T 214, but our tree has only two levels and an incident
needs something precise enough to route. So the small categories of 城市管理 are the common
items, each named "class·item" (e.g. "市容环境·暴露垃圾"); reports still group by class through
the name prefix, and the code keeps the items of one class together.

Defaults of a small category (the fields in `SMALL_FIELDS`):
- handling_level: the area level whose centre owns it by default (grids.models.AreaLevel:
  2 district, 3 street, 4 community; a grid never owns an incident).
- urgency: "normal" or "urgent" (incidents.models.Urgency).
- deadline_unit: "workday" or "hour" (incidents.models.DeadlineUnit); the three limits
  (sign-in, handling, verification) are counted in that unit.
- duplicate_radius_m / duplicate_window_hours: how near and how recent a same-category open
  incident must be to be offered as a possible duplicate at triage.
"""

from __future__ import annotations

from django.db import transaction

# grids.models.AreaLevel values, spelled out so the migration does not import current models.
DISTRICT = 2
STREET = 3
COMMUNITY = 4

SMALL_FIELDS = (
    "name",
    "public_name",
    "is_public",
    "handling_level",
    "urgency",
    "deadline_unit",
    "signin_limit",
    "handle_limit",
    "verify_limit",
    "duplicate_radius_m",
    "duplicate_window_hours",
)

# Default profiles; each small category below starts from one and may override a value.

# Disputes: mediated by the community station within 10 working days; the same quarrel tends
# to be reported again over a week.
DISPUTE = {
    "is_public": True,
    "handling_level": COMMUNITY,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 10,
    "verify_limit": 2,
    "duplicate_radius_m": 100,
    "duplicate_window_hours": 168,
}
# Anything that can hurt someone soon: the street centre, counted in hours.
URGENT = {
    "is_public": True,
    "handling_level": STREET,
    "urgency": "urgent",
    "deadline_unit": "hour",
    "signin_limit": 1,
    "handle_limit": 24,
    "verify_limit": 4,
    "duplicate_radius_m": 100,
    "duplicate_window_hours": 48,
}
# 数字城管 items: street level, 3 working days, verified the next working day.
CITY = {
    "is_public": True,
    "handling_level": STREET,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 3,
    "verify_limit": 1,
    "duplicate_radius_m": 50,
    "duplicate_window_hours": 72,
}
# Public-security prevention work reported by grid workers.
SECURITY = {
    "is_public": True,
    "handling_level": STREET,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 5,
    "verify_limit": 2,
    "duplicate_radius_m": 100,
    "duplicate_window_hours": 72,
}
# Follow-up of people under special care: the community station, never on the public form.
SPECIAL = {
    "is_public": False,
    "handling_level": COMMUNITY,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 5,
    "verify_limit": 2,
    "duplicate_radius_m": 100,
    "duplicate_window_hours": 168,
}
# Requests for a public service or advice: about a person, not a place, so duplicates are
# only the same request from (almost) the same spot on the same day.
SERVICE = {
    "is_public": True,
    "handling_level": COMMUNITY,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 5,
    "verify_limit": 2,
    "duplicate_radius_m": 50,
    "duplicate_window_hours": 24,
}
# Anything the street centre has to look at first.
GENERAL = {
    "is_public": True,
    "handling_level": STREET,
    "urgency": "normal",
    "deadline_unit": "workday",
    "signin_limit": 1,
    "handle_limit": 5,
    "verify_limit": 2,
    "duplicate_radius_m": 100,
    "duplicate_window_hours": 72,
}
# Hidden from residents; a public name is then not needed.
HIDDEN = {"is_public": False, "public_name": ""}


CATEGORIES: list[dict] = [
    {
        "code": "01",
        "name": "矛盾纠纷",
        "public_name": "矛盾纠纷调解",
        "is_public": True,
        # Exactly Tianque's ContradictionResolve list (28 types), in its order.
        "children": [
            {**DISPUTE, **HIDDEN, "code": "0101", "name": "信访问题处理", "handling_level": STREET},
            {
                **DISPUTE,
                **URGENT,
                **HIDDEN,
                "code": "0102",
                "name": "不稳定因素报告",
                "duplicate_window_hours": 168,
            },
            {**DISPUTE, "code": "0103", "name": "婚姻家庭", "public_name": "婚姻家庭矛盾"},
            {**DISPUTE, "code": "0104", "name": "邻里纠纷", "public_name": "邻里纠纷"},
            {**DISPUTE, "code": "0105", "name": "环境生态", "public_name": "环境污染纠纷"},
            {**DISPUTE, "code": "0106", "name": "建筑工程", "public_name": "建筑工程纠纷"},
            {**DISPUTE, "code": "0107", "name": "物业管理", "public_name": "物业纠纷"},
            {
                **DISPUTE,
                "code": "0108",
                "name": "企业改制",
                "public_name": "企业改制纠纷",
                "handling_level": STREET,
            },
            {**DISPUTE, "code": "0109", "name": "司法活动", "public_name": "涉法涉诉问题"},
            {**DISPUTE, **HIDDEN, "code": "0110", "name": "干部作风", "handling_level": STREET},
            {**DISPUTE, "code": "0111", "name": "劳资纠纷", "public_name": "拖欠工资等劳资纠纷"},
            {
                **DISPUTE,
                "code": "0112",
                "name": "征地拆迁",
                "public_name": "征地拆迁纠纷",
                "handling_level": STREET,
            },
            {**DISPUTE, "code": "0113", "name": "军人安置", "public_name": "退役军人安置问题"},
            {**DISPUTE, "code": "0114", "name": "房屋和宅基地", "public_name": "房屋宅基地纠纷"},
            {**DISPUTE, "code": "0115", "name": "农村“三资”", "public_name": "农村集体“三资”问题"},
            {**DISPUTE, "code": "0116", "name": "农民负担", "public_name": "农民负担问题"},
            {**DISPUTE, "code": "0117", "name": "院校问题", "public_name": "学校相关纠纷"},
            {**DISPUTE, **HIDDEN, "code": "0118", "name": "民族宗教", "handling_level": STREET},
            {**DISPUTE, "code": "0119", "name": "经济活动", "public_name": "经济纠纷"},
            {**DISPUTE, "code": "0120", "name": "山林土地", "public_name": "山林土地纠纷"},
            {**DISPUTE, "code": "0121", "name": "医患纠纷", "public_name": "医患纠纷"},
            {
                **DISPUTE,
                "code": "0122",
                "name": "村（社区）务管理",
                "public_name": "村（社区）事务问题",
            },
            {**DISPUTE, "code": "0123", "name": "行政执法活动", "public_name": "行政执法争议"},
            {**DISPUTE, "code": "0124", "name": "海事渔事", "public_name": "海事渔事纠纷"},
            {
                **DISPUTE,
                "code": "0125",
                "name": "交通及生产安全",
                "public_name": "交通事故和生产安全纠纷",
            },
            {**DISPUTE, "code": "0126", "name": "计划生育", "public_name": "计划生育问题"},
            {**DISPUTE, "code": "0127", "name": "合同履行", "public_name": "合同纠纷"},
            {**DISPUTE, "code": "0128", "name": "其他", "public_name": "其他矛盾纠纷"},
        ],
    },
    {
        "code": "02",
        "name": "治安防控",
        "public_name": "治安防范",
        "is_public": True,
        "children": [
            {
                **SECURITY,
                "code": "0201",
                "name": "物防设施",
                "public_name": "门禁围墙等防护设施损坏",
            },
            {**SECURITY, "code": "0202", "name": "技防设施", "public_name": "监控报警设施损坏"},
            # Crimes go to 110; the grid worker records that one happened.
            {**URGENT, **HIDDEN, "code": "0203", "name": "刑事治安案件发生情况"},
            {**SECURITY, "code": "0204", "name": "治安隐患或线索", "public_name": "治安隐患线索"},
            {**SECURITY, **HIDDEN, "code": "0205", "name": "守楼护院"},
            {**SECURITY, **HIDDEN, "code": "0206", "name": "防毒控毒"},
            {**SECURITY, "code": "0207", "name": "其他", "public_name": "其他治安问题"},
        ],
    },
    {
        "code": "03",
        "name": "安全隐患",
        "public_name": "安全隐患",
        "is_public": True,
        "children": [
            {
                **URGENT,
                "code": "0301",
                "name": "消防安全隐患",
                "public_name": "消防通道堵塞、消防设施损坏",
            },
            {**URGENT, "code": "0302", "name": "燃气安全隐患", "public_name": "燃气泄漏隐患"},
            {**URGENT, "code": "0303", "name": "用电安全隐患", "public_name": "私拉电线、飞线充电"},
            {**URGENT, "code": "0304", "name": "房屋建筑安全隐患", "public_name": "危房、墙体开裂"},
            {**URGENT, "code": "0305", "name": "道路交通安全隐患", "public_name": "交通安全隐患"},
            {
                **URGENT,
                "code": "0306",
                "name": "危险化学品隐患",
                "public_name": "危险化学品违规存放",
            },
            {
                **URGENT,
                "code": "0307",
                "name": "特种设备安全隐患",
                "public_name": "电梯等特种设备故障",
            },
            {
                **URGENT,
                "code": "0308",
                "name": "食品药品安全隐患",
                "public_name": "食品药品安全问题",
            },
            {**URGENT, "code": "0309", "name": "其他安全隐患", "public_name": "其他安全隐患"},
        ],
    },
    {
        "code": "04",
        "name": "特殊人群服务管理",
        "public_name": "",
        "is_public": False,
        "children": [
            {**SPECIAL, "code": "0401", "name": "严重精神障碍患者", "public_name": ""},
            {**SPECIAL, "code": "0402", "name": "社区矫正帮教", "public_name": ""},
            {**SPECIAL, "code": "0403", "name": "刑满释放人员", "public_name": ""},
            {**SPECIAL, "code": "0404", "name": "吸毒人员", "public_name": ""},
            {**SPECIAL, "code": "0405", "name": "重点青少年", "public_name": ""},
        ],
    },
    {
        "code": "05",
        "name": "民生服务",
        "public_name": "民生服务",
        "is_public": True,
        # The 13 sub-types of the Sichuan build, in its order.
        "children": [
            {**SERVICE, "code": "0501", "name": "教育服务", "public_name": "入学与教育"},
            {**SERVICE, "code": "0502", "name": "社保服务", "public_name": "社保医保"},
            {**SERVICE, "code": "0503", "name": "就业服务", "public_name": "就业求职"},
            {**SERVICE, "code": "0504", "name": "医疗服务", "public_name": "看病就医"},
            {**SERVICE, "code": "0505", "name": "住房服务", "public_name": "住房保障"},
            {**SERVICE, "code": "0506", "name": "交通服务", "public_name": "公交出行"},
            {**SERVICE, "code": "0507", "name": "证件办理", "public_name": "证件办理"},
            {**SERVICE, "code": "0508", "name": "企业服务", "public_name": "企业办事"},
            {**SERVICE, "code": "0509", "name": "资质服务", "public_name": "资质办理"},
            {**SERVICE, "code": "0510", "name": "经营纳税", "public_name": "经营纳税"},
            {**SERVICE, "code": "0511", "name": "婚育收养", "public_name": "婚育收养"},
            # Water, power, gas and heating outages cannot wait a week.
            {
                **SERVICE,
                "code": "0512",
                "name": "公共事业",
                "public_name": "水电气暖",
                "handling_level": STREET,
                "handle_limit": 2,
                "duplicate_radius_m": 200,
            },
            {**SERVICE, "code": "0513", "name": "其他", "public_name": "其他民生诉求"},
        ],
    },
    {
        "code": "06",
        "name": "城市管理",
        "public_name": "城市管理",
        "is_public": True,
        # "class·item": see the module docstring.
        "children": [
            {**CITY, "code": "0601", "name": "市容环境·暴露垃圾", "public_name": "垃圾暴露堆放"},
            {
                **CITY,
                "code": "0602",
                "name": "市容环境·积存垃圾渣土",
                "public_name": "建筑垃圾渣土堆积",
            },
            {**CITY, "code": "0603", "name": "市容环境·道路不洁", "public_name": "路面不干净"},
            {**CITY, "code": "0604", "name": "市容环境·私搭乱建", "public_name": "私搭乱建"},
            {**CITY, "code": "0605", "name": "宣传广告·乱贴乱画", "public_name": "小广告、乱涂画"},
            {**CITY, "code": "0606", "name": "宣传广告·违规户外广告", "public_name": "违规广告牌"},
            {**CITY, "code": "0607", "name": "施工管理·施工扰民", "public_name": "施工噪音扰民"},
            {**CITY, "code": "0608", "name": "施工管理·工地扬尘", "public_name": "工地扬尘"},
            {**CITY, "code": "0609", "name": "施工管理·渣土遗撒", "public_name": "渣土车遗撒"},
            {**CITY, "code": "0610", "name": "街面秩序·占道经营", "public_name": "占道摆摊"},
            {**CITY, "code": "0611", "name": "街面秩序·店外经营", "public_name": "出店经营"},
            {**CITY, "code": "0612", "name": "街面秩序·乱堆物料", "public_name": "乱堆乱放"},
            {**CITY, "code": "0613", "name": "街面秩序·违规停车", "public_name": "车辆乱停放"},
            {
                **URGENT,
                "code": "0614",
                "name": "突发事件·道路破损",
                "public_name": "路面破损塌陷",
                "duplicate_radius_m": 200,
                "duplicate_window_hours": 24,
            },
            {
                **URGENT,
                "code": "0615",
                "name": "突发事件·井盖缺失",
                "public_name": "井盖缺失破损",
                "duplicate_radius_m": 50,
                "duplicate_window_hours": 24,
            },
            {
                **URGENT,
                "code": "0616",
                "name": "突发事件·管道破裂",
                "public_name": "水管燃气管破裂",
                "duplicate_radius_m": 200,
                "duplicate_window_hours": 24,
            },
            {
                **URGENT,
                "code": "0617",
                "name": "突发事件·道路积水",
                "public_name": "道路积水",
                "duplicate_radius_m": 300,
                "duplicate_window_hours": 24,
            },
            {**CITY, "code": "0618", "name": "其他", "public_name": "其他城市管理问题"},
        ],
    },
    {
        "code": "07",
        "name": "社情民意",
        "public_name": "意见建议",
        "is_public": True,
        "children": [
            {**SERVICE, "code": "0701", "name": "社情民意收集", "public_name": "意见和建议"},
        ],
    },
    {
        "code": "08",
        "name": "政策法规宣传",
        "public_name": "政策咨询",
        "is_public": True,
        "children": [
            {
                **SERVICE,
                "code": "0801",
                "name": "咨询",
                "public_name": "政策法规咨询",
                "handle_limit": 3,
                "verify_limit": 1,
            },
            # A grid worker's record of an awareness session, nothing a resident reports.
            {
                **SERVICE,
                **HIDDEN,
                "code": "0802",
                "name": "宣传",
                "handle_limit": 3,
                "verify_limit": 1,
            },
        ],
    },
    {
        "code": "09",
        "name": "其他",
        "public_name": "其他",
        "is_public": True,
        "children": [
            {**GENERAL, "code": "0901", "name": "其他", "public_name": "其他问题"},
        ],
    },
]


def _upsert(Category, existing: dict, code: str, values: dict) -> tuple[object, bool]:
    """Create the category `code` or bring it to `values`; True when a row was written."""
    obj = existing.get(code)
    if obj is None:
        return Category.objects.create(code=code, **values), True
    changed = [field for field, value in values.items() if getattr(obj, field) != value]
    if not changed:
        return obj, False
    for field in changed:
        setattr(obj, field, values[field])
    obj.save(update_fields=[*changed, "updated_at"])
    return obj, True


def seed_categories(Category) -> int:
    """Upsert the tree by code; return how many categories were created or changed.

    `Category` is the model class: the current one, or the historical one in a migration.

    Seeded values win over edits made since (it is an upsert); categories not in the seed,
    and `is_active`, are left alone. Running it twice writes nothing the second time.
    """
    written = 0
    with transaction.atomic():
        existing = {c.code: c for c in Category.objects.all()}
        for big_sort, big in enumerate(CATEGORIES, start=1):
            parent, wrote = _upsert(
                Category,
                existing,
                big["code"],
                {
                    "parent_id": None,
                    "name": big["name"],
                    "public_name": big["public_name"],
                    "is_public": big["is_public"],
                    "sort": big_sort,
                },
            )
            written += wrote
            for sort, small in enumerate(big["children"], start=1):
                values = {field: small[field] for field in SMALL_FIELDS}
                values.update(parent_id=parent.pk, sort=sort)
                _, wrote = _upsert(Category, existing, small["code"], values)
                written += wrote
    return written
