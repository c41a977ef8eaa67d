"""The seeded category tree and the admin that edits it."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone

from grids.models import AreaLevel
from incidents.category_seed import CATEGORIES, seed_categories
from incidents.models import Category, DeadlineUnit, Incident, IncidentEvent, Urgency
from tests import factories

pytestmark = pytest.mark.django_db

DISPUTE_TYPES = [
    "信访问题处理",
    "不稳定因素报告",
    "婚姻家庭",
    "邻里纠纷",
    "环境生态",
    "建筑工程",
    "物业管理",
    "企业改制",
    "司法活动",
    "干部作风",
    "劳资纠纷",
    "征地拆迁",
    "军人安置",
    "房屋和宅基地",
    "农村“三资”",
    "农民负担",
    "院校问题",
    "民族宗教",
    "经济活动",
    "山林土地",
    "医患纠纷",
    "村（社区）务管理",
    "行政执法活动",
    "海事渔事",
    "交通及生产安全",
    "计划生育",
    "合同履行",
    "其他",
]
BIG = ["矛盾纠纷", "治安防控", "安全隐患", "特殊人群服务管理", "民生服务", "城市管理"]
BIG += ["社情民意", "政策法规宣传", "其他"]
LIVELIHOOD = ["教育服务", "社保服务", "就业服务", "医疗服务", "住房服务", "交通服务"]
LIVELIHOOD += ["证件办理", "企业服务", "资质服务", "经营纳税", "婚育收养", "公共事业", "其他"]
HIDDEN = ["信访问题处理", "不稳定因素报告", "干部作风", "民族宗教"]


def small_names(big_name: str) -> list[str]:
    big = Category.objects.get(parent=None, name=big_name)
    return list(big.children.order_by("code").values_list("name", flat=True))


# The tree the migration left behind


def test_migration_seeded_the_big_categories_in_order():
    bigs = Category.objects.filter(parent=None).order_by("code")
    assert [c.name for c in bigs] == BIG
    assert [c.code for c in bigs] == [f"{i:02d}" for i in range(1, 10)]


def test_the_28_dispute_types_in_order():
    assert small_names("矛盾纠纷") == DISPUTE_TYPES
    codes = Category.objects.get(name="矛盾纠纷").children.order_by("code")
    assert [c.code for c in codes] == [f"01{i:02d}" for i in range(1, 29)]


def test_livelihood_and_city_management():
    assert small_names("民生服务") == LIVELIHOOD
    classes = {name.split("·")[0] for name in small_names("城市管理")}
    assert classes == {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他"}
    for item in ["暴露垃圾", "占道经营", "乱贴乱画", "施工扰民", "道路破损"]:
        assert any(name.endswith("·" + item) for name in small_names("城市管理")), item


def test_every_small_category_has_a_big_parent_and_no_third_level():
    small = Category.objects.exclude(parent=None).select_related("parent")
    assert small.count() == sum(len(big["children"]) for big in CATEGORIES)
    for c in small:
        assert c.parent.parent_id is None, c.code
        assert c.code.startswith(c.parent.code) and len(c.code) == 4, c.code
        assert not c.children.exists(), c.code
    for big in Category.objects.filter(parent=None):
        assert len(big.code) == 2 and big.children.exists(), big.code


def test_codes_are_unique_in_the_seed():
    codes = [big["code"] for big in CATEGORIES]
    codes += [small["code"] for big in CATEGORIES for small in big["children"]]
    assert len(codes) == len(set(codes))
    assert Category.objects.filter(code__in=codes).count() == len(codes)


def test_sensitive_categories_are_hidden_from_the_public_form():
    for name in HIDDEN:
        assert not Category.objects.get(parent__code="01", name=name).is_public, name
    special = Category.objects.get(parent=None, name="特殊人群服务管理")
    assert not special.is_public
    assert special.children.exists() and not special.children.filter(is_public=True).exists()
    # Public ones carry a name for residents.
    assert not Category.objects.filter(is_public=True, public_name="").exists()


def test_defaults_are_valid_and_plausible():
    small = Category.objects.exclude(parent=None)
    levels = {AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY}
    for c in small:
        assert c.handling_level in levels, c.code
        assert c.urgency in Urgency.values and c.deadline_unit in DeadlineUnit.values, c.code
        assert min(c.signin_limit, c.handle_limit, c.verify_limit) >= 1, c.code
        assert 50 <= c.duplicate_radius_m <= 300, c.code
        assert 24 <= c.duplicate_window_hours <= 168, c.code
    neighbours = Category.objects.get(parent__code="01", name="邻里纠纷")
    assert neighbours.handling_level == AreaLevel.COMMUNITY
    assert (neighbours.deadline_unit, neighbours.handle_limit) == (DeadlineUnit.WORKDAY, 10)
    for c in small.filter(name__startswith="突发事件·") | small.filter(parent__code="03"):
        assert c.urgency == Urgency.URGENT and c.deadline_unit == DeadlineUnit.HOUR, c.code
        assert c.handling_level == AreaLevel.STREET, c.code
    litter = Category.objects.get(name="市容环境·暴露垃圾")
    assert (litter.handling_level, litter.handle_limit) == (AreaLevel.STREET, 3)


def test_the_seed_is_idempotent():
    before = {c.code: (c.pk, c.updated_at) for c in Category.objects.all()}
    assert seed_categories(Category) == 0
    assert seed_categories(Category) == 0
    after = {c.code: (c.pk, c.updated_at) for c in Category.objects.all()}
    assert after == before


def test_the_seed_restores_changed_and_missing_rows():
    Category.objects.filter(code="0104").update(handle_limit=99, name="x")
    Category.objects.filter(code="0901").delete()
    assert seed_categories(Category) == 2
    assert Category.objects.get(code="0104").handle_limit == 10
    assert Category.objects.get(code="0901").parent.code == "09"


# The admin


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_user(
        username="cat_admin", password="Correct-Horse-42", roles=["admin"], is_staff=True
    )
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def form_data(**overrides):
    data = {
        "parent": Category.objects.get(code="06").pk,
        "code": "0699",
        "name": "市容环境·测试",
        "public_name": "测试",
        "is_public": "on",
        "is_active": "on",
        "sort": 99,
        "handling_level": AreaLevel.STREET,
        "urgency": Urgency.NORMAL,
        "deadline_unit": DeadlineUnit.WORKDAY,
        "signin_limit": 1,
        "handle_limit": 3,
        "verify_limit": 1,
        "duplicate_radius_m": 50,
        "duplicate_window_hours": 72,
        "blue_percent": 50,
        "yellow_percent": 80,
        "yellow_card_days": 1,
        "red_card_days": 3,
    }
    data.update(overrides)
    return data


def post_add(client, **overrides):
    return client.post(reverse("admin:incidents_category_add"), form_data(**overrides))


def test_admin_lists_and_adds_a_small_category(admin_client):
    response = admin_client.get(reverse("admin:incidents_category_changelist"))
    assert response.status_code == 200
    assert "邻里纠纷".encode() in response.content
    response = post_add(admin_client)
    assert response.status_code == 302
    assert Category.objects.get(code="0699").parent.code == "06"


def test_admin_refuses_a_warning_threshold_above_100_percent(admin_client):
    count = Category.objects.count()
    response = post_add(admin_client, yellow_percent=120)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["yellow_percent"] == ["A warning threshold cannot be above 100 percent."]
    response = post_add(admin_client, blue_percent=80, yellow_percent=80)
    errors = response.context["adminform"].form.errors
    assert "must come later than the blue one" in errors["yellow_percent"][0]
    assert Category.objects.count() == count


def test_admin_refuses_a_third_level(admin_client):
    count = Category.objects.count()
    response = post_add(admin_client, parent=Category.objects.get(code="0601").pk)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "parent must be a big category" in errors["parent"][0]
    assert "市容环境·暴露垃圾" in errors["parent"][0]
    assert Category.objects.count() == count


def test_admin_refuses_to_put_a_big_category_under_another(admin_client):
    big = Category.objects.get(code="09")
    data = form_data(parent=Category.objects.get(code="06").pk, code="09", name="其他")
    response = admin_client.post(reverse("admin:incidents_category_change", args=[big.pk]), data)
    assert response.status_code == 200
    assert (
        "cannot be placed under another" in response.context["adminform"].form.errors["parent"][0]
    )
    big.refresh_from_db()
    assert big.parent_id is None and big.name == "其他"


@pytest.mark.parametrize("field", ["signin_limit", "handle_limit", "verify_limit"])
def test_admin_refuses_a_zero_limit(admin_client, field):
    count = Category.objects.count()
    response = post_add(admin_client, **{field: 0})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[field] == ["A time limit must be at least 1."]
    assert "__all__" not in errors
    assert Category.objects.count() == count


def test_admin_change_of_a_limit_to_zero_writes_nothing(admin_client):
    c = Category.objects.get(code="0104")
    data = form_data(
        parent=c.parent_id, code=c.code, name=c.name, public_name=c.public_name, handle_limit=0
    )
    response = admin_client.post(reverse("admin:incidents_category_change", args=[c.pk]), data)
    assert response.status_code == 200
    c.refresh_from_db()
    assert c.handle_limit == 10


def test_incident_admin_is_read_only(admin_client):
    assert admin_client.get(reverse("admin:incidents_incident_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:incidents_incident_add")).status_code == 403


def test_incident_admin_shows_the_history_read_only(admin_client, city):
    incident = Incident.objects.create(
        number="WG-20261122-000001",
        channel="grid",
        category=Category.objects.get(code="0104"),
        description="楼上漏水",
        location=Point(114.02, 30.02, srid=4326),
        grid=city.grids[0],
        owner_unit=factories.make_unit(area=city.communities[0]),
        state="reported",
        reported_at=timezone.now(),
    )
    IncidentEvent.objects.create(incident=incident, action="report", to_state="reported")
    response = admin_client.get(reverse("admin:incidents_incident_changelist"))
    assert response.status_code == 200
    assert b"WG-20261122-000001" in response.content
    assert "矛盾纠纷 / 邻里纠纷".encode() in response.content
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"report" in response.content
    assert admin_client.post(url, {"description": "x"}).status_code == 403
    incident.refresh_from_db()
    assert incident.description == "楼上漏水"
    delete = reverse("admin:incidents_incident_delete", args=[incident.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
