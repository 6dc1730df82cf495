"""The figures of the incident workflow: what each one counts, in one place.

Every figure is about the incidents **reported** in a period (their ``created_at`` month, Beijing
time), grouped by one of :data:`GROUPINGS`. Cancelled and merged incidents (作废, 合并) are in
the *count* but left out of every *rate*: they were never handled. The rates:

* **closure rate** (结案率): incidents closed (state ``closed``) / incidents counted, cancelled
  and merged ones excluded;
* **on-time rate** (按期结案率): incidents resolved no later than the deadline in force (the
  office's deadline ``office_due_at`` when it was escalated, else the handling deadline
  ``due_at``) / incidents resolved;
* **return-visit pass rate** (回访通过率): return visits that passed / return visits made (every
  ``revisit`` step of the log; a failed visit sends the incident back to its worker);
* **recurrence rate** (复发率): incidents that came back at least once (``recurrences`` > 0) /
  incidents counted, cancelled and merged excluded;
* **satisfaction** (满意率): visits with 满意 or 基本满意 / visits with a satisfaction (every
  passed visit records one);
* **handling time** (处置时长): ``resolved_at`` − ``dispatched_at`` of the incident's last round of
  handling, in **calendar hours** (not working hours), for the incidents resolved; its mean and
  its 90th percentile by the **nearest-rank** rule (:func:`percentile`).

A rate with nothing to divide by is ``None`` (shown as "—"), never 0.

The database adds these up per group and month (:mod:`geogrid.db.figures`); :func:`compute`
here does the same from incidents in memory and is the reference the tests and the benchmark
compare it with.

>>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)
9
>>> percentile([5.0], 90), percentile([], 90)
(5.0, None)
>>> ratio(3, 4), ratio(0, 0)
(0.75, None)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from ..errors import InputError
from ..workdays import BEIJING
from .rules import CANCELLED, CLOSED, MERGED, REVISITED

#: What figures may be grouped by: the incident's column holding the key.
GROUPINGS = {
    "grid": "grid_code",
    "community": "grid1_code",
    "worker": "worker",
    "office": "office",
    "category": "category",
    "month": None,  # the month the incident was reported in
}
#: States left out of every rate (they still count as reported).
EXCLUDED = frozenset({CANCELLED, MERGED})
#: Satisfaction values counted as satisfied (满意, 基本满意).
SATISFIED = frozenset({"satisfied", "fair"})
#: The percentile reported with the mean handling time.
PERCENTILE = 90
#: How many months one request may cover (the whole ten-year history and more).
MAX_MONTHS = 600

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# ---------------------------------------------------------------------- months
def month_of(moment: datetime) -> str:
    """The month (``YYYY-MM``, Beijing time) a moment falls in."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m")


def parse_month(value: str, name: str = "month") -> str:
    """``YYYY-MM`` checked, else :class:`InputError`."""
    m = _MONTH.match(value or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2999:
        raise InputError(f"{name}: a month as YYYY-MM, got {str(value)[:40]!r}")
    return value


def month_start(month: str) -> datetime:
    """The first moment of ``month`` (Beijing time), as an aware datetime."""
    y, m = int(month[:4]), int(month[5:])
    return datetime(y, m, 1, tzinfo=BEIJING)


def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included."""
    out, m = [], first
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(last: str, months: int) -> str:
    """The first of the ``months`` months ending with ``last``.

    >>> months_back("2026-03", 12), months_back("2026-12", 1)
    ('2025-04', '2026-12')
    """
    index = int(last[:4]) * 12 + int(last[5:]) - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ---------------------------------------------------------------------- arithmetic
def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, ``None`` when there is nothing to divide by."""
    return part / whole if whole else None


def percentile(values: Sequence[float], p: float = PERCENTILE):
    """The ``p``-th percentile by the nearest-rank rule: the smallest value with at least
    ``p`` % of the values at or below it, i.e. the ⌈p/100·n⌉-th smallest (one of the values,
    never interpolated). ``None`` for no values. ``values`` need not be sorted."""
    if not len(values):
        return None
    return sorted(values)[nearest_rank(len(values), p) - 1]


def nearest_rank(n: int, p: float = PERCENTILE) -> int:
    """The rank (1-based) of the ``p``-th percentile among ``n`` sorted values: ⌈p/100·n⌉.

    >>> [nearest_rank(n) for n in (1, 9, 10, 11, 20)]
    [1, 9, 9, 10, 18]
    """
    return max(1, math.ceil(p * n / 100))


def handling_hours(dispatched_at: datetime | None, resolved_at: datetime | None) -> float | None:
    """Calendar hours from dispatch to resolution (``None`` unless both happened)."""
    if dispatched_at is None or resolved_at is None:
        return None
    return (resolved_at - dispatched_at).total_seconds() / 3600.0


def deadline_in_force(office_due_at: datetime | None, due_at: datetime | None):
    """The deadline a resolution is measured against: the office's once it was escalated
    (and kept), else the handling deadline."""
    return office_due_at if office_due_at is not None else due_at


# ---------------------------------------------------------------------- sums
@dataclass
class Sums:
    """What is added up per group and month; every figure is made from these."""

    count: int = 0  # reported
    counted: int = 0  # reported, cancelled and merged excluded (the rates' denominator)
    closed: int = 0
    resolved: int = 0
    on_time: int = 0
    recurrent: int = 0
    visits: int = 0
    passed: int = 0
    rated: int = 0
    satisfied: int = 0
    hours_sum: float = 0.0
    hours_n: int = 0

    def add(self, other: Sums) -> None:
        for f in _SUM_FIELDS:
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def figures(self, hours: Sequence[float] | None = None) -> dict:
        """The figures of these sums; ``hours`` (the handling times) for the percentile."""
        return {
            "count": self.count,
            "counted": self.counted,
            "closed": self.closed,
            "closure_rate": ratio(self.closed, self.counted),
            "resolved": self.resolved,
            "on_time": self.on_time,
            "on_time_rate": ratio(self.on_time, self.resolved),
            "visits": self.visits,
            "visits_passed": self.passed,
            "revisit_pass_rate": ratio(self.passed, self.visits),
            "recurrent": self.recurrent,
            "recurrence_rate": ratio(self.recurrent, self.counted),
            "rated": self.rated,
            "satisfied": self.satisfied,
            "satisfaction_rate": ratio(self.satisfied, self.rated),
            "handled": self.hours_n,
            "handling_mean_h": self.hours_sum / self.hours_n if self.hours_n else None,
            "handling_p90_h": percentile(hours) if hours is not None else None,
        }


_SUM_FIELDS = [f.name for f in fields(Sums)]

#: The figures, in the order tables and files show them: (key, Chinese, English, kind), kind
#: ``int``, ``rate`` (a share, 0..1) or ``hours``.
FIGURES = [
    ("count", "上报数", "Reported", "int"),
    ("closed", "结案数", "Closed", "int"),
    ("closure_rate", "结案率", "Closure rate", "rate"),
    ("on_time_rate", "按期结案率", "On-time rate", "rate"),
    ("revisit_pass_rate", "回访通过率", "Return-visit pass rate", "rate"),
    ("recurrence_rate", "复发率", "Recurrence rate", "rate"),
    ("satisfaction_rate", "满意率", "Satisfaction", "rate"),
    ("handling_mean_h", "平均处置时长(小时)", "Mean handling time (h)", "hours"),
    ("handling_p90_h", "处置时长90分位(小时)", "90th percentile handling time (h)", "hours"),
]


def incident_sums(inc) -> Sums:
    """One incident's contribution, its visits aside (:func:`visit_sums`)."""
    s = Sums(count=1)
    if inc.state in EXCLUDED:
        return s
    s.counted = 1
    s.closed = int(inc.state == CLOSED)
    s.recurrent = int((inc.recurrences or 0) > 0)
    if inc.resolved_at is not None:
        s.resolved = 1
        limit = deadline_in_force(inc.office_due_at, inc.due_at)
        s.on_time = int(limit is not None and inc.resolved_at <= limit)
        hours = handling_hours(inc.dispatched_at, inc.resolved_at)
        if hours is not None:
            s.hours_sum, s.hours_n = hours, 1
    return s


def visit_sums(inc, events: Iterable[dict]) -> Sums:
    """The return visits of one incident's log (none counted for a cancelled or merged one):
    a visit passed when it moved the incident to ``revisited``; its satisfaction is the one
    recorded with it."""
    s = Sums()
    if inc.state in EXCLUDED:
        return s
    for e in events:
        if e["action"] != "revisit":
            continue
        s.visits += 1
        s.passed += int(e["to_state"] == REVISITED)
        sat = (e.get("detail") or {}).get("satisfaction")
        if sat:
            s.rated += 1
            s.satisfied += int(sat in SATISFIED)
    return s


def group_key(inc, by: str):
    """The key of ``inc`` when grouping ``by`` (None: an incident without one, e.g. no office)."""
    column = GROUPINGS[by]
    return month_of(inc.created_at) if column is None else getattr(inc, column)


def compute(incidents: Iterable, by: str, first: str, last: str, events=None) -> dict:
    """The figures of ``incidents`` reported from month ``first`` to ``last`` (the reference
    computation): ``{"total": figures, "groups": {key: figures}, "months": {month: figures}}``.
    ``events`` maps an incident id to its log (default: the incident's ``events``)."""
    groups: dict = {}
    months: dict = {}
    total = Sums()
    hours: dict = {"total": []}
    for inc in incidents:
        month = month_of(inc.created_at)
        if not first <= month <= last:
            continue
        s = incident_sums(inc)
        s.add(visit_sums(inc, inc.events if events is None else events.get(inc.id, ())))
        key = group_key(inc, by)
        for bucket, k in ((groups, key), (months, month)):
            bucket.setdefault(k, Sums()).add(s)
        total.add(s)
        if s.hours_n:
            for k in (("g", key), ("m", month), "total"):
                hours.setdefault(k, []).append(s.hours_sum)
    return {
        "total": total.figures(hours["total"]),
        "groups": {k: v.figures(hours.get(("g", k), [])) for k, v in groups.items()},
        "months": {k: v.figures(hours.get(("m", k), [])) for k, v in months.items()},
    }


#: The definitions as the figures page and the API show them: (key, Chinese, English).
DEFINITIONS = [
    ("count", "上报数：期间内上报的事件（按上报月份，北京时间），含作废与合并；作废、合并的事件不计入任何比率。",
     "Reported: incidents reported in the period (by the month reported, Beijing time), cancelled and merged ones included; those are left out of every rate."),
    ("closure_rate", "结案率 = 已结案 ÷ 上报数（不含作废、合并）。",
     "Closure rate = closed ÷ reported (cancelled and merged excluded)."),
    ("on_time_rate", "按期结案率 = 在期限内办结的 ÷ 已办结的；期限为会办部门期限（已会办时）或处置期限。",
     "On-time rate = resolved no later than the deadline in force (the office's once escalated, else the handling deadline) ÷ resolved."),
    ("revisit_pass_rate", "回访通过率 = 通过的回访 ÷ 全部回访（每次回访都计，未通过的退回网格员）。",
     "Return-visit pass rate = passed visits ÷ visits made (every visit counts; a failed one sends the incident back)."),
    ("recurrence_rate", "复发率 = 至少复发一次的事件 ÷ 上报数（不含作废、合并）。",
     "Recurrence rate = incidents that came back at least once ÷ reported (cancelled and merged excluded)."),
    ("satisfaction_rate", "满意率 = 满意及基本满意的回访 ÷ 记录了满意度的回访。",
     "Satisfaction = visits rated 满意 or 基本满意 ÷ visits with a satisfaction."),
    ("handling", "处置时长 = 办结时间 − 派遣时间（最后一轮处置），按自然小时计（非工作时）；90 分位按最近秩法：第 ⌈0.9·n⌉ 小的值。",
     "Handling time = resolved − dispatched (the last round), in calendar hours (not working hours); the 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value."),
]  # fmt: skip

__all__ = [
    "DEFINITIONS",
    "EXCLUDED",
    "FIGURES",
    "GROUPINGS",
    "MAX_MONTHS",
    "PERCENTILE",
    "SATISFIED",
    "Sums",
    "compute",
    "deadline_in_force",
    "group_key",
    "handling_hours",
    "incident_sums",
    "month_of",
    "month_of_day",
    "months_back",
    "month_start",
    "months_between",
    "nearest_rank",
    "next_month",
    "parse_month",
    "percentile",
    "ratio",
    "visit_sums",
]
