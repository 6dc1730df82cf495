"""What an edited district changes against its base: the impact preview before publishing.

:func:`impact` compares two districts (the base version and the draft) and lists

* ``units``: every unit whose grid changes, with the workers before and after;
* ``grids``: every second-level grid whose shape changed, or that was created or retired, with
  its area before and after (m², EPSG:4549) and the symmetric difference of its shapes;
* ``transfers``: the pieces of territory that change grid (from, to, area, geometry), what a map
  of the changed areas draws; a grid that only changed its code is listed under ``recoded``;
* ``incidents``: the open incidents (given as ``(id, lon, lat, grid_code)``) whose place now
  lies in another grid, with the workers before and after;
* ``attributes``: second-level grids kept (or only recoded) whose name, community, kind or
  worker changed, each field with its value before and after (``shape_changed`` says whether
  the grid is also under ``grids``);
* ``communities``: first-level grids created, retired, or changed (name, leader, office, or
  their outline), with their areas before and after;
* ``summary``: the counts of each list and the area changing grid.

Every list holds plain JSON values except the ``geometry`` of ``grids`` and ``transfers``.

Geometries are shapely objects in WGS-84; :func:`to_geojson` turns the changed areas into a
FeatureCollection.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from shapely import STRtree

from ..model import District, feature_collection, plain
from . import geometry as geo
from .edits import OVERRIDE

#: Pieces smaller than this (m²) are rounding, not a change of owner.
MIN_CHANGE_M2 = 0.01
#: The attributes of a second-level grid an ``attributes`` entry compares.
GRID_FIELDS = ("name", "parent", "kind", "worker", "worker_phone")
#: The attributes of a first-level grid (community) a ``communities`` entry compares.
COMMUNITY_FIELDS = ("name", "leader", "leader_title", "leader_phone", "office", "office_phone")


def _grids(d: District, layer: str = "grids2") -> dict[str, dict]:
    frame = getattr(d, layer)
    out = {}
    for rec, geom in zip(
        frame.drop(columns=frame.geometry.name).to_dict("records"), frame.geometry, strict=True
    ):
        rec = {k: plain(v) for k, v in rec.items()}
        out[str(rec["code"])] = {**rec, "geometry": geom}
    return out


def impact(
    base: District,
    edited: District,
    *,
    open_incidents: Iterable[tuple] = (),
) -> dict:
    """The changes from ``base`` to ``edited`` (see the module); every list sorted by code."""
    before, after = _grids(base), _grids(edited)
    # grids whose shape differs (a grid that only gained a vertex where a cut met its edge
    # keeps its shape and is not listed)
    changed = sorted(set(before) ^ set(after))
    for code in sorted(set(before) & set(after)):
        if not geo.same(before[code]["geometry"], after[code]["geometry"]):
            diff = _symmetric_difference(before[code]["geometry"], after[code]["geometry"])
            if geo.area_m2(diff) > MIN_CHANGE_M2:
                changed.append(code)
    changed = sorted(set(changed))
    # codes that were only renamed: a retired grid whose exact shape a new one has
    recoded = []
    gone = [c for c in changed if c not in after]
    new = [c for c in changed if c not in before]
    for old in gone:
        for c in new:
            if geo.same(before[old]["geometry"], after[c]["geometry"]):
                recoded.append((old, c))
                break
    renamed = {a for a, _ in recoded} | {b for _, b in recoded}
    grids = []
    for code in changed:
        if code in renamed:
            continue
        b = before.get(code, {}).get("geometry")
        a = after.get(code, {}).get("geometry")
        if b is not None and a is not None:
            diff = _symmetric_difference(b, a)
        else:
            diff = a if a is not None else b
        ab = geo.area_m2(b) if b is not None else 0.0
        aa = geo.area_m2(a) if a is not None else 0.0
        status = "created" if b is None else "retired" if a is None else "changed"
        grids.append(
            {
                "code": code,
                "status": status,
                "name": plain((after.get(code) or before.get(code))["name"]),
                "area_before_m2": ab,
                "area_after_m2": aa,
                "area_change_m2": aa - ab,
                "worker_before": before.get(code, {}).get("worker"),
                "worker_after": after.get(code, {}).get("worker"),
                "geometry": diff,
            }
        )
    transfers = _transfers(before, after, [c for c in changed if c not in renamed])
    units = _units(base, edited, before, after)
    incidents = _incidents(edited, open_incidents, before, after)
    attributes = _attributes(before, after, recoded, set(changed))
    communities = _communities(_grids(base, "grids1"), _grids(edited, "grids1"))
    return {
        "units": units,
        "grids": grids,
        "transfers": transfers,
        "recoded": [{"from": a, "to": b} for a, b in recoded],
        "incidents": incidents,
        "attributes": attributes,
        "communities": communities,
        "summary": {
            "units": len(units),
            "grids": len(grids),
            "created": sum(g["status"] == "created" for g in grids),
            "retired": sum(g["status"] == "retired" for g in grids),
            "recoded": len(recoded),
            "incidents": len(incidents),
            "area_m2": float(sum(t["area_m2"] for t in transfers)),
            "attributes": len(attributes),
            "communities": len(communities),
            "communities_created": sum(c["status"] == "created" for c in communities),
            "communities_retired": sum(c["status"] == "retired" for c in communities),
            "communities_renamed": sum("name" in c["changes"] for c in communities),
            "communities_reshaped": sum(c["outline_changed"] for c in communities),
        },
    }


def _changes(b: dict, a: dict, fields) -> dict:
    """``field: [before, after]`` for each of ``fields`` whose value differs."""
    return {f: [b.get(f), a.get(f)] for f in fields if (b.get(f) or None) != (a.get(f) or None)}


def _attributes(before, after, recoded, shape_changed: set[str]) -> list[dict]:
    """Grids kept, or only recoded, whose attributes changed."""
    pairs = [(c, c) for c in sorted(set(before) & set(after))] + list(recoded)
    out = []
    for old, new in pairs:
        changes = _changes(before[old], after[new], GRID_FIELDS)
        if not changes:
            continue
        out.append(
            {
                "code": new,
                "from_code": old if old != new else None,
                "name": after[new].get("name"),
                "changes": changes,
                "shape_changed": new in shape_changed,
            }
        )
    return sorted(out, key=lambda r: r["code"])


def _communities(before, after) -> list[dict]:
    """First-level grids created, retired, renamed, or whose attributes or outline changed."""
    out = []
    for code in sorted(set(before) | set(after)):
        b, a = before.get(code), after.get(code)
        bg = b["geometry"] if b else None
        ag = a["geometry"] if a else None
        if b is None or a is None:
            status, changes, moved = ("created" if b is None else "retired"), {}, True
        else:
            changes = _changes(b, a, COMMUNITY_FIELDS)
            moved = not geo.same(bg, ag) and (
                geo.area_m2(_symmetric_difference(bg, ag)) > MIN_CHANGE_M2
            )
            if not changes and not moved:
                continue
            status = "changed"
        ab = geo.area_m2(bg) if bg is not None else 0.0
        aa = geo.area_m2(ag) if ag is not None else 0.0
        out.append(
            {
                "code": code,
                "status": status,
                "name": (a or b).get("name"),
                "name_before": b.get("name") if b else None,
                "name_after": a.get("name") if a else None,
                "changes": changes,
                "outline_changed": bool(moved),
                "area_before_m2": ab,
                "area_after_m2": aa,
                "area_change_m2": aa - ab,
            }
        )
    return out


def _transfers(before, after, codes) -> list[dict]:
    """Pieces of territory whose grid changes, between the changed grids."""
    b_codes = [c for c in codes if c in before]
    a_codes = [c for c in codes if c in after]
    if not b_codes or not a_codes:
        return []
    b_geoms = np.asarray([before[c]["geometry"] for c in b_codes], dtype=object)
    a_geoms = np.asarray([after[c]["geometry"] for c in a_codes], dtype=object)
    bi, ai = STRtree(a_geoms).query(b_geoms, predicate="intersects")
    keep = np.array([b_codes[i] != a_codes[j] for i, j in zip(bi, ai, strict=True)], dtype=bool)
    bi, ai = bi[keep], ai[keep]
    out = []
    if not len(bi):
        return out
    pieces = shapely.intersection(_valid(b_geoms[bi]), _valid(a_geoms[ai]))
    for i, j, piece in zip(bi, ai, pieces, strict=True):
        piece = _polygonal(piece)
        if piece is None:
            continue
        area = geo.area_m2(piece)
        if area <= MIN_CHANGE_M2:
            continue
        out.append({"from": b_codes[i], "to": a_codes[j], "area_m2": area, "geometry": piece})
    return sorted(out, key=lambda t: (t["from"], t["to"]))


def _valid(geoms):
    """``geoms`` (one or an array) with invalid ones repaired: a draft may hold an imported
    layer that overlaps itself, which GEOS' overlay cannot take as it is."""
    return np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms))


def _symmetric_difference(a, b):
    diff = shapely.symmetric_difference(*_valid(np.array([a, b], dtype=object)))
    return _polygonal(diff) or shapely.Polygon()


def _polygonal(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _units(base, edited, before, after) -> list[dict]:
    old = dict(zip(base.units["code"], base.units["grid"], strict=True))
    names = dict(zip(edited.units["code"], edited.units["name"], strict=True))
    reasons = (
        dict(zip(edited.units["code"], edited.units[OVERRIDE], strict=True))
        if OVERRIDE in edited.units.columns
        else {}
    )
    out = []
    for code, grid in zip(edited.units["code"], edited.units["grid"], strict=True):
        was = old.get(code)
        if code not in old or was == grid:
            continue
        out.append(
            {
                "code": code,
                "name": plain(names.get(code)),
                "from_grid": was,
                "to_grid": grid,
                "from_worker": before.get(was, {}).get("worker"),
                "to_worker": after.get(grid, {}).get("worker"),
                "override": plain(reasons.get(code)),
            }
        )
    return sorted(out, key=lambda u: u["code"])


def _incidents(edited, incidents, before, after) -> list[dict]:
    rows = [tuple(r) for r in incidents]
    if not rows:
        return []
    codes = np.array([str(c) for c in edited.grids2["code"]], dtype=object)
    geoms = edited.grids2.geometry.to_numpy()
    pts = shapely.points(
        np.array([float(r[1]) for r in rows]), np.array([float(r[2]) for r in rows])
    )
    pi, gi = STRtree(geoms).query(pts, predicate="intersects")
    owners: dict[int, list[str]] = {}
    for p, g in zip(pi, gi, strict=True):
        owners.setdefault(int(p), []).append(codes[g])
    out = []
    for k, (ident, _lon, _lat, grid) in enumerate(rows):
        here = sorted(owners.get(k, []))
        if grid in here:  # still in its grid (on an edge, it stays where it was)
            continue
        new = here[0] if here else None
        out.append(
            {
                "id": ident,
                "from_grid": grid,
                "to_grid": new,
                "from_worker": before.get(grid, {}).get("worker"),
                "to_worker": after.get(new, {}).get("worker") if new else None,
            }
        )
    return sorted(out, key=lambda r: (str(r["from_grid"]), str(r["id"])))


def to_geojson(result: dict) -> dict:
    """The changed areas of an :func:`impact` as a GeoJSON FeatureCollection: one feature per
    transfer (``from``, ``to``, ``area_m2``)."""
    rows = [
        ({"from": t["from"], "to": t["to"], "area_m2": round(t["area_m2"], 2)}, t["geometry"])
        for t in result["transfers"]
    ]
    return feature_collection(rows)
