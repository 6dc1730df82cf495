"""Shared pieces of the checks: the tolerances, a layer as plain arrays, repairing and
taking apart polygonal geometries, grouping flagged edges."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import shapely
from shapely import STRtree

from .report import _LAYER_NAMES, _cap

#: Stored coordinates have 7 decimals (1e-7 degree, about 1 cm here): overlaps, gaps and parts
#: outside a parent narrower than this are rounding of vertices that should lie on a neighbour's
#: edge, not errors; the coverage validator still flags those edges (``unmatched-edge`` notice).
PRECISION_M = 0.01


#: Distance under which a flagged edge counts as lying on an error's geometry or on a neighbour
#: (projecting lon/lat edges to EPSG:4549 bends them by millimetres per 500 m).
_NEAR_M = 0.05


_POLYGONAL = {"Polygon", "MultiPolygon"}


# ---------------------------------------------------------------------- layer preparation
def _text(value) -> str | None:
    """A code as a string, or ``None`` when missing or blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA:
        return None
    text = str(value).strip()
    return text or None


try:  # pandas' missing-value marker, without making pandas a hard requirement of this module
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


class _Layer:
    """Codes and geometries of one layer as plain arrays."""

    def __init__(self, name: str, frame):
        self.name = name
        n = len(frame)
        cols = frame.columns
        self.codes = [_text(v) for v in frame["code"]] if "code" in cols else [None] * n
        self.names = [_text(v) for v in frame["name"]] if "name" in cols else [None] * n
        self.labels = [c if c is not None else f"#{i}" for i, c in enumerate(self.codes)]
        self.geoms = (
            np.asarray(frame.geometry.to_numpy(), dtype=object) if n else np.empty(0, object)
        )
        self.crs = frame.crs
        self.n = n
        # filled by the geometry checks
        self.usable = np.full(n, None, dtype=object)  # lon/lat geometry fit for topology
        self.valid = np.zeros(n, dtype=bool)  # usable and valid as given (not repaired)
        self.metric = np.full(n, None, dtype=object)

    def where(self, i: int, cap: bool = False) -> str:
        """How to name feature ``i`` in a message (capitalised to start a sentence)."""
        kind = _cap(_LAYER_NAMES[self.name]) if cap else _LAYER_NAMES[self.name]
        if self.codes[i] is not None:
            return f"{kind} {self.codes[i]}"
        name = f" ({self.names[i]})" if self.names[i] else ""
        return f"{kind} #{i}{name}"

    def by_code(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.codes):
            if c is not None:
                out[c].append(i)
        return out


def _repair(geom):
    """The polygonal part of ``shapely.make_valid(geom)`` (``None`` if there is none)."""
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in _POLYGONAL and not p.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def _polygonal(geom):
    """The polygonal part of an overlay result, or ``None`` when it has no area."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else None


def _same(a, b) -> bool:
    """Whether two polygonal geometries have exactly the same rings (a fast sufficient test of
    equality; a first-level grid built as the union of its grids passes it)."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0))


def _pieces(geom):
    """The polygons of a polygonal geometry (an empty array for ``None``)."""
    if geom is None or geom.is_empty:
        return np.empty(0, dtype=object)
    return shapely.get_parts(geom)


def _components(lines, eps: float) -> list[np.ndarray]:
    """Groups of lines connected to each other (closer than ``eps``), as arrays of indices."""
    parent = list(range(len(lines)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(*STRtree(lines).query(lines, predicate="dwithin", distance=eps), strict=True):
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for a in range(len(lines)):
        groups[find(a)].append(a)
    return [np.array(g) for g in groups.values()]


def _segments(lines, owners):
    """Split flagged edge lines into 2-point segments, each with the index of its grid."""
    parts, pidx = shapely.get_parts(lines, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[1:] == cidx[:-1]
    pairs = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    segs = shapely.linestrings(pairs) if len(pairs) else np.empty(0, dtype=object)
    return segs, owners[pidx[cidx[:-1][same]]]
