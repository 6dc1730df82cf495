"""A sample history of incidents: ten years of reports in a district, each taken through the
four-step method as the real workflow would have taken it, so the lists, filters and figures
can be tried at the volume the sub-district handles (about 120,000 problems in ten years).

:func:`generate` is a pure function of the district, the category catalogue, the seed and the
end of the history: it yields one ``(incident, events)`` pair per incident, oldest first, as
the columns of ``incidents`` (without ``id`` and ``geom``) and of ``incident_events`` (without
``incident_id``). :meth:`geogrid.db.Store.insert_incidents` writes them in bulk.

What makes it realistic:

* **when**: a day drawn over the ten years with a gentle growth (the method spreading), working
  days busier than weekends and holidays (China's calendar, :mod:`geogrid.workdays`), and each
  category's season: greening and flooding in summer, burning leaves in autumn, wage disputes
  before the Spring Festival; an hour of the day, patrols in daylight;
* **what**: a category weighted by its major class (大类; street order and city appearance the
  most, petitions and emergencies the fewest) and by how often its minor class occurs;
* **where**: a grid weighted by its units and area and by how its kind suits the category
  (housing problems in residential grids, street vending in commercial ones), then a random
  point inside that grid, a third of them next to one of its units;
* **who**: the channel (informant patrols with the informant's kind and name, the 12345
  hotline, the app, video patrols, referrals, API and Open311), the reporter and contact, the
  dispatcher, the grid worker on duty and, for joint handling, the category's office;
* **how it went**: dispatched, accepted, resolved or escalated (会办) and resolved by the office,
  deadlines in working days from dispatch or escalation (:func:`geogrid.workdays.deadline`),
  a few late, a long tail stuck; the return visit with the reporter's satisfaction (about 95 %
  满意), closed; a small share failing the visit or coming back after closing (recurrences),
  a few cancelled; the history is cut at its end, so the most recent incidents are still open
  and some of them overdue.

Reports in the apps' coordinate system (GCJ-02) keep the coordinates as given, as intake does.
The people named are the district's own (its workers on duty now) and fictional reporters.

>>> from datetime import datetime, UTC
>>> from geogrid.model import District, default_data_dir
>>> from geogrid.incidents import default_catalogue
>>> d = District.load(default_data_dir())
>>> end = datetime(2026, 12, 1, tzinfo=UTC)
>>> rows = list(generate(d, default_catalogue(), count=200, seed=1, end=end, version_id=1))
>>> len(rows), rows == list(generate(d, default_catalogue(), count=200, seed=1, end=end, version_id=1))
(200, True)
>>> inc, events = rows[-1]
>>> events[0]["action"], events[-1]["to_state"] == inc["state"]
('report', True)
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import shapely

from .. import crs
from .. import incidents as wf
from ..incidents import Catalogue, Category
from ..model import COORD_DECIMALS, District
from ..workdays import BEIJING, deadline, is_workday
from .names import _GIVEN, _ROADS, _SURNAMES

#: About as many problems as the sub-district handled in ten years.
DEFAULT_COUNT = 120_000
DEFAULT_YEARS = 10
DEFAULT_SEED = 20161207

# ---------------------------------------------------------------------- what
#: Share of each major class (大类); a class not listed here (added by an administrator) gets
#: :data:`_OTHER_MAJOR`.
MAJOR_WEIGHTS = {
    "市容环境": 24.0,
    "街面秩序": 20.0,
    "宣传广告": 9.0,
    "公用设施": 8.0,
    "施工管理": 7.0,
    "园林绿化": 6.0,
    "房屋管理": 7.0,
    "道路交通": 5.0,
    "矛盾纠纷": 6.0,
    "突发事件": 3.0,
    "信访": 3.0,
    "其他": 2.0,
}
_OTHER_MAJOR = 1.0
#: How often a minor class occurs within its major class (default 1).
MINOR_WEIGHTS = {
    "0101": 3.0, "0103": 2.0, "0104": 0.5, "0107": 0.7,
    "0201": 3.0,
    "0304": 0.6,
    "0403": 2.0, "0404": 2.5, "0405": 2.0, "0406": 0.8,
    "0501": 0.4, "0502": 1.2, "0503": 0.3, "0504": 2.0, "0505": 1.2,
    "0602": 2.0,
    "0701": 1.5,
    "0902": 1.5, "0903": 1.3,
    "1001": 2.0, "1002": 1.5, "1004": 0.6,
    "1103": 3.0,
}  # fmt: skip

# ---------------------------------------------------------------------- when
#: Monthly factors (January to December) of a season.
SEASONS = {
    "summer": (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8, 1.8, 1.4, 1.0, 0.7, 0.6),
    "greening": (0.5, 0.5, 0.9, 1.2, 1.4, 1.6, 1.7, 1.6, 1.3, 1.0, 0.7, 0.5),
    "flooding": (0.2, 0.2, 0.4, 0.6, 0.9, 2.8, 3.2, 2.2, 1.0, 0.4, 0.2, 0.2),  # 梅雨, typhoons
    "autumn": (1.4, 1.0, 0.8, 0.6, 0.5, 0.5, 0.5, 0.5, 0.7, 1.3, 1.8, 1.7),
    "winter": (1.5, 1.4, 1.1, 0.9, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0, 1.2, 1.5),
    "new_year": (2.2, 1.6, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.0, 1.8),  # wages owed
    "dust": (0.9, 0.7, 1.3, 1.5, 1.3, 0.9, 0.7, 0.7, 1.0, 1.3, 1.2, 0.9),
}
#: The season of a major class or of one category (a code); the rest have none.
SEASON_OF = {
    "园林绿化": "greening",
    "街面秩序": "summer",
    "0105": "greening",
    "0504": "flooding",
    "0502": "winter",  # pipes burst in frosts
    "0107": "autumn",
    "0505": "winter",
    "0903": "winter",
    "1003": "new_year",
    "0302": "dust",
    "0301": "dust",
}
#: A weekend or public holiday gets this share of a working day's reports.
OFF_DAY = 0.55
#: Reports per day grow linearly from this to 1 over the history.
GROWTH_FROM = 0.6
#: Beijing hour of day (0-23) weights of a report.
HOURS = (0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.5, 3.0, 4.0, 4.2, 3.6,
         2.2, 2.6, 3.6, 3.8, 3.4, 2.6, 1.8, 1.6, 1.4, 1.0, 0.6, 0.3)  # fmt: skip

# ---------------------------------------------------------------------- where
#: Grid kinds (the sample's density zones) each major class prefers (default 1).
KIND_AFFINITY = {
    "房屋管理": {"住宅": 3.0, "混合": 1.5, "商业": 0.6, "校园": 0.5, "产业": 0.3, "生态": 0.1},
    "矛盾纠纷": {"住宅": 3.0, "混合": 1.5, "商业": 1.0, "校园": 0.6, "产业": 0.8, "生态": 0.1},
    "街面秩序": {"商业": 3.0, "混合": 2.0, "住宅": 1.2, "校园": 1.0, "产业": 0.6, "生态": 0.2},
    "宣传广告": {"商业": 2.5, "混合": 1.5, "住宅": 1.0, "校园": 0.8, "产业": 0.6, "生态": 0.2},
    "施工管理": {"产业": 2.0, "混合": 1.5, "生态": 1.5, "住宅": 0.8, "商业": 0.8, "校园": 0.6},
    "园林绿化": {"生态": 3.0, "校园": 2.0, "住宅": 1.0, "混合": 1.0, "商业": 0.5, "产业": 0.8},
    "市容环境": {"商业": 1.5, "住宅": 1.3, "混合": 1.2, "生态": 0.8, "校园": 0.8, "产业": 0.8},
}
#: Share of incidents reported next to one of their grid's units (the unit recorded).
AT_UNIT = 0.35
#: How far from the unit, metres (standard deviation of each coordinate).
UNIT_SPREAD_M = 25.0

# ---------------------------------------------------------------------- who
#: Channels and their weights at the start and at the end of the history.
CHANNELS = {
    "patrol": (48.0, 40.0),
    "phone": (32.0, 28.0),
    "app": (2.0, 14.0),
    "video": (6.0, 8.0),
    "referral": (10.0, 6.0),
    "api": (0.0, 2.0),
    "open311": (0.0, 2.0),
}
#: Channels of some major classes (petitions come by the hotline or are referred).
CHANNELS_OF = {
    "信访": {"phone": 5.0, "referral": 5.0},
    "矛盾纠纷": {"patrol": 5.0, "phone": 4.0, "referral": 1.0},
}
#: Informant kinds reporting each major class (default: the grid worker).
INFORMANTS_OF = {
    "市容环境": {"sanitation": 4, "city_assistant": 3, "grid_worker": 3, "volunteer": 1},
    "宣传广告": {"city_assistant": 5, "grid_worker": 3, "volunteer": 1},
    "街面秩序": {"city_assistant": 5, "grid_worker": 3, "security": 1},
    "施工管理": {"safety": 3, "city_assistant": 3, "grid_worker": 3},
    "突发事件": {"safety": 3, "security": 2, "grid_worker": 3},
    "公用设施": {"grid_worker": 4, "property": 2, "security": 1},
    "道路交通": {"grid_worker": 4, "security": 2},
    "园林绿化": {"greening": 6, "grid_worker": 2},
    "房屋管理": {"building": 4, "property": 3, "grid_worker": 3, "safety": 1},
    "矛盾纠纷": {"mediator": 4, "building": 2, "grid_worker": 3},
}
REFERRERS = ["栖霞区城市管理局", "栖霞区12345热线办", "栖霞区住房和城乡建设局",
             "仙林派出所", "栖霞区市场监督管理局", "栖霞区生态环境局"]  # fmt: skip
DISPATCHERS = ["diaodu", "diaodu02", "diaodu03", "diaodu04", "diaodu05"]
#: Who the event log names for reports through the machine channels.
CHANNEL_ACTORS = {"api": "api:12345", "open311": "open311:我的南京"}

# ---------------------------------------------------------------------- how it went
#: Share of incidents escalated to joint handling (会办), by major class (default 5 %).
ESCALATE = {"施工管理": 0.25, "信访": 0.5, "矛盾纠纷": 0.3, "房屋管理": 0.2, "道路交通": 0.3,
            "公用设施": 0.15, "突发事件": 0.3, "0304": 0.6, "0901": 0.4, "0701": 0.5}  # fmt: skip
CANCELLED_SHARE = 0.015
LATE_SHARE = 0.05  # resolved a little after the deadline
STUCK_SHARE = 0.02  # resolved weeks after it
VISIT_FAILS = 0.015  # the problem is back at the return visit
COMES_BACK = 0.008  # reopened after closing
#: The reporter's satisfaction at the return visit.
SATISFACTION_SHARES = {"satisfied": 0.955, "fair": 0.035, "dissatisfied": 0.01}

_TEMPLATES = ["{place}{minor}，请处理", "群众反映：{place}{minor}", "{place}附近{minor}，影响居民生活",
              "{place}发现{minor}", "{place}{minor}，多次出现"]  # fmt: skip
_PATROL_TEMPLATES = ["巡查发现{place}{minor}", "{place}{minor}，已拍照上报"]
#: Descriptions of the major classes that are not a thing seen in the street.
_TEMPLATES_OF = {
    "矛盾纠纷": ["{place}{minor}，请协调调解", "{place}居民反映{minor}，情绪激动"],
    "信访": ["来访人反映{place}相关问题（{minor}）", "{minor}：{place}有关诉求，请核实答复"],
}
_RESOLVED = {
    "市容环境": ["已清理完毕", "已安排保洁清运", "已现场清理并告知责任单位"],
    "宣传广告": ["已清除", "已拆除并教育当事人"],
    "街面秩序": ["已劝离", "已规范整改", "已教育并督促整改"],
    "施工管理": ["已责令整改", "已督促施工单位落实措施", "已立案处理"],
    "突发事件": ["已处置，隐患消除", "已联系专业单位抢修完毕"],
    "公用设施": ["已维修", "已更换", "已联系产权单位修复"],
    "道路交通": ["已修复", "已联系养护单位处理完毕"],
    "园林绿化": ["已补植", "已修剪清理", "已恢复绿地"],
    "房屋管理": ["已清理楼道", "已劝导整改", "已会同物业处理"],
    "矛盾纠纷": ["已调解，双方达成一致", "已调解并签订协议"],
    "信访": ["已答复来访人", "已办结并书面答复"],
}
_CANCEL = ["重复上报", "经核实不属实", "不属于受理范围", "上报人撤回"]


def generate(
    district: District,
    catalogue: Catalogue,
    *,
    count: int = DEFAULT_COUNT,
    seed: int = DEFAULT_SEED,
    end: datetime,
    years: int = DEFAULT_YEARS,
    version_id: int,
    revisit_workdays: int = 3,
) -> Iterator[tuple[dict, list[dict]]]:
    """``count`` incidents reported over the ``years`` before ``end`` (an aware time) in
    ``district`` (stored as boundary version ``version_id``), oldest first, each with its
    event log; the same arguments give the same history. ``revisit_workdays``: when the return
    visit falls due after a resolve (the policy's setting)."""
    if count < 0:
        raise ValueError("count must be at least 0")
    if end.tzinfo is None:
        raise ValueError("end must be an aware datetime")
    cats = [c for c in catalogue]
    if not cats:
        raise ValueError("the catalogue has no categories")
    rng = np.random.default_rng(seed)
    end = end.astimezone(UTC)
    start_day = _local_day(end) - timedelta(days=round(365.25 * years))
    days = [start_day + timedelta(days=i) for i in range(1, (_local_day(end) - start_day).days + 1)]
    day_idx, cat_idx = _when_and_what(rng, days, cats, count)
    grids = _Grids(district)
    grid_idx = grids.choose(rng, cat_idx, cats)
    lon, lat, unit_idx = grids.places(rng, grid_idx)
    minutes = _minutes(rng, count)
    order = np.lexsort((minutes, day_idx))
    given = crs.wgs84_to_gcj02(lon, lat)
    r = random.Random(seed)
    sim = _Simulation(r, end, revisit_workdays)
    for i in order:
        day = days[int(day_idx[i])]
        midnight = datetime.combine(day, time(0), BEIJING)
        at = midnight + timedelta(minutes=int(minutes[i]))
        if at > end:  # later today than now: earlier today instead
            at = midnight + (end - midnight) * (int(minutes[i]) / 1440)
        cat = cats[int(cat_idx[i])]
        g = int(grid_idx[i])
        u = int(unit_idx[i])
        row = grids.row(r, g, u, cat, at.astimezone(UTC), (days[0], days[-1]))
        row.update(district_code=district.code, version_id=version_id)
        row["lon"], row["lat"] = float(lon[i]), float(lat[i])
        if row["channel"] in ("app", "open311"):  # phones send GCJ-02
            row["input"] = {
                "x": round(float(given[0][i]), COORD_DECIMALS),
                "y": round(float(given[1][i]), COORD_DECIMALS),
                "crs": "gcj02",
            }
        yield sim.run(row, cat)


# ---------------------------------------------------------------------- when and what
def _local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def _season(cat: Category) -> tuple[float, ...]:
    name = SEASON_OF.get(cat.code) or SEASON_OF.get(cat.major)
    return SEASONS[name] if name else (1.0,) * 12


def _when_and_what(rng, days: list[date], cats: list[Category], count: int):
    """A day (index into ``days``) and a category (index into ``cats``) per incident, drawn
    together: P(day, category) ∝ the day's weight × the category's × its season's month."""
    majors: dict[str, int] = {}
    for c in cats:
        majors[c.major] = majors.get(c.major, 0) + 1
    minor = np.array([MINOR_WEIGHTS.get(c.code, 1.0) for c in cats])
    share = np.array([MAJOR_WEIGHTS.get(c.major, _OTHER_MAJOR) for c in cats])
    per_major: dict[str, float] = {}
    for c, w in zip(cats, minor, strict=True):
        per_major[c.major] = per_major.get(c.major, 0.0) + w
    weight = share * minor / np.array([per_major[c.major] for c in cats])
    season = np.array([_season(c) for c in cats])  # categories × 12
    by_month = weight[:, None] * season  # categories × 12
    month = np.array([d.month - 1 for d in days])
    workday = np.array([1.0 if is_workday(d) else OFF_DAY for d in days])
    growth = np.linspace(GROWTH_FROM, 1.0, len(days))
    day_w = workday * growth * by_month.sum(axis=0)[month]
    day_idx = rng.choice(len(days), size=count, p=day_w / day_w.sum())
    cat_idx = np.empty(count, dtype=np.int64)
    inc_month = month[day_idx]
    for m in range(12):
        sel = np.flatnonzero(inc_month == m)
        p = by_month[:, m] / by_month[:, m].sum()
        cat_idx[sel] = rng.choice(len(cats), size=len(sel), p=p)
    return day_idx, cat_idx


def _minutes(rng, count: int) -> np.ndarray:
    """Minutes after (Beijing) midnight of each report."""
    hours = np.array(HOURS)
    hour = rng.choice(24, size=count, p=hours / hours.sum())
    return hour * 60 + rng.integers(0, 60, size=count)


# ---------------------------------------------------------------------- where and who
class _Grids:
    """The district's second-level grids: their weights, points inside them, their units, the
    roads their units lie on, their informants."""

    def __init__(self, district: District):
        g2 = district.grids2.sort_values("code").reset_index(drop=True)
        self.codes = list(g2["code"])
        self.parents = list(g2["parent"])
        self.workers = [w if isinstance(w, str) and w else None for w in g2["worker"]]
        self.kinds = [k if isinstance(k, str) else "" for k in g2["kind"]]
        self.polys = list(g2.geometry)
        area = np.asarray(crs.area_m2(np.array(self.polys, dtype=object)), dtype=float)
        units = district.units.sort_values("code")
        self.units: list[list] = [[] for _ in self.codes]
        pos = {c: i for i, c in enumerate(self.codes)}
        for code, name, address, grid, geom in zip(
            units["code"], units["name"], units["address"], units["grid"], units.geometry,
            strict=True,
        ):  # fmt: skip
            if grid in pos:
                self.units[pos[grid]].append((code, name, address, geom.x, geom.y))
        self.base = np.array([len(u) + 3.0 for u in self.units]) * np.sqrt(area / area.mean())
        self.roads = []
        for us in self.units:
            found = sorted({m.group(1) for *_, a, _x, _y in us if (m := _ROAD.search(a or ""))})
            self.roads.append(found or _ROADS)
        self._informants: dict[tuple[int, str], str] = {}

    def choose(self, rng, cat_idx: np.ndarray, cats: list[Category]) -> np.ndarray:
        """A grid per incident: its weight × how its kind suits the category's major class."""
        out = np.empty(len(cat_idx), dtype=np.int64)
        for major in sorted({c.major for c in cats}):
            members = [i for i, c in enumerate(cats) if c.major == major]
            sel = np.flatnonzero(np.isin(cat_idx, members))
            aff = KIND_AFFINITY.get(major, {})
            w = self.base * np.array([aff.get(k, 1.0) for k in self.kinds])
            out[sel] = rng.choice(len(self.codes), size=len(sel), p=w / w.sum())
        return out

    def places(self, rng, grid_idx: np.ndarray):
        """(lon, lat, unit index or -1) per incident: strictly inside its grid (rounded to
        :data:`COORD_DECIMALS` first), next to a unit of the grid for :data:`AT_UNIT` of them."""
        n = len(grid_idx)
        lon, lat = np.empty(n), np.empty(n)
        unit = np.full(n, -1, dtype=np.int64)
        for g in range(len(self.codes)):
            sel = np.flatnonzero(grid_idx == g)
            if not len(sel):
                continue
            poly = self.polys[g]
            x, y = _inside(rng, poly, len(sel))
            us = self.units[g]
            if us:
                near = np.flatnonzero(rng.random(len(sel)) < AT_UNIT)
                which = rng.integers(0, len(us), size=len(near))
                ux = np.array([us[k][3] for k in which])
                uy = np.array([us[k][4] for k in which])
                mx, my = crs.to_metric(ux, uy)
                d = rng.normal(0.0, UNIT_SPREAD_M, size=(2, len(near)))
                nx, ny = crs.from_metric(mx + d[0], my + d[1])
                nx, ny = np.round(nx, COORD_DECIMALS), np.round(ny, COORD_DECIMALS)
                ok = shapely.contains_xy(poly, nx, ny)
                x[near[ok]], y[near[ok]] = nx[ok], ny[ok]
                unit[sel[near[ok]]] = which[ok]
            lon[sel], lat[sel] = x, y
        return lon, lat, unit

    def informant(self, g: int, kind: str, r: random.Random) -> str:
        """The informant of ``kind`` in grid ``g`` (the grid worker for ``grid_worker``): the
        same person every time."""
        if kind == "grid_worker" and self.workers[g]:
            return self.workers[g]
        key = (g, kind)
        if key not in self._informants:
            self._informants[key] = _person(r)
        return self._informants[key]

    def row(self, r: random.Random, g: int, u: int, cat: Category, at: datetime, span) -> dict:
        """The incident's columns at intake (its place, reporter, description)."""
        t = (at.date() - span[0]).days / max((span[1] - span[0]).days, 1)
        channel = _channels(cat.code, cat.major, round(t * 20))(r)
        if u >= 0:
            ucode, uname, address, *_ = self.units[g][u]
            place = uname
        else:
            ucode = None
            address = f"南京市栖霞区{r.choice(self.roads[g])}{r.randint(1, 399)}号"
            place = address.removeprefix("南京市栖霞区")
        row = {
            "grid_code": self.codes[g],
            "grid1_code": self.parents[g],
            "category": cat.code,
            "channel": channel,
            "address": address,
            "unit_code": ucode,
            "worker": self.workers[g],
            "created_at": at,
            "created_by": CHANNEL_ACTORS.get(channel) or r.choice(DISPATCHERS),
            "input": None,
            "reporter": None,
            "reporter_contact": None,
            "informant_kind": None,
            "informant_name": None,
            "media_url": None,
            "recurrences": 0,
            "merged_into": None,
        }
        templates = _TEMPLATES_OF.get(cat.major, _TEMPLATES)
        if channel == "patrol" and cat.major not in _TEMPLATES_OF:
            templates = _PATROL_TEMPLATES
        if channel == "patrol":
            kind = _informants(cat.major)(r)
            row["informant_kind"] = kind
            row["informant_name"] = self.informant(g, kind, r)
        elif channel == "referral":
            row["reporter"] = r.choice(REFERRERS)
        elif channel in ("phone", "app", "api", "open311") and r.random() < 0.75:
            row["reporter"] = _person(r)
            row["reporter_contact"] = _mobile(r)
        row["description"] = r.choice(templates).format(place=place, minor=cat.minor)
        return row


class _Pick:
    """A key of ``weights`` drawn in proportion to its weight (``random.choices``, with the
    cumulative weights made once)."""

    def __init__(self, weights: dict):
        self.keys = list(weights)
        self.cum = list(itertools.accumulate(weights.values()))

    def __call__(self, r: random.Random):
        return self.keys[bisect.bisect(self.cum, r.random() * self.cum[-1], 0, len(self.cum) - 1)]


@functools.cache
def _channels(code: str, major: str, step: int) -> _Pick:
    """The channels of a category at ``step`` twentieths of the history."""
    if code == "1103":  # 12345 热线转办
        return _Pick({"phone": 1.0})
    if major in CHANNELS_OF:
        return _Pick(CHANNELS_OF[major])
    t = step / 20
    return _Pick({k: a + (b - a) * t for k, (a, b) in CHANNELS.items()})


@functools.cache
def _informants(major: str) -> _Pick:
    return _Pick(INFORMANTS_OF.get(major, {"grid_worker": 1}))


_ROAD = re.compile(r"栖霞区(.+?(?:路|街|大道))\d")


def _inside(rng, poly, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points strictly inside ``poly`` (lon/lat, rounded)."""
    minx, miny, maxx, maxy = poly.bounds
    xs, ys, have = [], [], 0
    while have < n:
        k = max(2 * (n - have), 16)
        x = np.round(rng.uniform(minx, maxx, k), COORD_DECIMALS)
        y = np.round(rng.uniform(miny, maxy, k), COORD_DECIMALS)
        ok = shapely.contains_xy(poly, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        have += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _person(r: random.Random) -> str:
    return r.choice(_SURNAMES) + "".join(r.choice(_GIVEN) for _ in range(r.randint(1, 2)))


def _mobile(r: random.Random) -> str:
    return f"1{r.choice('3578')}{r.randint(0, 9)}{r.randint(0, 99_999_999):08d}"


# ---------------------------------------------------------------------- how it went
@functools.lru_cache(maxsize=65536)
def _deadline_of_day(day: date, workdays: int) -> datetime:
    return deadline(datetime.combine(day, time(12), BEIJING), workdays).astimezone(UTC)


def _deadline(at: datetime, workdays: int) -> datetime:
    """:func:`geogrid.workdays.deadline` (it depends on the Beijing day only), in UTC."""
    return _deadline_of_day(_local_day(at), workdays)


class _Stop(Exception):
    """The next step would fall after the end of the history."""


class _Simulation:
    """Takes an incident through the workflow from its report, the way the use cases would
    have recorded each step, until the end of the history."""

    def __init__(self, r: random.Random, end: datetime, revisit_workdays: int):
        self.r = r
        self.end = end
        self.revisit_workdays = revisit_workdays
        self._satisfaction = _Pick(SATISFACTION_SHARES)

    def run(self, row: dict, cat: Category) -> tuple[dict, list[dict]]:
        r = self.r
        row.update(
            state=wf.REPORTED, updated_at=row["created_at"], dispatched_at=None, due_at=None,
            escalated_at=None, office=None, office_due_at=None, resolved_at=None,
            revisit_due_at=None, revisited_at=None, satisfaction=None, closed_at=None,
        )  # fmt: skip
        self.row, self.events, self.cat = row, [], cat
        self.now = row["created_at"]
        self.dispatcher = row["created_by"] if row["created_by"] in DISPATCHERS else None
        self.worker_actor = f"wg{row['grid_code'][-6:]}" if row["grid_code"] else "wg"
        self._log(row["created_by"], "report", wf.REPORTED, row["description"], {})
        try:
            fate = r.random()
            if fate < CANCELLED_SHARE * 0.7:  # refused at intake
                self._step(self._later(0.2, 6), self._disp(), "cancel", wf.CANCELLED,
                           r.choice(_CANCEL))  # fmt: skip
                return row, self.events
            self._dispatch(
                self._later(0.05, 3) if row["channel"] != "patrol" else self._later(0.02, 0.5)
            )
            if fate < CANCELLED_SHARE:
                self._step(self._later(0.5, 30), self._disp(), "cancel", wf.CANCELLED,
                           r.choice(_CANCEL))  # fmt: skip
                return row, self.events
            for attempt in range(4):  # the first handling, then each recurrence
                self._handle()
                if self._visit(last=attempt == 3):
                    break
        except _Stop:
            pass
        return row, self.events

    # ------------------------------------------------------------ steps
    def _handle(self) -> None:
        """Accepted (mostly), resolved on the spot or escalated and resolved by the office."""
        r, row, cat = self.r, self.row, self.cat
        if r.random() < 0.95:
            self._step(self._later(0.05, 2), self.worker_actor, "accept", wf.HANDLING)
        share = ESCALATE.get(cat.code, ESCALATE.get(cat.major, 0.05))
        if r.random() < share:
            at = self._later(0.5, 20)
            office = cat.office
            office_due = _deadline(at, cat.workdays)
            self._step(
                at, self.worker_actor if r.random() < 0.6 else self._disp(), "escalate",
                wf.ESCALATED, f"超出网格处置能力，提请街道会办（{office}）",
                {"office": office, "workdays": cat.workdays},
                escalated_at=at, office=office, office_due_at=office_due,
            )  # fmt: skip
            who, since, due = office, at, office_due
        else:
            who, since, due = self.worker_actor, self.now, row["due_at"]
        at = self._finish(since, due)
        note = r.choice(_RESOLVED.get(cat.major, ["已处置完毕"]))
        self._step(
            at, who, "resolve", wf.RESOLVED, note, resolved_at=at,
            revisit_due_at=_deadline(at, self.revisit_workdays),
        )  # fmt: skip

    def _visit(self, last: bool) -> bool:
        """The return visit, then closed; ``False`` when the problem came back (dispatched
        again, a recurrence) and is to be handled once more (not after the ``last`` time)."""
        r, row = self.r, self.row
        due = row["revisit_due_at"]
        if r.random() < 0.93:  # before the visit's deadline
            at = self.now + (due - self.now) * r.uniform(0.35, 0.98)
        else:
            at = due + timedelta(hours=r.uniform(1, 72))
        at = max(at, self.now + timedelta(minutes=30))
        who = self.worker_actor if r.random() < 0.6 else self._disp()
        if not last and r.random() < VISIT_FAILS:
            n = row["recurrences"] + 1
            self._step(
                at, who, "revisit", wf.DISPATCHED, "回访发现问题反弹，重新派遣",
                {"passed": False, "recurrence": n}, **self._reopened(at, n),
            )  # fmt: skip
            return False
        sat = self._satisfaction(r)
        note = "回访上报人，问题已解决" if row["reporter"] else "现场复核，问题未反弹"
        self._step(at, who, "revisit", wf.REVISITED, note, {"passed": True, "satisfaction": sat},
                   revisited_at=at, satisfaction=sat)  # fmt: skip
        at = self._later(0.1, 24)
        self._step(at, self._disp(), "close", wf.CLOSED, "", closed_at=at)
        if not last and r.random() < COMES_BACK:
            at = self.now + timedelta(days=r.uniform(3, 60))
            n = row["recurrences"] + 1
            self._step(at, self._disp(), "reopen", wf.DISPATCHED, "问题再次出现，重新派遣",
                       {"recurrence": n}, **self._reopened(at, n))  # fmt: skip
            return False
        return True

    def _dispatch(self, at: datetime) -> None:
        self._step(
            at, self._disp(), "dispatch", wf.DISPATCHED, "", {"worker": self.row["worker"]},
            dispatched_at=at, due_at=_deadline(at, self.cat.workdays),
        )  # fmt: skip

    def _reopened(self, at: datetime, n: int) -> dict:
        """What reopening sets (as :func:`geogrid.usecases.incidents.act` does)."""
        return {
            "dispatched_at": at, "due_at": _deadline(at, self.cat.workdays), "recurrences": n,
            "resolved_at": None, "revisit_due_at": None, "revisited_at": None,
            "satisfaction": None, "closed_at": None, "office_due_at": None,
        }  # fmt: skip

    def _finish(self, since: datetime, due: datetime) -> datetime:
        """When handling that began at ``since`` ends: within the deadline ``due`` mostly."""
        r = self.r
        x = r.random()
        if x < STUCK_SHARE:
            at = due + timedelta(days=r.expovariate(1 / 30))
        elif x < STUCK_SHARE + LATE_SHARE:
            at = due + timedelta(hours=r.expovariate(1 / 30))
        else:
            window = (due - since).total_seconds()
            at = since + timedelta(seconds=window * r.betavariate(1.6, 3.0))
            local = at.astimezone(BEIJING)
            if local.hour < 7 or local.hour >= 21:  # overnight: first thing in the morning
                morning = datetime.combine(local.date(), time(8), BEIJING)
                if local.hour >= 21:
                    morning += timedelta(days=1)
                at = min(morning + timedelta(minutes=r.uniform(0, 120)), due - timedelta(minutes=1))
                at = at.astimezone(UTC)
        return max(at, self.now + timedelta(minutes=5))

    # ------------------------------------------------------------ recording
    def _later(self, low_h: float, high_h: float) -> datetime:
        return self.now + timedelta(hours=self.r.uniform(low_h, high_h))

    def _disp(self) -> str:
        return self.dispatcher or self.r.choice(DISPATCHERS)

    def _step(self, at, actor, action, to_state, note="", detail=None, **values) -> None:
        if at > self.end:
            raise _Stop
        self.now = at
        self.row.update(values, state=to_state, updated_at=at)
        self._log(actor, action, to_state, note, detail or {})

    def _log(self, actor, action, to_state, note, detail) -> None:
        from_state = self.events[-1]["to_state"] if self.events else None
        self.events.append(
            {"at": self.now, "actor": actor, "action": action, "from_state": from_state,
             "to_state": to_state, "note": note, "detail": detail}
        )  # fmt: skip


__all__ = ["DEFAULT_COUNT", "DEFAULT_SEED", "DEFAULT_YEARS", "generate"]
