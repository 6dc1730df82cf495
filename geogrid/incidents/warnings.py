"""Early warning (苗头性问题发现在早、处置在先): rules over the recent incident history that point
at a problem before it grows. Pure functions over compact rows; what they read comes from
:meth:`geogrid.db.warnings.WarningStore.warning_inputs`, who may see and acknowledge them is
:mod:`geogrid.usecases.warnings`'.

The four rules, each with its thresholds from :class:`WarningSettings` (``GEOGRID_WARN_*``):

* **repeat** (同类事件反复发生): at least ``repeat_count`` incidents of the same category in the
  same second-level grid reported in the last ``repeat_days`` days;
* **recur** (回访后反弹): an incident whose return visit passed in the last ``recur_days`` days and
  that was then reopened (the problem came back after it was checked), or after which a new
  report of the same category came in within ``recur_radius_m`` metres: the problem is back,
  reported as a new incident;
* **cluster** (短时集中上报): at least ``cluster_count`` reports in the last ``cluster_hours``
  hours within ``cluster_radius_m`` metres of one of them, whatever the grid boundaries
  (measured in EPSG:4549); reports closer than the radius to such a group join it;
* **surge** (积压异常): a grid whose open count, or overdue count, is above its usual level:
  more than the mean plus ``surge_sd`` standard deviations of its daily levels over the
  previous ``surge_weeks`` weeks, and at least ``surge_min`` above that mean.

Cancelled and merged incidents never count (a merged one is a duplicate of another report).
Every warning has a stable ``key`` (rule, subject, window), the incidents behind it, an
explanation in Chinese and English and a severity. An acknowledgement records the incidents it
saw: the warning stays acknowledged while its incidents are among those (old ones leaving the
window change nothing) and comes back when a new incident joins it.

>>> from datetime import UTC, datetime, timedelta
>>> now = datetime(2026, 12, 1, 8, tzinfo=UTC)
>>> rows = [Report(i, "320113005007007", "320113005007", "0601", 118.93, 32.11, "closed",
...                now - timedelta(days=i)) for i in (1, 5, 9)]
>>> [w.key for w in repeats(rows, now, WarningSettings())]
['repeat:320113005007007:0601:20261122']
>>> repeats(rows, now, WarningSettings(repeat_count=4))
[]
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

from .. import settings
from .rules import CANCELLED, CLOSED, MERGED

#: The rules, in the order pages list them.
RULES = ("repeat", "recur", "cluster", "surge")
HIGH, MEDIUM = "high", "medium"
#: Beijing time, for the days in keys and explanations.
_BJ = timedelta(hours=8)
#: States that never count: the report was withdrawn or is a duplicate of another.
NOT_COUNTED = frozenset({CANCELLED, MERGED})


@dataclass(frozen=True)
class WarningSettings:
    """The rules' thresholds (``GEOGRID_WARN_*``, read by :meth:`from_settings`)."""

    repeat_count: int = 3
    repeat_days: float = 30
    recur_days: float = 30
    recur_radius_m: float = 100
    cluster_count: int = 5
    cluster_radius_m: float = 200
    cluster_hours: float = 72
    surge_weeks: int = 8
    surge_sd: float = 2
    surge_min: int = 3
    #: How long the navigation badge's count may be reused, seconds (0: never).
    cache_seconds: float = 30

    #: setting -> (field, default, lowest, highest, whole number)
    VARIABLES = {
        "GEOGRID_WARN_REPEAT_COUNT": ("repeat_count", 3, 2, 1000, True),
        "GEOGRID_WARN_REPEAT_DAYS": ("repeat_days", 30, 1, 365, False),
        "GEOGRID_WARN_RECUR_DAYS": ("recur_days", 30, 1, 365, False),
        "GEOGRID_WARN_RECUR_RADIUS_M": ("recur_radius_m", 100, 1, 5000, False),
        "GEOGRID_WARN_CLUSTER_COUNT": ("cluster_count", 5, 2, 1000, True),
        "GEOGRID_WARN_CLUSTER_RADIUS_M": ("cluster_radius_m", 200, 1, 5000, False),
        "GEOGRID_WARN_CLUSTER_HOURS": ("cluster_hours", 72, 1, 24 * 60, False),
        "GEOGRID_WARN_SURGE_WEEKS": ("surge_weeks", 8, 1, 104, True),
        "GEOGRID_WARN_SURGE_SD": ("surge_sd", 2, 0, 20, False),
        "GEOGRID_WARN_SURGE_MIN": ("surge_min", 3, 1, 10000, True),
        "GEOGRID_WARN_CACHE_S": ("cache_seconds", 30, 0, 3600, False),
    }

    @classmethod
    def from_settings(cls) -> WarningSettings:
        """The thresholds from the environment; :class:`~geogrid.errors.InputError` naming the
        variable for a value out of its range (or a fraction where a count is asked)."""
        from ..errors import InputError

        values = {}
        for name, (attr, default, low, high, whole) in cls.VARIABLES.items():
            n = settings.number(name, default, low, high)
            if whole and n != int(n):
                raise InputError(f"{name} must be a whole number, got {settings.get(name)!r}")
            values[attr] = int(n) if whole else n
        return cls(**values)

    @property
    def lookback(self) -> timedelta:
        """How far back the rules read reported incidents."""
        return max(
            timedelta(days=self.repeat_days),
            timedelta(days=self.recur_days),
            timedelta(hours=self.cluster_hours),
        )


class Report(NamedTuple):
    """An incident as the rules read it."""

    id: int
    grid_code: str | None
    grid1_code: str | None
    category: str
    lon: float
    lat: float
    state: str
    created_at: datetime


class Revisit(NamedTuple):
    """A return visit that passed (the incident's place and category), and when the incident
    was reopened after it (None: it was not)."""

    incident_id: int
    grid_code: str | None
    grid1_code: str | None
    category: str
    lon: float
    lat: float
    revisited_at: datetime
    reopened_at: datetime | None = None


class OpenIncident(NamedTuple):
    """An incident open now (state in :data:`~geogrid.incidents.rules.OPEN`)."""

    id: int
    grid_code: str | None
    grid1_code: str | None
    lon: float
    lat: float
    overdue: bool


class Span(NamedTuple):
    """When an incident was open (``start`` to ``end``, None: still) and overdue (``late_from``
    to ``late_end``), read off its row (see :func:`span_of`)."""

    grid_code: str
    start: datetime
    end: datetime | None
    late_from: datetime | None
    late_end: datetime | None


@dataclass(frozen=True)
class Inputs:
    """What the rules need, as :meth:`~geogrid.db.warnings.WarningStore.warning_inputs` reads it."""

    now: datetime
    reports: list[Report]
    revisits: list[Revisit]
    open_now: list[OpenIncident]
    spans: list[Span]
    grid_communities: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class EarlyWarning:
    """One raised warning."""

    key: str
    rule: str
    #: what it is about (rule-specific: grid and category, incident, grid and measure; "" for
    #: a cluster, which is known by its incidents)
    subject: str
    severity: str
    grid_code: str | None
    community: str | None
    category: str | None
    since: datetime
    incidents: tuple[int, ...]
    incident_grids: tuple[str | None, ...]
    lon: float
    lat: float
    explanation: dict[str, str]
    detail: dict
    #: the acknowledgement covering it (who, when, note), None while active
    acknowledged: dict | None = None

    @property
    def grid_codes(self) -> frozenset[str]:
        return frozenset(g for g in self.incident_grids if g) | (
            {self.grid_code} if self.grid_code else set()
        )

    def covered_by(self, ack: dict) -> bool:
        """Whether acknowledgement ``ack`` (``rule``, ``subject``, ``incidents``) covers this
        warning: the same rule and subject, and no incident it did not see."""
        return (
            ack.get("rule") == self.rule
            and ack.get("subject", "") == self.subject
            and set(self.incidents) <= set(ack.get("incidents") or ())
        )

    def within(self, grids: frozenset[str]) -> EarlyWarning | None:
        """This warning as seen from ``grids`` (a grid worker's): None if it touches none of
        them, else with only their incidents listed."""
        if not self.grid_codes & grids:
            return None
        keep = [
            (i, g) for i, g in zip(self.incidents, self.incident_grids, strict=True) if g in grids
        ]
        return replace(
            self, incidents=tuple(i for i, _ in keep), incident_grids=tuple(g for _, g in keep)
        )

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "rule": self.rule,
            "severity": self.severity,
            "grid_code": self.grid_code,
            "grid_codes": sorted(self.grid_codes),
            "community": self.community,
            "category": self.category,
            "since": self.since.isoformat(),
            "incidents": list(self.incidents),
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "explanation": self.explanation,
            "detail": self.detail,
            "acknowledged": (
                {**self.acknowledged, "at": self.acknowledged["at"].isoformat()}
                if self.acknowledged
                else None
            ),
        }


# ---------------------------------------------------------------------- helpers
def _day(moment: datetime) -> str:
    """The Beijing date of ``moment`` as YYYYMMDD (the window part of a key)."""
    return (moment + _BJ).strftime("%Y%m%d")


def _date(moment: datetime) -> str:
    return (moment + _BJ).strftime("%Y-%m-%d")


def _counted(rows):
    return [r for r in rows if r.state not in NOT_COUNTED]


def _centre(rows) -> tuple[float, float]:
    return (sum(r.lon for r in rows) / len(rows), sum(r.lat for r in rows) / len(rows))


def _num(x: float) -> str:
    return f"{x:g}"


def _metric(lons, lats) -> np.ndarray:
    from ..crs.metric import to_metric

    x, y = to_metric(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def _pairs_within(xy: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j, of points of ``xy`` (metres) at most ``radius`` apart."""
    import shapely

    if len(xy) < 2:
        return np.empty(0, int), np.empty(0, int)
    points = shapely.points(xy)
    tree = shapely.STRtree(points)
    i, j = tree.query(points, predicate="dwithin", distance=radius)
    keep = i != j
    return i[keep], j[keep]


# ---------------------------------------------------------------------- the rules
def repeats(reports: list[Report], now: datetime, s: WarningSettings) -> list[EarlyWarning]:
    """Rule 1: ``repeat_count`` or more incidents of one category in one second-level grid in
    the last ``repeat_days`` days."""
    since = now - timedelta(days=s.repeat_days)
    groups: dict[tuple[str, str], list[Report]] = defaultdict(list)
    for r in _counted(reports):
        if r.grid_code and since <= r.created_at <= now:
            groups[(r.grid_code, r.category)].append(r)
    out = []
    for (grid, cat), rows in sorted(groups.items()):
        if len(rows) < s.repeat_count:
            continue
        rows.sort(key=lambda r: (r.created_at, r.id))
        first = rows[0].created_at
        lon, lat = _centre(rows)
        n, days = len(rows), _num(s.repeat_days)
        out.append(
            EarlyWarning(
                key=f"repeat:{grid}:{cat}:{_day(first)}",
                rule="repeat",
                subject=f"{grid}:{cat}",
                severity=HIGH if n >= 2 * s.repeat_count else MEDIUM,
                grid_code=grid,
                community=rows[0].grid1_code,
                category=cat,
                since=first,
                incidents=tuple(r.id for r in rows),
                incident_grids=tuple(r.grid_code for r in rows),
                lon=lon,
                lat=lat,
                explanation={
                    "zh": f"网格 {grid} 近 {days} 天内同类事件（{cat}）发生 {n} 起（阈值 {s.repeat_count} 起），自 {_date(first)} 起反复出现",
                    "en": f"{n} incidents of category {cat} in grid {grid} in the last {days} days (threshold {s.repeat_count}), since {_date(first)}",
                },
                detail={"count": n, "threshold": s.repeat_count, "days": s.repeat_days},
            )
        )
    return out


def recurrences(
    revisits: list[Revisit], reports: list[Report], now: datetime, s: WarningSettings
) -> list[EarlyWarning]:
    """Rule 2: a return visit that passed in the last ``recur_days`` days, then the incident
    was reopened, or a new report of the same category came in within ``recur_radius_m``
    metres after the visit. One warning per passed visit, with the reopened incident first and
    the new reports after it."""
    since = now - timedelta(days=s.recur_days)
    visits = [v for v in revisits if since <= v.revisited_at <= now]
    if not visits:
        return []
    counted = [r for r in _counted(reports) if r.created_at <= now]
    # every report and visit projected once; each visit compared with its category's reports
    xy = _metric([r.lon for r in counted], [r.lat for r in counted]) if counted else None
    vxy = _metric([v.lon for v in visits], [v.lat for v in visits])
    by_cat: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(counted):
        by_cat[r.category].append(k)
    cat_index = {c: np.array(ks, dtype=int) for c, ks in by_cat.items()}
    out = []
    order = sorted(
        range(len(visits)), key=lambda k: (visits[k].revisited_at, visits[k].incident_id)
    )
    for vk in order:
        v = visits[vk]
        later: list[Report] = []
        ks = cat_index.get(v.category)
        if ks is not None:
            d = np.hypot(xy[ks, 0] - vxy[vk, 0], xy[ks, 1] - vxy[vk, 1])
            later = sorted(
                (
                    counted[k]
                    for k in ks[d <= s.recur_radius_m].tolist()
                    if counted[k].created_at > v.revisited_at and counted[k].id != v.incident_id
                ),
                key=lambda r: (r.created_at, r.id),
            )
        reopened = v.reopened_at is not None and v.reopened_at <= now
        if not later and not reopened:
            continue
        n = len(later)
        day = _date(v.revisited_at)
        zh, en = [], []
        if reopened:
            zh.append(f"{_date(v.reopened_at)} 重新打开")
            en.append(f"reopened on {_date(v.reopened_at)}")
        if n:
            zh.append(f"其后 {_num(s.recur_radius_m)} 米内又有 {n} 起同类新报")
            en.append(
                f"{n} new report(s) of the same category within {_num(s.recur_radius_m)} m since"
            )
        out.append(
            EarlyWarning(
                key=f"recur:{v.incident_id}:{_day(v.revisited_at)}",
                rule="recur",
                subject=str(v.incident_id),
                severity=HIGH if reopened or n >= 2 else MEDIUM,
                grid_code=v.grid_code,
                community=v.grid1_code,
                category=v.category,
                since=v.revisited_at,
                incidents=(v.incident_id, *(r.id for r in later)),
                incident_grids=(v.grid_code, *(r.grid_code for r in later)),
                lon=v.lon,
                lat=v.lat,
                explanation={
                    "zh": f"事件 #{v.incident_id} 于 {day} 回访通过后问题反弹：" + "，".join(zh),
                    "en": f"Incident #{v.incident_id} came back after its return visit passed on {day}: " + "; ".join(en),
                },
                detail={"reopened": reopened, "new_reports": n, "radius_m": s.recur_radius_m, "days": s.recur_days},
            )
        )  # fmt: skip
    return out


def clusters(reports: list[Report], now: datetime, s: WarningSettings) -> list[EarlyWarning]:
    """Rule 3: ``cluster_count`` or more reports of the last ``cluster_hours`` hours within
    ``cluster_radius_m`` metres of one of them (its neighbourhood, itself included), whatever
    their grids and categories; neighbourhoods whose centres lie within the radius of each
    other make one warning (density-based clustering, as DBSCAN with eps = the radius)."""
    since = now - timedelta(hours=s.cluster_hours)
    rows = sorted(
        (r for r in _counted(reports) if since <= r.created_at <= now), key=lambda r: r.id
    )
    if len(rows) < s.cluster_count:
        return []
    xy = _metric([r.lon for r in rows], [r.lat for r in rows])
    i, j = _pairs_within(xy, s.cluster_radius_m)
    degree = np.bincount(i, minlength=len(rows)) + 1  # the report itself
    core = degree >= s.cluster_count
    if not core.any():
        return []
    # union-find over cores joined by a pair; each non-core neighbour joins the first core
    parent = list(range(len(rows)))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        if core[a] and core[b]:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, set[int]] = defaultdict(set)
    for a in np.flatnonzero(core).tolist():
        members[find(a)].add(a)
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        if core[a] and not core[b]:
            members[find(a)].add(b)
    out = []
    for group in members.values():
        found = sorted((rows[k] for k in group), key=lambda r: (r.created_at, r.id))
        n = len(found)
        grids = [r.grid_code for r in found]
        main = max(sorted({g for g in grids if g}), key=grids.count, default=None)
        lon, lat = _centre(found)
        first = found[0].created_at
        seed = min(r.id for r in found)
        hours, radius = _num(s.cluster_hours), _num(s.cluster_radius_m)
        several = len({g for g in grids if g})
        out.append(
            EarlyWarning(
                key=f"cluster:{seed}:{_day(first)}",
                rule="cluster",
                subject="",
                severity=HIGH if n >= 2 * s.cluster_count else MEDIUM,
                grid_code=main,
                community=next((r.grid1_code for r in found if r.grid_code == main), None),
                category=None,
                since=first,
                incidents=tuple(r.id for r in found),
                incident_grids=tuple(grids),
                lon=lon,
                lat=lat,
                explanation={
                    "zh": f"近 {hours} 小时内 {radius} 米范围集中上报 {n} 起（阈值 {s.cluster_count} 起）"
                    + (f"，跨 {several} 个网格" if several > 1 else ""),
                    "en": f"{n} reports within {radius} m in the last {hours} hours (threshold {s.cluster_count})"
                    + (f", across {several} grids" if several > 1 else ""),
                },
                detail={"count": n, "threshold": s.cluster_count, "radius_m": s.cluster_radius_m,
                        "hours": s.cluster_hours, "grids": several},
            )
        )  # fmt: skip
    return sorted(out, key=lambda w: (w.since, w.key))


def span_of(
    grid_code: str,
    state: str,
    created_at: datetime,
    closed_at: datetime | None,
    updated_at: datetime,
    due_at: datetime | None,
    office_due_at: datetime | None,
    resolved_at: datetime | None,
) -> Span:
    """When an incident was open and overdue, from its row: open from its report to its
    closing (a cancelled or merged one: to its last change, the step that ended it; still open:
    no end); overdue from its running deadline (the office's when escalated) to its resolving
    (or its end). A reopened incident counts from its first report to its latest closing and
    is overdue against its latest deadline only: the row keeps no more."""
    end = closed_at if state == CLOSED else (updated_at if state in NOT_COUNTED else None)
    late_from = office_due_at or due_at
    late_end = resolved_at or end
    return Span(grid_code, created_at, end, late_from, late_end)


def levels(
    spans: list[Span], times: list[datetime], grids: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(open, overdue) counts of each of ``grids`` (rows) at each of ``times`` (columns)."""
    index = {g: k for k, g in enumerate(grids)}
    shape = (len(grids), len(times))
    if not spans or not times:
        return np.zeros(shape, int), np.zeros(shape, int)
    inf = math.inf
    sec = lambda d: d.timestamp() if d is not None else inf  # noqa: E731
    t = np.array([x.timestamp() for x in times])
    keep = [s for s in spans if s.grid_code in index]
    g = np.array([index[s.grid_code] for s in keep], dtype=int)
    start = np.array([sec(s.start) for s in keep])[:, None]
    end = np.array([sec(s.end) for s in keep])[:, None]
    lf = np.array([sec(s.late_from) for s in keep])[:, None]
    le = np.array([sec(s.late_end) for s in keep])[:, None]
    is_open = (start <= t) & (t < end)
    is_late = is_open & (lf <= t) & (t < le)
    open_counts = np.zeros(shape, int)
    late_counts = np.zeros(shape, int)
    np.add.at(open_counts, g, is_open.astype(int))
    np.add.at(late_counts, g, is_late.astype(int))
    return open_counts, late_counts


def baseline_times(now: datetime, s: WarningSettings) -> list[datetime]:
    """The moments the usual level is sampled at: the same time of day on each of the
    ``surge_weeks`` × 7 days before today."""
    return [now - timedelta(days=k) for k in range(1, 7 * s.surge_weeks + 1)]


def surges(
    open_now: list[OpenIncident],
    spans: list[Span],
    now: datetime,
    s: WarningSettings,
    grid_communities: dict[str, str | None] | None = None,
) -> list[EarlyWarning]:
    """Rule 4: a grid whose open count, or overdue count, now is above mean + ``surge_sd`` ×
    standard deviation of its daily levels (:func:`baseline_times`) and at least ``surge_min``
    above the mean. One warning per grid and measure, with the incidents open (or overdue) now."""
    by_grid: dict[str, list[OpenIncident]] = defaultdict(list)
    for inc in open_now:
        if inc.grid_code:
            by_grid[inc.grid_code].append(inc)
    grids = sorted(by_grid)
    if not grids:
        return []
    opened, late = levels(spans, baseline_times(now, s), grids)
    out = []
    for k, grid in enumerate(grids):
        for measure, history in (("open", opened[k]), ("overdue", late[k])):
            rows = sorted(
                (i for i in by_grid[grid] if measure == "open" or i.overdue), key=lambda i: i.id
            )
            n = len(rows)
            mean, sd = float(history.mean()), float(history.std())
            limit = mean + s.surge_sd * sd
            if not (n > limit and n >= mean + s.surge_min):
                continue
            lon, lat = _centre(rows)
            what_zh = "在办事件" if measure == "open" else "超期事件"
            what_en = "open incidents" if measure == "open" else "overdue incidents"
            weeks = s.surge_weeks
            out.append(
                EarlyWarning(
                    key=f"surge:{grid}:{measure}",
                    rule="surge",
                    subject=f"{grid}:{measure}",
                    severity=HIGH if measure == "overdue" else MEDIUM,
                    grid_code=grid,
                    community=(grid_communities or {}).get(grid) or rows[0].grid1_code,
                    category=None,
                    since=now,
                    incidents=tuple(i.id for i in rows),
                    incident_grids=tuple(i.grid_code for i in rows),
                    lon=lon,
                    lat=lat,
                    explanation={
                        "zh": f"网格 {grid} 现有{what_zh} {n} 起，明显高于近 {weeks} 周的平常水平（日均 {mean:.1f} 起，标准差 {sd:.1f}）",
                        "en": f"Grid {grid} has {n} {what_en} now, well above its usual level over the previous {weeks} weeks (daily mean {mean:.1f}, sd {sd:.1f})",
                    },
                    detail={"measure": measure, "count": n, "mean": round(mean, 2), "sd": round(sd, 2),
                            "limit": round(max(limit, mean + s.surge_min), 2), "weeks": weeks},
                )
            )  # fmt: skip
    return out


def evaluate(inputs: Inputs, s: WarningSettings, rules=RULES) -> list[EarlyWarning]:
    """Every rule of ``rules`` over ``inputs``: the warnings raised now, rule by rule."""
    now = inputs.now
    out: list[EarlyWarning] = []
    for rule in rules:
        if rule == "repeat":
            out += repeats(inputs.reports, now, s)
        elif rule == "recur":
            out += recurrences(inputs.revisits, inputs.reports, now, s)
        elif rule == "cluster":
            out += clusters(inputs.reports, now, s)
        elif rule == "surge":
            out += surges(inputs.open_now, inputs.spans, now, s, inputs.grid_communities)
        else:
            raise ValueError(f"unknown warning rule {rule!r}")
    return out


def acknowledged(warnings: list[EarlyWarning], acks: list[dict]) -> list[EarlyWarning]:
    """``warnings`` with the newest acknowledgement covering each (:meth:`EarlyWarning.covered_by`)
    filled in; ``acks`` newest first (``at``, ``actor``, ``note``, ``rule``, ``subject``,
    ``incidents``)."""
    by_rule: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for a in acks:
        by_rule[(a.get("rule"), a.get("subject", ""))].append(a)
    out = []
    for w in warnings:
        ack = next((a for a in by_rule.get((w.rule, w.subject), ()) if w.covered_by(a)), None)
        if ack is not None:
            w = replace(
                w, acknowledged={"by": ack["actor"], "at": ack["at"], "note": ack.get("note", ""), "key": ack.get("key")}
            )  # fmt: skip
        out.append(w)
    return out
