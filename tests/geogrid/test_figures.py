"""The figures' definitions (geogrid.incidents.figures) against a small history counted by hand
(figures_history.py): every figure, per grouping, the period's month boundaries in Beijing time,
the category filter and the nearest-rank percentile."""

from __future__ import annotations

import pytest
from figures_history import BY, CATEGORY, FIRST, LAST, MONTH, TOTAL, incidents

from geogrid.errors import InputError
from geogrid.incidents import figures as F


def same(got: dict, want: dict) -> None:
    """Every figure equal (rates and hours to 1e-9)."""
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == (pytest.approx(v, abs=1e-9) if isinstance(v, float) else v), k


@pytest.mark.parametrize("by", list(BY))
def test_every_figure_per_grouping_as_counted_by_hand(by):
    got = F.compute(incidents(), by, FIRST, LAST)
    same(got["total"], TOTAL)
    assert set(got["groups"]) == set(BY[by])
    for key, want in BY[by].items():
        same(got["groups"][key], want)
    for month, want in MONTH.items():
        same(got["months"][month], want)


def test_hand_counted_rates_spelled_out():
    """The totals as the page shows them (a second look at the table above)."""
    t = F.compute(incidents(), "grid", FIRST, LAST)["total"]
    assert t["count"] == 15 and t["counted"] == 12  # 2 cancelled + 1 merged are not rated
    assert t["closure_rate"] == 7 / 12
    assert t["on_time_rate"] == 7 / 9  # office deadlines: no. 3 and 12 on time, no. 4 late
    assert t["revisit_pass_rate"] == 9 / 11  # two failed visits (no. 6, 15); no. 13's not counted
    assert t["recurrence_rate"] == 3 / 12
    assert t["satisfaction_rate"] == 7 / 9  # 满意 + 基本满意 of the 9 rated visits
    assert t["handling_mean_h"] == pytest.approx(247 / 9)
    assert t["handling_p90_h"] == 60  # ⌈0.9·9⌉ = 9th of 9


def test_months_are_beijing_months():
    incs = {i.id: i for i in incidents()}
    assert F.month_of(incs[10].created_at) == "2026-02"  # 16:30 UTC on 31 January
    assert F.month_of(incs[16].created_at) == "2026-03"
    assert F.compute(incidents(), "month", "2026-03", "2026-03")["total"]["count"] == 1
    assert F.compute(incidents(), "month", "2026-01", "2026-03")["total"]["count"] == 16


def test_category_filter_is_a_subset():
    only = [i for i in incidents() if i.category == "0504"]
    got = F.compute(only, "grid", FIRST, LAST)
    same(got["total"], CATEGORY["0504"])


def test_a_rate_without_denominator_is_none_not_zero():
    worker = F.compute(incidents(), "worker", FIRST, LAST)["groups"]["李四"]
    assert worker["revisit_pass_rate"] is None and worker["satisfaction_rate"] is None
    assert worker["closure_rate"] == 0.0
    empty = F.Sums().figures([])
    assert empty["count"] == 0 and empty["closure_rate"] is None and empty["handling_p90_h"] is None


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ([7.0], 7.0),
        ([1, 2], 2),  # ⌈1.8⌉ = 2
        (list(range(1, 11)), 9),  # ⌈9⌉ = 9: exactly 90 % at or below
        (list(range(1, 12)), 10),  # ⌈9.9⌉ = 10
        (list(range(1, 21)), 18),
        ([5, 1, 4, 2, 3], 5),  # unsorted input; ⌈4.5⌉ = 5
        ([3, 3, 3, 1], 3),
    ],
)
def test_p90_is_the_nearest_rank(values, want):
    assert F.percentile(values) == want
    assert F.percentile(values) in values  # never interpolated


def test_months_and_their_checks():
    assert F.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert F.months_back("2026-01", 12) == "2025-02"
    assert F.month_start("2026-02").isoformat() == "2026-02-01T00:00:00+08:00"
    for bad in ("2026-13", "2026-1", "26-01", "", "2026-01-01"):
        with pytest.raises(InputError):
            F.parse_month(bad)
