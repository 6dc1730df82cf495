"""Working days in China: deadlines counted the way the sub-district counts them.

The official calendar (public holidays and the make-up working days, 调休, that the State
Council publishes each autumn for the next year) comes from the maintained ``chinesecalendar``
package. For a year it does not cover yet, Monday to Friday are working days and
:func:`covered` says so: upgrade the package once the year's schedule is out.

A deadline of *n* working days ends at midnight (Beijing time) after the *n*-th working day
following the start day; the start day itself is not counted, whatever the hour.

>>> from datetime import date, datetime
>>> is_workday(date(2026, 2, 14))   # a Saturday, made a working day for the Spring Festival
True
>>> is_workday(date(2026, 2, 16))   # Spring Festival
False
>>> deadline(datetime(2026, 2, 13, 15, 30, tzinfo=BEIJING), 2).isoformat()  # Sat 14th, Tue 24th
'2026-02-25T00:00:00+08:00'
>>> covered(2026), covered(2099)
(True, False)
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar

#: China Standard Time (no daylight saving time): the day a deadline counts in.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def covered(year: int) -> bool:
    """Whether the official calendar of ``year`` is known (else weekends only are days off)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=16384)
def is_workday(day: date) -> bool:
    """A working day: by the official calendar where it is known, else Monday to Friday
    (remembered per day: the package's own check costs microseconds, a history asks millions)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def local_day(moment: datetime) -> date:
    """The Beijing calendar day of an aware ``moment`` (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).date()


def add_workdays(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself not counted; n ≥ 1).

    >>> add_workdays(date(2026, 9, 30), 1)   # National Day and the week off after it
    datetime.date(2026, 10, 8)
    """
    if n < 1:
        raise ValueError(f"a number of working days must be at least 1, got {n}")
    while n:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def deadline(start: datetime, workdays: int) -> datetime:
    """When ``workdays`` working days from ``start`` run out: midnight, Beijing time, after the
    last of them (an aware datetime)."""
    last = add_workdays(local_day(start), workdays)
    return datetime.combine(last + timedelta(days=1), time(0), BEIJING)


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``).

    >>> workdays_between(date(2026, 2, 13), date(2026, 2, 24))
    2
    """
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_workday(day)
    return count
