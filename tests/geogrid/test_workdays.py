"""Deadlines in working days, with China's public holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from geogrid import workdays as W


def test_a_make_up_saturday_counts_and_the_holiday_week_does_not():
    # dispatched on the last Friday before the 2026 Spring Festival, 3 working days
    due = W.deadline(datetime(2026, 2, 13, 9, 0, tzinfo=W.BEIJING), 3)
    # Sat 14th (调休) is the 1st, 15th-23rd are off, Tue 24th the 2nd, Wed 25th the 3rd
    assert due == datetime(2026, 2, 26, tzinfo=W.BEIJING)


def test_a_report_on_a_holiday_starts_counting_after_it():
    due = W.deadline(datetime(2026, 10, 3, 11, 0, tzinfo=W.BEIJING), 1)
    assert due == datetime(2026, 10, 9, tzinfo=W.BEIJING)  # Thu 8th is the first working day


def test_the_day_is_beijings_not_utcs():
    # 2026-02-13 17:00 UTC is already Saturday the 14th in Beijing (a make-up working day)
    late = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert W.local_day(late) == date(2026, 2, 14)
    assert W.deadline(late, 1) == datetime(2026, 2, 25, tzinfo=W.BEIJING)
    assert W.local_day(datetime(2026, 2, 13, 17, 0)) == date(2026, 2, 14)  # naive = UTC


def test_a_year_the_calendar_does_not_know_falls_back_to_weekends():
    assert not W.covered(2099)
    assert W.is_workday(date(2099, 1, 2))  # a Friday
    assert not W.is_workday(date(2099, 1, 3))  # a Saturday
    assert W.add_workdays(date(2099, 1, 2), 1) == date(2099, 1, 5)


def test_counting_working_days_between_two_days():
    assert W.workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert W.workdays_between(date(2026, 10, 8), date(2026, 10, 8)) == 0
    assert W.workdays_between(date(2026, 10, 9), date(2026, 10, 8)) == 0


def test_zero_working_days_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        W.add_workdays(date(2026, 1, 5), 0)
