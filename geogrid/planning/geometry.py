"""The geometry under every edit: the storage grid, snapping drawn points, and re-tiling a set
of grids from one noded linework so that neighbours keep identical shared edges.

Exact means exact on the stored coordinates. Grids are kept in WGS-84 with 7 decimals (1e-7°,
about 1 cm; :data:`geogrid.model.COORD_DECIMALS`), and topology is computed on that grid: the
boundaries of the grids an edit touches, together with the drawn line, are noded once with GEOS'
snap-rounding noder (``union_all(..., grid_size=1e-7)``), polygonized, and each face is given
back to a grid. Every vertex of the result lies on the storage grid, and neighbours are built
from the same faces, so their shared edges are identical vertex for vertex and nothing moves when
the draft is stored. Vertices already on the grid stay where they are, so grids outside the
re-tiled set still match. Distances (snapping, tolerances) and areas are measured in metres in
EPSG:4549 (:mod:`geogrid.crs.metric`), never in degrees.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import STRtree

from ..crs import geometry_to_metric, to_metric
from ..errors import InputError
from ..model import COORD_DECIMALS

#: The storage grid in degrees: every vertex an edit makes lies on it.
GRID = 10.0**-COORD_DECIMALS

#: A drawn point this close (metres) to a grid vertex is taken to be that vertex; this close to
#: an edge, a point on that edge.
SNAP_M = 1.0


def on_grid(geom):
    """A geometry (or an array of them) with its vertices rounded to the storage grid."""
    return shapely.set_precision(geom, GRID)


def metres(geom):
    """A lon/lat geometry (or array) in EPSG:4549 metres."""
    return geometry_to_metric(geom)


def distance_m(a, b) -> float:
    """Distance in metres between two lon/lat geometries."""
    return float(shapely.distance(metres(a), metres(b)))


def snap_to(point, target):
    """``point`` moved onto ``target`` (a lon/lat line or polygon boundary) when it lies within
    :data:`SNAP_M` of it: onto its nearest vertex if one is that close, else onto the nearest
    point of its edges (rounded to the grid: the noder then runs the edge through it). Returns
    the point and its distance in metres from ``target`` before snapping."""
    dist = distance_m(point, target)
    if dist > SNAP_M:
        return point, dist
    verts = shapely.points(shapely.get_coordinates(target))
    d = shapely.distance(metres(verts), metres(point))
    k = int(np.argmin(d))
    if d[k] <= SNAP_M:
        return verts[k], dist
    near = shapely.line_interpolate_point(target, shapely.line_locate_point(target, point))
    return on_grid(near), dist


def line_from_coords(coords) -> shapely.LineString:
    """A drawn line (lon/lat pairs) on the storage grid; :class:`InputError` when it has fewer
    than two distinct points or crosses itself."""
    line = on_grid(shapely.linestrings(np.asarray(coords, dtype=float)))
    if line.is_empty or line.length == 0:
        raise InputError("the line has fewer than two distinct points")
    if not line.is_simple:
        raise InputError("the line crosses itself: draw it without loops")
    return line


def snap_line(line, target, *, ends: bool = True):
    """``line`` with each vertex within :data:`SNAP_M` of ``target`` (a lon/lat boundary) moved
    onto it, as :func:`snap_to` does (``ends=False`` leaves the first and last vertex alone):
    a drawn line that runs along an edge then coincides with it instead of leaving slivers.
    :class:`InputError` if the line then crosses itself."""
    xy = shapely.get_coordinates(line)
    pts = shapely.points(xy)
    near = shapely.distance(metres(pts), metres(target)) <= SNAP_M
    if not ends:
        near[0] = near[-1] = False
    if not near.any():
        return line
    for k in np.flatnonzero(near):
        xy[k] = shapely.get_coordinates(snap_to(pts[k], target)[0])[0]
    snapped = on_grid(shapely.linestrings(xy))
    if snapped.is_empty or snapped.length == 0:
        raise InputError("the line collapses onto existing boundaries: it changes nothing")
    if not snapped.is_simple:
        raise InputError("the line crosses itself once snapped to the boundaries near it")
    return snapped


def replace_end(line, start=None, end=None):
    """``line`` with its first and/or last vertex replaced."""
    xy = shapely.get_coordinates(line)
    if start is not None:
        xy[0] = shapely.get_coordinates(start)[0]
    if end is not None:
        xy[-1] = shapely.get_coordinates(end)[0]
    return on_grid(shapely.linestrings(xy))


def shared_edge(a, b):
    """The lines two lon/lat grids share (merged), or an empty geometry when they share none."""
    inter = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    lines = [p for p in shapely.get_parts(inter) if p.geom_type == "LineString"]
    if not lines:
        return shapely.LineString()
    return shapely.line_merge(shapely.union_all(lines))


def shares_edge(a, b) -> bool:
    """Whether two grids share more than a point of boundary."""
    return shapely.length(shared_edge(a, b)) > 0


def tidy(geom):
    """The canonical form of a grid geometry as edits store it (normalized rings)."""
    return shapely.normalize(geom)


def same(a, b) -> bool:
    """Whether two geometries have exactly the same rings, whatever their order or start."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0))


def area_m2(geom) -> float:
    return float(shapely.area(metres(geom)))


_AREAS: dict[bytes, float] = {}


def areas_m2(geoms) -> np.ndarray:
    """Areas in m² of lon/lat geometries, remembered by their exact shape (WKB): after an edit
    only the grids it changed are measured again."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    if not len(geoms):
        return out
    keys = shapely.to_wkb(geoms)
    todo = [i for i, k in enumerate(keys) if k not in _AREAS]
    if todo:
        if len(_AREAS) + len(todo) > 20_000:
            _AREAS.clear()
        for i, a in zip(todo, shapely.area(metres(geoms[todo])), strict=True):
            _AREAS[keys[i]] = float(a)
    for i, k in enumerate(keys):
        out[i] = _AREAS[k]
    return out


def retile(geoms: np.ndarray, lines, assign):
    """Re-cut the grids ``geoms`` (lon/lat, a coverage) along extra ``lines``.

    The boundaries of ``geoms`` and the lines are noded once on the storage grid and
    polygonized; each face goes to the grid it lies in (``owner``: the index into ``geoms``,
    faces outside every grid are dropped), then ``assign(faces, owner)`` returns the new owner of
    each face (any hashable; ``None`` drops it). Returns ``{new owner: geometry}``, each the
    coverage union of its faces. Because every face comes from the same linework, neighbours
    share their edges exactly.
    """
    parts = [shapely.boundary(g) for g in geoms] + list(lines)
    noded = shapely.union_all(parts, grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    owner = face_owners(faces, geoms)
    keep = owner >= 0
    faces, owner = faces[keep], owner[keep]
    new = assign(faces, owner)
    out: dict = {}
    for key in dict.fromkeys(k for k in new if k is not None):
        mine = faces[np.array([k == key for k in new], dtype=bool)]
        out[key] = tidy(shapely.coverage_union_all(mine))
    return out


def face_owners(faces, geoms) -> np.ndarray:
    """For each face, the index of the grid of ``geoms`` it lies in (-1 for none): the grid
    holding its interior point, or for a face thinner than the grid's rounding, the grid it
    overlaps most."""
    owner = np.full(len(faces), -1, dtype=int)
    if not len(faces):
        return owner
    tree = STRtree(geoms)
    probe = shapely.point_on_surface(faces)
    fi, gi = tree.query(probe, predicate="within")
    count = np.bincount(fi, minlength=len(faces))
    single = count[fi] == 1
    owner[fi[single]] = gi[single]
    for f in np.flatnonzero(count != 1):
        cand = tree.query(faces[f], predicate="intersects")
        if not len(cand):
            continue
        areas = shapely.area(shapely.intersection(geoms[cand], faces[f]))
        if areas.max() > 0:
            owner[f] = cand[int(np.argmax(areas))]
    return owner


def reading_order(geoms) -> list[int]:
    """Indices of lon/lat geometries in reading order, as grids are numbered: north to south
    when they lie one above the other, west to east when side by side (their interior points
    decide)."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    xy = np.array([to_metric(*shapely.get_coordinates(p)[0]) for p in pts])
    dx, dy = np.ptp(xy[:, 0]), np.ptp(xy[:, 1])
    if dy >= dx:
        return sorted(range(len(xy)), key=lambda i: (-xy[i, 1], xy[i, 0]))
    return sorted(range(len(xy)), key=lambda i: (xy[i, 0], -xy[i, 1]))


def fmt_m(value: float) -> str:
    """Metres for a message: 0.42 m, 35.2 m, 1,204 m."""
    if not math.isfinite(value):
        return "∞ m"
    if value < 10:
        return f"{value:.2f} m"
    if value < 1000:
        return f"{value:.1f} m"
    return f"{value:,.0f} m"
