"""Workload per second-level grid and the balance of a whole draft, as plain dicts.

Each grid's row holds its area (km², measured in EPSG:4549), its units, households and residents
(summed over the units it owns), its incidents of the last 12 months and its open incidents
(counts the caller supplies: this module does not query the database; :func:`count_points`
counts incident locations by the draft's own grids), and a **workload score**: the weighted mean
of those figures, each divided by its mean over the district, so an average grid scores 1.0. The
**balance** of the draft is the coefficient of variation of the scores (their standard deviation
over their mean): 0 when every grid carries the same load; the lower, the better balanced.

>>> from geogrid.model import District, default_data_dir
>>> table = workload(District.load(default_data_dir()))
>>> row = table["grids"][0]
>>> row["code"], row["units"], round(row["area_km2"], 3)
('320113005001001', 8, 0.898)
>>> round(sum(r["score"] for r in table["grids"]) / len(table["grids"]), 6)
1.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from ..model import District, plain
from . import geometry as geo

#: The columns of the table, in order, with their meaning.
COLUMNS = {
    "code": "grid code",
    "name": "grid name",
    "community": "community code",
    "community_name": "community name",
    "worker": "grid worker",
    "area_km2": "area, km²",
    "units": "units",
    "households": "households",
    "residents": "residents",
    "incidents_12m": "incidents in the last 12 months",
    "open_incidents": "open incidents",
    "score": "workload score (1.0 = the district's average grid)",
}


@dataclasses.dataclass(frozen=True)
class Weights:
    """How much each figure counts in the workload score (only their ratios matter)."""

    area: float = 0.15
    units: float = 0.25
    residents: float = 0.35
    incidents: float = 0.25


_FACTORS = {
    "area": "area_km2",
    "units": "units",
    "residents": "residents",
    "incidents": "incidents_12m",
}


def workload(
    district: District,
    *,
    incidents_12m: Mapping[str, int] | None = None,
    open_incidents: Mapping[str, int] | None = None,
    weights: Weights = Weights(),
) -> dict:
    """``{"grids": [row, ...], "balance": {...}}`` for every second-level grid, rows in code
    order (see :data:`COLUMNS`); counts missing from the mappings are 0, codes not in the
    district are ignored. A figure whose district mean is 0 (no incidents given, say) drops out
    of the score."""
    incidents_12m = incidents_12m or {}
    open_incidents = open_incidents or {}
    g2 = district.grids2
    codes = [str(c) for c in g2["code"]]
    areas = geo.areas_m2(g2.geometry.to_numpy()) / 1e6
    units = district.units
    per = pd.DataFrame(
        {
            "grid": units["grid"].astype(object),
            "n": 1,
            "households": pd.array(units["households"], dtype="Int64"),
            "residents": pd.array(units["residents"], dtype="Int64"),
        }
    )
    sums = per.groupby("grid", dropna=True)[["n", "households", "residents"]].sum()
    names = dict(zip(district.grids1["code"], district.grids1["name"], strict=True))
    totals = {
        str(g): (int(n), int(h), int(r))
        for g, n, h, r in zip(
            sums.index, sums["n"], sums["households"], sums["residents"], strict=True
        )
    }
    rows = []
    cols = [c for c in ("name", "parent", "worker") if c in g2.columns]
    for i, rec in enumerate(g2[cols].to_dict("records")):
        code = codes[i]
        n, h, r = totals.get(code, (0, 0, 0))
        rows.append(
            {
                "code": code,
                "name": plain(rec.get("name")),
                "community": plain(rec.get("parent")),
                "community_name": plain(names.get(rec.get("parent"))),
                "worker": plain(rec.get("worker")),
                "area_km2": float(areas[i]),
                "units": n,
                "households": h,
                "residents": r,
                "incidents_12m": int(incidents_12m.get(code, 0)),
                "open_incidents": int(open_incidents.get(code, 0)),
            }
        )
    used = {}
    for name, col in _FACTORS.items():
        w = float(getattr(weights, name))
        mean = float(np.mean([r[col] for r in rows])) if rows else 0.0
        if w > 0 and mean > 0:
            used[name] = (col, w, mean)
    total = sum(w for _, w, _ in used.values())
    for r in rows:
        r["score"] = (
            sum(w * r[col] / mean for col, w, mean in used.values()) / total if total else 0.0
        )
    return {"grids": rows, "balance": balance(rows, used=sorted(used))}


def balance(rows: list[dict], used=()) -> dict:
    """The spread of the workload scores of ``rows``: coefficient of variation (``cv``,
    population standard deviation over mean), extremes and their grids."""
    scores = np.array([r["score"] for r in rows], dtype=float)
    if not len(scores):
        return {"grids": 0, "cv": 0.0, "mean": 0.0, "min": 0.0, "max": 0.0, "factors": list(used)}
    mean = float(scores.mean())
    lo, hi = int(np.argmin(scores)), int(np.argmax(scores))
    return {
        "grids": len(scores),
        "cv": float(scores.std() / mean) if mean > 0 else 0.0,
        "mean": mean,
        "min": float(scores[lo]),
        "max": float(scores[hi]),
        "lightest": rows[lo]["code"],
        "heaviest": rows[hi]["code"],
        "factors": list(used),
    }


def count_points(district: District, lons, lats) -> dict[str, int]:
    """How many of the points (WGS-84) each second-level grid of ``district`` holds: incidents
    counted by the draft's grids rather than the ones they were recorded in. A point on a shared
    edge counts once, for the grid with the smaller code; points outside every grid are not
    counted.

    >>> from geogrid.model import District, default_data_dir
    >>> count_points(District.load(default_data_dir()), [118.9293], [32.1296])
    {'320113005001001': 1}
    """
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    g2 = district.grids2
    if not len(lons) or not len(g2):
        return {}
    codes = np.array([str(c) for c in g2["code"]], dtype=object)
    pts = shapely.points(lons, lats)
    pi, gi = STRtree(g2.geometry.to_numpy()).query(pts, predicate="intersects")
    owner = np.full(len(pts), None, dtype=object)
    order = np.lexsort((codes[gi], pi))  # per point, the smallest code first
    pi, gi = pi[order], gi[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    owner[pi[first]] = codes[gi[first]]
    found = owner[owner != None]  # noqa: E711
    out: dict[str, int] = {}
    for c in found:
        out[c] = out.get(c, 0) + 1
    return dict(sorted(out.items()))
