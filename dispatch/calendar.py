"""The working-day calendar: which days count towards a deadline, and deadline arithmetic.

A working day counts whole, all 24 hours of it in Asia/Shanghai; rest days do not count at all.
The calendar stores only exceptions to Monday–Friday: public holidays that fall on weekdays and
make-up working days (调休) on weekends. A year with no rows at all falls back to plain
Monday–Friday, and the admin warns about it.

Every datetime passed in must be aware; every datetime returned is aware and in Asia/Shanghai.
Compare results by instant, never by wall clock.
"""

import time as monotonic_clock
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Model
from django.db.models.functions import ExtractYear
from django.db.models.signals import post_delete, post_save

from dispatch.models import CalendarDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_SECONDS = 86400
UNIT_WORKDAY = "workday"
UNIT_HOUR = "hour"
MAKE_UP_NOTE = "调休上班"

# chinese_calendar's Holiday enum values (English) → the names officials use. Its own `.chinese`
# is shortened ("清明", "端午"); anything not listed here falls back to it.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
}

# year → (loaded at, {date: is_workday} or None when the year has no rows).
# Per process: a save in one process clears only that process's cache, so entries also expire
# after CACHE_SECONDS to bound how long other web and Celery workers keep an edited calendar.
_cache: dict[int, tuple[float, dict[date, bool] | None]] = {}
CACHE_SECONDS = 300


def calendar_cache_clear() -> None:
    """Forget every loaded year; the next lookup reads the database again."""
    _cache.clear()


def _year_exceptions(year: int) -> dict[date, bool] | None:
    """The year's exceptions in one query, or None if the year has no calendar data."""
    now = monotonic_clock.monotonic()
    hit = _cache.get(year)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    rows = dict(CalendarDay.objects.filter(date__year=year).values_list("date", "is_workday"))
    exceptions = rows or None
    _cache[year] = (now, exceptions)
    return exceptions


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("working-time arithmetic needs an aware datetime")
    return moment.astimezone(SHANGHAI)


def _day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Shanghai, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def is_workday(day: date) -> bool:
    """Whether `day` counts as a working day (an aware datetime is taken as its Shanghai date)."""
    if isinstance(day, datetime):
        day = _local(day).date()
    exceptions = _year_exceptions(day.year)
    if exceptions is not None and day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_time(start: datetime, seconds: int) -> datetime:
    """The instant at which `seconds` of working time have passed since `start`.

    Starting on a rest day, counting begins at 00:00 of the next working day. The result is the
    earliest such instant, so a span that ends exactly at midnight after a working day returns
    that midnight (Tuesday 00:00, not Tuesday morning, for one working day from a Saturday).
    Returned in Asia/Shanghai. Loops once per calendar day.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    cursor = _local(start).astimezone(UTC)
    remaining = timedelta(seconds=seconds)
    day = cursor.astimezone(SHANGHAI).date()
    while remaining:
        next_start = _day_start(day + timedelta(days=1))
        if is_workday(day):
            available = next_start - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(SHANGHAI)
            remaining -= available
        cursor = next_start
        day += timedelta(days=1)
    return cursor.astimezone(SHANGHAI)


def working_seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds of working time in [start, end); 0 if end is not after start."""
    start_utc, end_utc = _local(start).astimezone(UTC), _local(end).astimezone(UTC)
    if end_utc <= start_utc:
        return 0
    total = timedelta()
    day = start_utc.astimezone(SHANGHAI).date()
    last_day = end_utc.astimezone(SHANGHAI).date()
    while day <= last_day:
        if is_workday(day):
            lo = max(start_utc, _day_start(day))
            hi = min(end_utc, _day_start(day + timedelta(days=1)))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total // timedelta(seconds=1)


def deadline_for(start: datetime, amount: int, unit: str) -> datetime:
    """A deadline `amount` working days after `start`, or `amount` clock hours for urgent cases.

    unit is "workday" (working time, see add_working_time) or "hour" (elapsed time, holidays
    included). Returned in Asia/Shanghai.
    """
    if unit == UNIT_WORKDAY:
        return add_working_time(start, amount * DAY_SECONDS)
    if unit == UNIT_HOUR:
        return (_local(start).astimezone(UTC) + timedelta(hours=amount)).astimezone(SHANGHAI)
    raise ValueError(f"unknown deadline unit {unit!r}; expected 'workday' or 'hour'")


def years_without_data(years: Iterable[int]) -> list[int]:
    """The given years that have no CalendarDay row at all (sorted); they fall back to Mon–Fri."""
    wanted = set(years)
    if not wanted:
        return []
    present = set(
        CalendarDay.objects.filter(
            date__gte=date(min(wanted), 1, 1), date__lte=date(max(wanted), 12, 31)
        )
        .annotate(year=ExtractYear("date"))
        .order_by()
        .values_list("year", flat=True)
        .distinct()
    )
    return sorted(wanted - present)


def package_years() -> range:
    """The years the chinese_calendar package has holiday data for."""
    from chinese_calendar import holidays

    return range(min(holidays).year, max(holidays).year + 1)


def _exception_rows(years: Iterable[int]) -> list[tuple[date, bool, str]]:
    """(date, is_workday, note) for weekday holidays and weekend make-up days in `years`."""
    from chinese_calendar import Holiday, holidays, workdays

    known = package_years()
    wanted = set(years)
    unsupported = sorted(wanted - set(known))
    if unsupported:
        raise ValueError(
            f"chinese_calendar has no data for {unsupported}; "
            f"it covers {known.start}–{known.stop - 1}"
        )
    rows = []
    for day, name in holidays.items():
        # Weekend holidays are rest days already; storing them would add nothing.
        if day.year in wanted and day.weekday() < 5:
            note = HOLIDAY_NAMES.get(name) or Holiday(name).chinese
            rows.append((day, False, note[:64]))
    for day in workdays:
        if day.year in wanted and day.weekday() >= 5:
            rows.append((day, True, MAKE_UP_NOTE))
    return sorted(rows)


def _seed(model: type[Model], years: Iterable[int] | None = None) -> int:
    """Upsert the package's exceptions into `model` (CalendarDay, live or historical).

    Takes the model class so the data migration can pass apps.get_model(). Rows already there
    are overwritten for the dates the package knows; other rows (local decisions) are left alone.
    """
    rows = _exception_rows(package_years() if years is None else years)
    manager: Any = model._default_manager
    manager.bulk_create(
        [model(date=day, is_workday=workday, note=note) for day, workday, note in rows],
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["is_workday", "note"],
    )
    return len(rows)


@transaction.atomic
def calendar_seed(*, years: Iterable[int] | None = None) -> int:
    """Write the chinese_calendar package's holidays and make-up days for `years` (default: all).

    Idempotent upsert; returns the number of rows written. Raises ValueError for a year the
    package has no data for. Clears this process's calendar cache (bulk writes send no signals).
    """
    written = _seed(CalendarDay, years)
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)
    return written


def _on_calendar_change(**kwargs: Any) -> None:
    calendar_cache_clear()


def connect_signals() -> None:
    """Clear the cache whenever a CalendarDay is saved or deleted; call from AppConfig.ready()."""
    # Cache invalidation only, the one use of signals the style guide allows (STYLE.md §11).
    post_save.connect(
        _on_calendar_change, sender=CalendarDay, dispatch_uid="dispatch.calendar.save"
    )
    post_delete.connect(
        _on_calendar_change, sender=CalendarDay, dispatch_uid="dispatch.calendar.delete"
    )
