"""Building the sample district: a geometry attempt per seed, codes, names and people, and the
units placed well inside their grids."""

from __future__ import annotations

import math

import numpy as np
import shapely

from ..crs import area_m2, from_metric, geometry_from_metric
from ..model import COORD_DECIMALS, GRID1_COLUMNS, GRID2_COLUMNS, UNIT_COLUMNS, District, _frame
from .geometry import _reading_order, _Sample
from .names import (
    _CATEGORY_KINDS,
    _COMMUNITY_NAMES,
    _LEADER_TITLES,
    _OFFICES,
    _ROADS,
    _UNI_FIELD,
    _UNI_PREFIX,
    _Namer,
)
from .params import (
    DEFAULT_SEED,
    DISTRICT_CODE,
    DISTRICT_NAME,
    EXTENT,
    N_COMMUNITIES,
    TARGET_AREA_M2,
    TOTAL_RESIDENTS,
    UNIT_COUNTS,
)


def _round(geoms):
    return shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS))


def generate(seed: int = DEFAULT_SEED) -> District:
    """Build the sample district deterministically from ``seed``.

    Attempts that miss a constraint (outline outside Xianlin's box, community sizes outside 13-18,
    an invalid coverage after rounding) are redrawn from the same random stream, so the result
    depends on ``seed`` alone.
    """
    rng = np.random.default_rng(seed)
    for _attempt in range(200):
        built = _attempt_build(_Sample(rng))
        if built is not None:
            return built
    raise RuntimeError(f"no valid sample district found for seed {seed}")  # pragma: no cover


def _attempt_build(s: _Sample) -> District | None:
    outline = s.outline()
    zones = s.zones(outline)
    seeds = s.seeds(outline, zones)
    cells = s.cells(outline, seeds)
    if any(c.geom_type != "Polygon" or len(c.interiors) for c in cells):
        return None
    owner = s.communities(cells)
    if owner is None:
        return None
    # Bend, scale to the exact area, convert to lon/lat and round; all per coordinate, so shared
    # vertices stay shared.
    bent = shapely.transform(np.array(cells, dtype=object), s.displacement())
    scale = math.sqrt(TARGET_AREA_M2 / float(shapely.area(shapely.coverage_union_all(bent))))
    metric = shapely.transform(
        bent,
        lambda c: np.column_stack(
            [s.cx + scale * (c[:, 0] - s.cx), s.cy + scale * (c[:, 1] - s.cy)]
        ),
    )
    grids = _round(geometry_from_metric(metric))
    if not (shapely.is_valid(grids).all() and shapely.coverage_is_valid(grids)):
        return None
    outline_ll = shapely.coverage_union_all(grids)
    if outline_ll.geom_type != "Polygon" or len(outline_ll.interiors):
        return None
    minx, miny, maxx, maxy = outline_ll.bounds
    if minx < EXTENT[0] or miny < EXTENT[1] or maxx > EXTENT[2] or maxy > EXTENT[3]:
        return None
    level1 = [shapely.coverage_union_all(grids[owner == c]) for c in range(N_COMMUNITIES)]
    if any(g.geom_type != "Polygon" or len(g.interiors) for g in level1):
        return None
    kinds, _ = s.zone_of(zones, seeds[:, 0], seeds[:, 1])
    return _assemble(
        s.rng, grids, metric, np.asarray(level1, dtype=object), owner, kinds, outline_ll
    )


def _assemble(rng, grids, metric, level1, owner, kinds, outline) -> District:
    namer = _Namer(rng)
    cent1 = shapely.get_coordinates(shapely.centroid(level1))
    band1 = math.sqrt(float(np.median(shapely.area(level1)))) * 0.8
    order1 = _reading_order(cent1[:, 0], cent1[:, 1], band1)
    cent2 = shapely.get_coordinates(shapely.centroid(grids))
    band2 = math.sqrt(float(np.median(shapely.area(grids)))) * 0.8

    g1_rows, g1_geoms, g2_rows, g2_geoms, g2_metric, g2_kind = [], [], [], [], [], []
    for seq1, c in enumerate(order1, start=1):
        code1 = f"{DISTRICT_CODE}{seq1:03d}"
        office, office_phone = _OFFICES[seq1 - 1]
        g1_rows.append(
            {
                "code": code1,
                "name": _COMMUNITY_NAMES[seq1 - 1],
                "parent": DISTRICT_CODE,
                "leader": namer.person(),
                "leader_title": _LEADER_TITLES[seq1 - 1],
                "leader_phone": namer.mobile(),
                "office": f"{DISTRICT_NAME}{office}",
                "office_phone": office_phone,
            }
        )
        g1_geoms.append(level1[c])
        members = np.flatnonzero(owner == c)
        for seq2, m in enumerate(
            members[_reading_order(cent2[members, 0], cent2[members, 1], band2)], 1
        ):
            g2_rows.append(
                {
                    "code": f"{code1}{seq2:03d}",
                    "name": f"{_COMMUNITY_NAMES[seq1 - 1]}第{seq2:02d}网格",
                    "parent": code1,
                    "kind": kinds[m],
                    "worker": namer.person(),
                    "worker_phone": namer.mobile(),
                }
            )
            g2_geoms.append(grids[m])
            g2_metric.append(metric[m])
            g2_kind.append(kinds[m])

    g2_kind = np.array(g2_kind, dtype=object)
    g2_area = shapely.area(np.array(g2_metric, dtype=object))
    # The twelve campuses take the largest campus grids (and the largest others if too few).
    campus = [i for i in np.argsort(-g2_area) if g2_kind[i] == "校园"][:12]
    campus += [i for i in np.argsort(-g2_area) if i not in campus and g2_kind[i] != "住宅"][
        : 12 - len(campus)
    ]
    for i in campus:
        g2_kind[i] = "校园"
    for row, k in zip(g2_rows, g2_kind, strict=True):
        row["kind"] = k

    units = _units(rng, namer, g2_rows, np.array(g2_metric, dtype=object), g2_kind, campus)
    grids1 = _frame(g1_rows, GRID1_COLUMNS, g1_geoms)
    grids2 = _frame(g2_rows, GRID2_COLUMNS, g2_geoms)
    unit_rows, unit_geoms = units
    return District(
        DISTRICT_CODE,
        DISTRICT_NAME,
        grids1,
        grids2,
        _frame(unit_rows, UNIT_COLUMNS, unit_geoms),
        outline,
        {
            "area_m2": round(float(area_m2(outline)), 1),
            "residents": TOTAL_RESIDENTS,
            "sample": True,
            "note": "示例数据：边界、名称、人员与电话均为生成的虚构数据，仅位置、面积与数量参照仙林街道。",
            "generator": f"geogrid sample --seed {DEFAULT_SEED}",
        },
    )


def _units(rng, namer, g2_rows, g2_metric, g2_kind, campus):
    """1786 units: (category, grid index) plan, then a point well inside the grid for each."""
    n = len(g2_rows)
    plan: list[tuple[str, int]] = [("高校", int(i)) for i in campus]
    residential = [i for i in range(n) if g2_kind[i] == "住宅"]
    plan += [("住宅小区", int(residential[i % len(residential)])) for i in rng.permutation(40)]
    commercial = [i for i in range(n) if g2_kind[i] == "商业"] or residential
    plan += [("商业街区", int(commercial[i % len(commercial)])) for i in range(9)]
    area = shapely.area(g2_metric)
    for cat, prefs in _CATEGORY_KINDS.items():
        w = np.array([prefs.get(k, 0.3) for k in g2_kind], dtype=float) * np.sqrt(area)
        plan += [(cat, int(i)) for i in rng.choice(n, UNIT_COUNTS[cat], p=w / w.sum())]

    # Residents: 26万 in all, split between compounds and campus dormitories.
    compound_res = rng.uniform(1500, 5500, 40)
    campus_res = rng.uniform(5000, 16000, 12)
    both = np.concatenate([compound_res, campus_res])
    both = np.floor(both / both.sum() * TOTAL_RESIDENTS).astype(int)
    both[0] += TOTAL_RESIDENTS - both.sum()
    compound_res, campus_res = list(both[:40]), list(both[40:])

    roads = {i: _ROADS[int(rng.integers(len(_ROADS)))] for i in range(n)}
    uni_names = [
        f"{p}{f}大学"
        for p, f in zip(rng.permutation(_UNI_PREFIX), rng.permutation(_UNI_FIELD), strict=True)
    ]
    inner = shapely.buffer(g2_metric, -8.0)
    per_grid: dict[int, list] = {}
    for cat, gi in plan:
        x, y = _point_in(rng, inner[gi])
        road = roads[gi]
        rec = {
            "name": "",
            "category": cat,
            "address": f"南京市栖霞区{road}{int(rng.integers(1, 400))}号",
            "head": namer.person(),
            "head_phone": namer.mobile() if rng.uniform() < 0.7 else namer.landline(),
            "grid": g2_rows[gi]["code"],
            "households": None,
            "residents": None,
        }
        if cat == "高校":
            rec["name"] = uni_names.pop() + "仙林校区"
            rec["residents"] = int(campus_res.pop())
        elif cat == "住宅小区":
            rec["name"] = namer.unit_name(cat, road)
            residents = int(compound_res.pop())
            rec["residents"] = residents
            rec["households"] = int(round(residents / rng.uniform(2.5, 3.1)))
        else:
            rec["name"] = namer.unit_name(cat, road)
        per_grid.setdefault(gi, []).append((x, y, rec))

    rows, geoms = [], []
    for gi in sorted(per_grid):
        items = per_grid[gi]
        xs = np.array([it[0] for it in items])
        ys = np.array([it[1] for it in items])
        lon, lat = from_metric(xs, ys)
        for seq, k in enumerate(_reading_order(xs, ys, 60.0), start=1):
            rec = {"code": f"{g2_rows[gi]['code']}{seq:04d}", **items[k][2]}
            rows.append(rec)
            geoms.append(
                shapely.Point(
                    round(float(lon[k]), COORD_DECIMALS), round(float(lat[k]), COORD_DECIMALS)
                )
            )
    order = sorted(range(len(rows)), key=lambda i: rows[i]["code"])
    return [rows[i] for i in order], [geoms[i] for i in order]


def _point_in(rng, poly) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(poly, x, y):
            return float(x), float(y)
