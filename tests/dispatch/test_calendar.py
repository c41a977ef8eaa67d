"""The working-day calendar: holidays, make-up days (调休), the Mon–Fri fallback, the cache."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from dispatch import calendar
from dispatch.calendar import (
    add_working_time,
    calendar_cache_clear,
    calendar_seed,
    deadline_for,
    is_workday,
    working_seconds_between,
    years_without_data,
)
from dispatch.models import CalendarDay
from govgrid.accounts.models import User

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400
HOUR = 3600

pytestmark = pytest.mark.django_db


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # The cache lives in the process and outlives each test's rolled-back transaction.
    calendar.connect_signals()
    calendar_cache_clear()
    yield
    calendar_cache_clear()


def test_the_migration_seeded_the_calendar():
    assert CalendarDay.objects.filter(date__year=2025).exists()
    national_day = CalendarDay.objects.get(date=date(2025, 10, 1))
    assert (national_day.is_workday, national_day.note) == (False, "国庆节")
    assert CalendarDay.objects.get(date=date(2025, 10, 6)).note == "中秋节"
    make_up = CalendarDay.objects.get(date=date(2025, 9, 28))
    assert (make_up.is_workday, make_up.note) == (True, "调休上班")
    # Only exceptions are stored: a holiday on a Saturday is a rest day anyway.
    assert not CalendarDay.objects.filter(date=date(2025, 10, 4)).exists()


def test_national_day_week_2025():
    assert not is_workday(date(2025, 10, 1))
    assert not is_workday(date(2025, 10, 8))
    assert is_workday(date(2025, 9, 28))  # Sunday, make-up day
    assert is_workday(date(2025, 10, 11))  # Saturday, make-up day
    assert add_working_time(at(2025, 9, 30, 10), DAY) == at(2025, 10, 9, 10)


def test_the_result_is_in_shanghai_whatever_zone_comes_in():
    start = datetime(2025, 9, 30, 2, tzinfo=UTC)  # 10:00 in Shanghai
    end = add_working_time(start, DAY)
    assert end == at(2025, 10, 9, 10)
    assert end.tzinfo == SH
    with pytest.raises(ValueError, match="aware"):
        add_working_time(datetime(2025, 9, 30, 10), DAY)


def test_a_make_up_saturday_counts():
    assert add_working_time(at(2025, 10, 10, 10), DAY) == at(2025, 10, 11, 10)
    # From Saturday afternoon the make-up Sunday 28 September is the next working day.
    assert add_working_time(at(2025, 9, 27, 15), DAY) == at(2025, 9, 29, 0)


def test_an_ordinary_weekend():
    assert add_working_time(at(2025, 11, 14, 10), DAY) == at(2025, 11, 17, 10)
    assert add_working_time(at(2025, 11, 15, 15), DAY) == at(2025, 11, 18, 0)
    # Ending exactly at the end of a working day gives that midnight, not Monday's.
    assert add_working_time(at(2025, 11, 14, 10), 14 * HOUR) == at(2025, 11, 15, 0)
    assert add_working_time(at(2025, 11, 14, 10), 0) == at(2025, 11, 14, 10)
    assert add_working_time(at(2025, 11, 3, 9), 5 * DAY) == at(2025, 11, 10, 9)


def test_spring_festival_2026():
    # chinese_calendar 1.11: rest 15–23 February 2026, make-up Saturdays 14 and 28 February.
    assert not is_workday(date(2026, 2, 16))
    assert not is_workday(date(2026, 2, 23))
    assert is_workday(date(2026, 2, 14))
    assert is_workday(date(2026, 2, 28))
    assert add_working_time(at(2026, 2, 13, 10), DAY) == at(2026, 2, 14, 10)
    assert add_working_time(at(2026, 2, 14, 10), DAY) == at(2026, 2, 24, 10)
    # Thu 15 h + Fri 24 h + make-up Sat 24 h, then 9 h on Tuesday after the holiday.
    assert deadline_for(at(2026, 2, 12, 9), 3, "workday") == at(2026, 2, 24, 9)


def test_an_hour_deadline_runs_through_a_holiday():
    assert deadline_for(at(2025, 9, 30, 10), 24, "hour") == at(2025, 10, 1, 10)
    assert deadline_for(at(2025, 9, 30, 10), 1, "workday") == at(2025, 10, 9, 10)
    with pytest.raises(ValueError, match="unit"):
        deadline_for(at(2025, 9, 30, 10), 1, "week")


def test_working_seconds_across_a_weekend_and_a_holiday():
    # Fri 26 Sep 12:00 → Thu 9 Oct 06:00: 12 h Fri, Sat off, make-up Sun, Mon, Tue,
    # 1–8 October off, 6 h Thursday.
    assert working_seconds_between(at(2025, 9, 26, 12), at(2025, 10, 9, 6)) == 90 * HOUR
    assert working_seconds_between(at(2025, 11, 14, 18), at(2025, 11, 17, 6)) == 12 * HOUR
    assert working_seconds_between(at(2025, 10, 2), at(2025, 10, 5)) == 0
    assert working_seconds_between(at(2025, 10, 9), at(2025, 10, 8)) == 0


@pytest.mark.parametrize(
    ("start", "seconds"),
    [
        (at(2025, 9, 30, 10), DAY),
        (at(2025, 9, 27, 15), 3 * DAY + 5 * HOUR),
        (at(2026, 2, 13, 23, 30), 10 * DAY),
        (at(2025, 12, 31, 8), 40 * DAY + 17),
    ],
)
def test_working_seconds_undo_add_working_time(start, seconds):
    assert working_seconds_between(start, add_working_time(start, seconds)) == seconds


def test_a_year_without_data_falls_back_to_monday_to_friday():
    assert years_without_data([2024, 2025]) == []
    CalendarDay.objects.filter(date__year=2024).delete()
    assert years_without_data([2025, 2024, 2024]) == [2024]
    assert is_workday(date(2024, 10, 1))  # a Tuesday; National Day once the data is back
    assert not is_workday(date(2024, 10, 12))  # a Saturday; a make-up day once the data is back
    assert add_working_time(at(2024, 9, 30, 10), DAY) == at(2024, 10, 1, 10)
    calendar_seed(years=[2024])
    assert not is_workday(date(2024, 10, 1))
    assert add_working_time(at(2024, 9, 30, 10), DAY) == at(2024, 10, 8, 10)


def test_a_year_is_loaded_in_one_query_and_cached(django_assert_num_queries):
    with django_assert_num_queries(1):
        for offset in range(365):
            is_workday(date(2025, 1, 1) + timedelta(days=offset))
    with django_assert_num_queries(0):
        assert add_working_time(at(2025, 1, 2, 9), 200 * DAY) > at(2025, 10, 1)


def test_the_seed_is_idempotent():
    before = CalendarDay.objects.count()
    written = calendar_seed(years=[2025])
    assert written == CalendarDay.objects.filter(date__year=2025).count()
    assert calendar_seed(years=[2025]) == written
    assert calendar_seed() >= written
    assert CalendarDay.objects.count() == before
    with pytest.raises(ValueError, match="no data"):
        calendar_seed(years=[1999])


def test_the_seed_keeps_local_decisions_on_other_days():
    CalendarDay.objects.create(date=date(2025, 11, 19), is_workday=False, note="台风停工")
    calendar_seed(years=[2025])
    assert CalendarDay.objects.get(date=date(2025, 11, 19)).note == "台风停工"


def test_editing_the_calendar_takes_effect_at_once():
    wednesday = date(2025, 11, 19)
    assert is_workday(wednesday)
    assert add_working_time(at(2025, 11, 18, 10), DAY) == at(2025, 11, 19, 10)
    day = CalendarDay.objects.create(date=wednesday, is_workday=False, note="台风停工")
    assert not is_workday(wednesday)
    assert add_working_time(at(2025, 11, 18, 10), DAY) == at(2025, 11, 20, 10)
    day.is_workday = True
    day.save()
    assert is_workday(wednesday)
    day.delete()
    national_day = CalendarDay.objects.get(date=date(2025, 10, 1))
    national_day.is_workday = True
    national_day.save()
    assert is_workday(date(2025, 10, 1))


@pytest.fixture
def superuser():
    return User.objects.create_superuser(username="t_super", password="x", email="s@example.com")


@time_machine.travel(datetime(2025, 6, 1, 12, tzinfo=SH), tick=False)
def test_the_admin_warns_about_a_year_without_data(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:dispatch_calendarday_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]

    CalendarDay.objects.filter(date__year=2026).delete()
    response = client.get(url)
    assert response.status_code == 200
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "2026" in warnings[0]
    assert "2025" not in warnings[0]
    assert "2026" in response.content.decode()
