"""The planner's edits: small frozen records that a draft stores and replays, each computed
exactly on the server over a :class:`~geogrid.model.District`.

Every edit is a frozen dataclass with ``to_dict`` / :func:`edit_from_dict` (JSON-ready, so a
draft can keep its edits and replay them on a new base) and ``apply(district, retired=())``,
which returns the edited district (a new object; the input is never changed) and an
:class:`EditResult` naming what changed. A bad edit raises :class:`~geogrid.errors.InputError`
with the reason.

Geometry edits re-cut the second-level grids on the storage grid (see
:mod:`geogrid.planning.geometry`), so the coverage stays exact: no gap, no overlap, neighbours
sharing their edges vertex for vertex. First-level grids are rebuilt as the union of their
second-level grids, so nesting holds by construction. Units follow the geometry (a unit goes to
the grid it stands in) unless a :class:`MoveUnit` override pins them, recorded in the units'
``grid_override`` column (the reason; ``None`` when the unit follows the geometry).

New grids are numbered by the rule of the sample (community code + 3 digits): the number after
the highest ever used in the community, current or retired (``retired``: every code the caller
knows to have existed), so a retired code is never used again.

>>> from geogrid.model import District, default_data_dir
>>> d = District.load(default_data_dir())
>>> a, b = d.grid2("320113005001001").geometry, d.grid2("320113005001002").geometry
>>> edit = Merge(("320113005001001", "320113005001002"))
>>> new, result = edit.apply(d)
>>> result.touched, result.retired, len(new.grids2)
(('320113005001001',), ('320113005001002',), 155)
>>> edit_from_dict(edit.to_dict()) == edit
True
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from ..crs import check_coordinates, from_metric, to_metric
from ..errors import CoordinateError, InputError
from ..model import District
from . import geometry as geo
from .geometry import SNAP_M, fmt_m

#: Column of the units layer holding the reason of a manual assignment (``None``: by geometry).
OVERRIDE = "grid_override"

#: A piece smaller than this (m²) left by a cut is a slip of the hand, not a grid.
MIN_PIECE_M2 = 1.0

#: Longest name, reason or worker name accepted.
MAX_TEXT = 200

_PHONE_RE = re.compile(r"[0-9+\-() ]{3,32}")


# ====================================================================== results
@dataclass(frozen=True)
class EditResult:
    """What an edit changed. Codes are second-level grids unless said otherwise.

    ``touched``: grids that existed before and whose geometry or attributes changed (a
    neighbour that only gained a vertex where a cut met its edge counts); ``created``: new
    grids; ``retired``: codes no longer in use (never to be used again); ``recoded``: pairs
    (old, new) of a grid that kept its place under a new code (its old code is also in
    ``retired``, the new one in ``created``); ``communities``: first-level grids whose outline
    or attributes changed; ``units``: units now in another grid; ``notes``: what the planner
    should know (overrides dropped, a unit back on its geometry...).
    """

    kind: str
    touched: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    recoded: tuple[tuple[str, str], ...] = ()
    communities: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def grids(self) -> tuple[str, ...]:
        """Every second-level grid of the edited district that the edit changed or made."""
        return tuple(sorted({*self.touched, *self.created}))

    def to_dict(self) -> dict:
        out = {f.name: list(getattr(self, f.name)) for f in dataclasses.fields(self)}
        out["kind"] = self.kind
        out["recoded"] = [list(p) for p in self.recoded]
        return out


# ====================================================================== input helpers
def _code(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty code, got {value!r}")
    return value.strip()


def _text(value, what: str, *, empty: bool = False) -> str | None:
    if value is None and empty:
        return None
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, got {value!r}")
    value = value.strip()
    if not value:
        if empty:
            return None
        raise InputError(f"{what} must not be empty")
    if len(value) > MAX_TEXT:
        raise InputError(f"{what} is too long ({len(value)} characters, at most {MAX_TEXT})")
    return value


def _point(value, what: str) -> tuple[float, float]:
    try:
        lon, lat = value
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a [lon, lat] pair, got {value!r}") from None
    try:
        check_coordinates(lon, lat)
    except CoordinateError as exc:
        raise InputError(f"{what}: {exc.message}") from None
    return (float(lon), float(lat))


def _line(value, what: str = "line") -> tuple[tuple[float, float], ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InputError(f"{what} must be a list of [lon, lat] points, got {value!r}")
    points = tuple(_point(p, f"{what} point {i}") for i, p in enumerate(value))
    if len(points) < 2:
        raise InputError(f"{what} needs at least two points, got {len(points)}")
    if len(points) > 10_000:
        raise InputError(f"{what} has {len(points)} points, at most 10,000")
    return points


def _codes(value, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InputError(f"{what} must be a list of codes, got {value!r}")
    return tuple(_code(c, what) for c in value)


def reason(value) -> str | None:
    """The override reason of a unit as stored (``None``, NaN and blanks are no override)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _set(obj, name, value) -> None:
    object.__setattr__(obj, name, value)


# ====================================================================== numbering
def community_numbers(codes: Iterable[str], community: str) -> set[int]:
    """The grid numbers used by ``codes`` in a community (codes of the form community + 3
    digits)."""
    n = len(community)
    return {
        int(c[n:]) for c in codes if len(c) == n + 3 and c.startswith(community) and c[n:].isdigit()
    }


def next_codes(district: District, community: str, retired: Collection[str], count: int = 1):
    """The next ``count`` free second-level codes of ``community``: after the highest number
    ever used there (current or retired); when 999 is reached, the lowest never used.

    >>> from geogrid.model import District, default_data_dir
    >>> d = District.load(default_data_dir())
    >>> next_codes(d, "320113005001", {"320113005001030"}, 2)
    ['320113005001031', '320113005001032']
    """
    used = community_numbers(district.grids2["code"], community) | community_numbers(
        retired, community
    )
    out = []
    top = max(used, default=0)
    for _ in range(count):
        if top < 999:
            top += 1
            number = top
        else:
            free = [k for k in range(1, 1000) if k not in used]
            if not free:
                raise InputError(f"community {community} has no free grid number left")
            number = free[0]
        used.add(number)
        out.append(f"{community}{number:03d}")
    return out


def default_name(community_name: str | None, code: str) -> str:
    """The name the sample gives grid ``code``: ``仙鹤社区第03网格``."""
    return f"{community_name or ''}第{int(code[-3:]):02d}网格"


# ====================================================================== the working copy
class _Change:
    """An edit in progress: the changes to make, turned into a new district by :meth:`finish`."""

    def __init__(self, district: District):
        self.d = district
        g2 = district.grids2
        self.codes = [str(c) for c in g2["code"]]
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.geoms = np.asarray(g2.geometry.to_numpy(), dtype=object)
        self.parents = [str(p) if p is not None else None for p in g2["parent"]]
        self.new_geoms: dict[str, object] = {}
        self.attrs: dict[str, dict] = {}
        self.created: dict[str, dict] = {}
        self.retired: list[str] = []
        self.successor: dict[str, str] = {}  # units of a retired code go to this one
        self.community_attrs: dict[str, dict] = {}
        self.unit_moves: dict[str, tuple[str, str | None]] = {}
        self.notes: list[str] = []
        self.recodes: set[str] = set()  # retired codes whose grid goes on under a new code
        self._tree = None

    # ---------------------------------------------------------------- lookups
    @property
    def tree(self) -> STRtree:
        if self._tree is None:
            self._tree = STRtree(self.geoms)
        return self._tree

    def grid(self, code: str) -> int:
        try:
            return self.index[code]
        except KeyError:
            raise InputError(f"no second-level grid with code {code}") from None

    def row(self, code: str) -> dict:
        return self.d.grids2.iloc[self.grid(code)].to_dict()

    def community(self, code: str) -> pd.Series:
        try:
            return self.d.grids1.iloc[self.d._grid1_index[code]]
        except KeyError:
            raise InputError(f"no first-level grid (community) with code {code}") from None

    def near(self, geom) -> np.ndarray:
        """Indices of the grids intersecting a lon/lat geometry."""
        return self.tree.query(geom, predicate="intersects")

    def ring(self, idx) -> np.ndarray:
        """Grids ``idx`` and every grid touching them."""
        idx = np.asarray(idx, dtype=int)
        hits = self.tree.query(self.geoms[idx], predicate="intersects")[1]
        return np.unique(np.concatenate([idx, hits]))

    # ---------------------------------------------------------------- geometry
    def retile(self, focus, lines, assign):
        """Re-cut grids ``focus`` (indices) and their neighbours along ``lines``: ``assign(
        faces, codes)`` gives each face's new code from its old one. The new geometries are
        recorded; returns ``{code: geometry}``. If the noder had to touch an edge shared with a
        grid outside the set (it rounds to the storage grid), the set grows and it runs again."""
        idx = self.ring(focus)
        for _ in range(4):
            codes = [self.codes[i] for i in idx]
            out = geo.retile(
                self.geoms[idx], lines, lambda f, o, c=codes: assign(f, [c[k] for k in o])
            )
            outside = np.setdiff1d(self.ring(idx), idx)
            if not len(outside):
                break
            check = [*out.values(), *self.geoms[outside]]
            if shapely.coverage_is_valid(np.asarray(check, dtype=object)):
                break
            idx = self.ring(idx)
        else:  # pragma: no cover - the noder only moves vertices within a pixel
            raise InputError("the cut could not be made exact: draw it a little differently")
        for code, g in out.items():
            if code in self.index and not geo.same(g, self.geoms[self.index[code]]):
                self.new_geoms[code] = g
        return out

    # ---------------------------------------------------------------- bookkeeping
    def set_attrs(self, code: str, **values) -> None:
        self.attrs.setdefault(code, {}).update(values)

    def create(self, code: str, geometry, **values) -> None:
        row = {c: None for c in self.d.grids2.columns if c != "geometry"}
        row.update(values, code=code)
        self.created[code] = {**row, "geometry": geometry}

    def retire(self, code: str, successor: str | None = None) -> None:
        self.retired.append(code)
        if successor is not None:
            self.successor[code] = successor

    # ---------------------------------------------------------------- the new district
    def finish(self, kind: str) -> tuple[District, EditResult]:
        d = self.d
        g2 = d.grids2
        retired = set(self.retired)
        # second-level grids: attributes, geometries, retired rows, new rows
        records = g2.drop(columns="geometry").to_dict("records")
        geoms = list(self.geoms)
        touched = set()
        changed_geom = set()
        for i, code in enumerate(self.codes):
            if code in retired:
                continue
            if code in self.new_geoms:
                geoms[i] = self.new_geoms[code]
                touched.add(code)
                changed_geom.add(code)
            for col, value in self.attrs.get(code, {}).items():
                if records[i].get(col) != value:
                    records[i][col] = value
                    touched.add(code)
        keep = [i for i, c in enumerate(self.codes) if c not in retired]
        rows = [records[i] for i in keep]
        rows_geoms = [geoms[i] for i in keep]
        for code, row in self.created.items():
            rows.append({k: v for k, v in row.items() if k != "geometry"})
            rows_geoms.append(row["geometry"])
            changed_geom.add(code)
        order = sorted(range(len(rows)), key=lambda k: rows[k]["code"])
        frame = pd.DataFrame.from_records([rows[k] for k in order], columns=list(g2.columns[:-1]))
        frame = frame.astype(object).where(frame.notna(), None)
        grids2 = gpd.GeoDataFrame(frame, geometry=[rows_geoms[k] for k in order], crs=g2.crs)
        grids2 = grids2[list(g2.columns)]
        if grids2.geometry.name != g2.geometry.name:  # pragma: no cover - layers use 'geometry'
            grids2 = grids2.rename_geometry(g2.geometry.name)

        # first-level grids: the union of their children, where a child changed shape or parent
        old_parent = dict(zip(self.codes, self.parents, strict=True))
        new_parent = dict(zip(grids2["code"], grids2["parent"], strict=True))
        dirty = {old_parent[c] for c in changed_geom | retired if c in old_parent}
        dirty |= {new_parent[c] for c in changed_geom if c in new_parent}
        dirty |= {
            old_parent[c] for c in old_parent if c in new_parent and old_parent[c] != new_parent[c]
        }
        dirty |= {
            new_parent[c] for c in old_parent if c in new_parent and old_parent[c] != new_parent[c]
        }
        dirty.discard(None)
        grids1 = d.grids1
        communities = set()
        if dirty or self.community_attrs:
            grids1 = d.grids1.copy()
            g1_geoms = list(grids1.geometry)
            by_parent: dict[str, list] = {}
            for p, g in zip(grids2["parent"], grids2.geometry, strict=True):
                if p in dirty:
                    by_parent.setdefault(p, []).append(g)
            for i, code in enumerate(grids1["code"]):
                if code in dirty:
                    kids = by_parent.get(code)
                    if not kids:
                        raise InputError(f"community {code} would have no second-level grid left")
                    union = geo.tidy(_union(kids))
                    if not geo.same(union, g1_geoms[i]):
                        g1_geoms[i] = union
                        communities.add(code)
                for col, value in self.community_attrs.get(code, {}).items():
                    if grids1.at[grids1.index[i], col] != value:
                        grids1.at[grids1.index[i], col] = value
                        communities.add(code)
            grids1 = grids1.set_geometry(
                gpd.GeoSeries(g1_geoms, index=grids1.index, crs=grids1.crs)
            )

        units, moved = self._units(grids2, changed_geom, retired)
        new = dataclasses.replace(d, grids1=grids1, grids2=grids2, units=units)
        result = EditResult(
            kind=kind,
            touched=tuple(sorted(touched - set(self.created))),
            created=tuple(sorted(self.created)),
            retired=tuple(sorted(retired)),
            recoded=tuple(sorted((a, b) for a, b in self.successor.items() if a in self.recodes)),
            communities=tuple(sorted(communities)),
            units=tuple(sorted(moved)),
            notes=tuple(self.notes),
        )
        return new, result

    def _units(self, grids2, changed_geom, retired):
        d = self.d
        units = d.units
        if not len(units):
            return units, []
        grid = np.array([str(g) if g is not None else None for g in units["grid"]], dtype=object)
        override = np.full(len(units), None, dtype=object)
        if OVERRIDE in units.columns:
            override[:] = [reason(v) for v in units[OVERRIDE]]
        new_grid, new_override = grid.copy(), override.copy()
        codes = units["code"].to_numpy()
        # explicit moves
        for i in np.flatnonzero(np.isin(codes, list(self.unit_moves))):
            new_grid[i], new_override[i] = self.unit_moves[codes[i]]
        # codes that go on under another code
        for old, new in self.successor.items():
            new_grid[new_grid == old] = new
        # overrides naming a grid that is gone
        gone = np.isin(new_grid, list(retired)) & (new_override != None)  # noqa: E711
        for i in np.flatnonzero(gone):
            self.notes.append(
                f"Unit {codes[i]} was assigned to grid {new_grid[i]} by hand ({new_override[i]}); "
                "that grid is gone, so it now follows the geometry."
            )
            new_override[i] = None
        # units that follow the geometry, in grids that changed shape or are gone
        follow = np.isin(new_grid, list(changed_geom | retired)) & (new_override == None)  # noqa: E711
        idx = np.flatnonzero(follow)
        if len(idx):
            cand = [c for c in grids2["code"] if c in changed_geom]
            where = dict(zip(grids2["code"], grids2.geometry, strict=True))
            cgeoms = np.asarray([where[c] for c in cand], dtype=object)
            pts = units.geometry.to_numpy()[idx]
            inside = np.zeros((len(cand), len(idx)), dtype=bool)
            for k, g in enumerate(cgeoms):
                shapely.prepare(g)
                inside[k] = shapely.covers(g, pts)
            everywhere = None
            for col, i in enumerate(idx):
                hits = [cand[k] for k in np.flatnonzero(inside[:, col])]
                if not hits:  # a unit that was elsewhere (an override just dropped, say)
                    if everywhere is None:
                        all_codes = np.array([str(c) for c in grids2["code"]], dtype=object)
                        everywhere = (all_codes, STRtree(grids2.geometry.to_numpy()))
                    all_codes, tree = everywhere
                    hits = sorted(all_codes[tree.query(pts[col], predicate="intersects")])
                    if not hits:
                        hits = [all_codes[tree.nearest(pts[col])]]
                if new_grid[i] not in hits:
                    new_grid[i] = hits[0]
        moved = [codes[i] for i in np.flatnonzero(new_grid != grid)]
        if not moved and (new_override == override).all():
            return units, []
        units = units.copy()
        units["grid"] = pd.Series(list(new_grid), index=units.index, dtype=object)
        if OVERRIDE in units.columns or (new_override != None).any():  # noqa: E711
            cols = [c for c in units.columns if c != units.geometry.name]
            units[OVERRIDE] = pd.Series(list(new_override), index=units.index, dtype=object)
            if OVERRIDE not in cols:
                cols.append(OVERRIDE)
            units = units[[*cols, units.geometry.name]]
        return units, moved


def _neighbours(change: _Change, a: int, b: int) -> bool:
    return geo.shares_edge(change.geoms[a], change.geoms[b])


# ====================================================================== edits
_KINDS: dict[str, type[Edit]] = {}


class Edit:
    """Base of the edits: JSON round trip and the common ``apply`` contract."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``kind`` and the edit's fields (points as [lon, lat] lists)."""

        def plain(v):
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            return v

        return {
            "kind": self.kind,
            **{f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)},
        }

    @staticmethod
    def from_dict(data) -> Edit:
        return edit_from_dict(data)

    def apply(
        self, district: District, *, retired: Collection[str] = ()
    ) -> tuple[District, EditResult]:
        """The edited district and what changed. ``retired``: codes once used and retired (in
        earlier versions or earlier edits of the draft), never given to a new grid."""
        change = _Change(district)
        self._apply(change, frozenset(retired))
        return change.finish(self.kind)

    def _apply(self, change: _Change, retired: frozenset) -> None:  # pragma: no cover
        raise NotImplementedError


def edit_from_dict(data) -> Edit:
    """The edit a dict from :meth:`Edit.to_dict` describes; :class:`InputError` if it is not
    one."""
    if not isinstance(data, dict):
        raise InputError(f"an edit must be an object, got {type(data).__name__}")
    kind = data.get("kind")
    cls = _KINDS.get(kind)
    if cls is None:
        raise InputError(f"unknown edit kind {kind!r} (known: {', '.join(sorted(_KINDS))})")
    names = [f.name for f in dataclasses.fields(cls)]
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    unknown = sorted(set(data) - {"kind", *names})
    if unknown:
        raise InputError(f"edit {kind} has no field {', '.join(unknown)}")
    missing = [n for n in required if n not in data]
    if missing:
        raise InputError(f"edit {kind} needs {', '.join(missing)}")
    return cls(**{n: data[n] for n in names if n in data})


# ---------------------------------------------------------------------- move a boundary
@dataclass(frozen=True)
class MoveBoundary(Edit):
    """Redraw part of the boundary between two neighbouring grids.

    ``line`` starts and ends on the boundary the two grids share (within :data:`SNAP_M`) and
    runs inside them; the area between the old boundary and the line changes owner, so the line
    becomes the new boundary. ``codes`` names the two grids when the ends alone are ambiguous
    (both on the same two triple points).
    """

    kind: ClassVar[str] = "move_boundary"
    line: tuple[tuple[float, float], ...]
    codes: tuple[str, ...] | None = None

    def __post_init__(self):
        _set(self, "line", _line(self.line))
        if self.codes is not None:
            codes = _codes(self.codes, "codes")
            if len(set(codes)) != 2:
                raise InputError("codes must name two different grids")
            _set(self, "codes", codes)

    def _apply(self, change: _Change, retired) -> None:
        line = geo.line_from_coords(self.line)
        start, end = shapely.get_point(line, 0), shapely.get_point(line, -1)
        a, b, edge = self._pair(change, start, end, line)
        ca, cb = change.codes[a], change.codes[b]
        union = shapely.union_all([change.geoms[a], change.geoms[b]])
        # snap the ends onto the shared edge, and keep the line inside the two grids
        s, _ = geo.snap_to(start, edge)
        e, _ = geo.snap_to(end, edge)
        line = geo.replace_end(line, s, e)
        line = geo.snap_line(line, shapely.boundary(union), ends=False)
        outside = shapely.difference(geo.metres(line), shapely.buffer(geo.metres(union), SNAP_M))
        if shapely.length(outside) > 0:
            raise InputError(
                f"the line leaves grids {ca} and {cb} ({fmt_m(float(shapely.length(outside)))} of it "
                "runs outside them): a moved boundary stays between its two grids"
            )
        # the old stretch of boundary between the line's ends
        d1, d2 = sorted((shapely.line_locate_point(edge, s), shapely.line_locate_point(edge, e)))
        old = shapely.ops.substring(edge, d1, d2) if d2 > d1 else shapely.LineString()
        if edge.is_closed and d2 > d1:
            other = shapely.union_all(
                [shapely.ops.substring(edge, d2, edge.length), shapely.ops.substring(edge, 0, d1)]
            )
            if shapely.length(other) < shapely.length(old):
                old = shapely.line_merge(other)
        cross = shapely.get_parts(shapely.intersection(line, edge))
        pos = shapely.line_locate_point(edge, shapely.points(shapely.get_coordinates(cross)))
        lo, hi = d1 - 1e-6, d2 + 1e-6  # degrees: ends rounded to the grid lie within 1e-7
        if (
            len(pos)
            and not edge.is_closed
            and ((pos < lo) | (pos > hi)).any()
            and shapely.length(old) < shapely.length(edge)
        ):
            raise InputError(
                f"the line crosses the boundary of grids {ca} and {cb} beyond its own ends: "
                "start and end it where the new boundary leaves the old one"
            )
        loops = shapely.polygonize(
            shapely.get_parts(shapely.union_all([old, line], grid_size=geo.GRID))
        )
        loops = shapely.union_all(shapely.get_parts(loops))
        if loops.is_empty:
            raise InputError(
                f"the line does not move the boundary of grids {ca} and {cb}: it must leave the "
                "boundary and come back to it"
            )

        swap = {ca: cb, cb: ca}
        flipped: list = []

        def assign(faces, owners):
            # the faces between the old boundary and the line change sides
            inside = shapely.area(shapely.intersection(faces, loops)) > 0.5 * shapely.area(faces)
            out = [swap.get(o, o) if flip else o for o, flip in zip(owners, inside, strict=True)]
            flipped[:] = [f for f, o, n in zip(faces, owners, out, strict=True) if o != n]
            return out

        result = change.retile([a, b], [line], assign)
        moved = geo.area_m2(shapely.union_all(flipped)) if flipped else 0.0
        if moved < MIN_PIECE_M2:
            raise InputError(
                f"the line does not move the boundary of grids {ca} and {cb} (it changes "
                f"{moved:.2f} m²): it must leave the boundary and come back to it"
            )
        for code in (ca, cb):
            if code not in result:
                raise InputError(
                    f"the line would leave grid {code} with no area: to join the two grids, "
                    "merge them"
                )

    def _pair(self, change, start, end, line):
        near_s = change.tree.query(start, predicate="dwithin", distance=SNAP_M * 2e-5)
        near_e = change.tree.query(end, predicate="dwithin", distance=SNAP_M * 2e-5)
        if self.codes is not None:
            pairs = [tuple(change.grid(c) for c in self.codes)]
        else:
            both = sorted(set(near_s) & set(near_e))
            pairs = [(i, j) for k, i in enumerate(both) for j in both[k + 1 :]]
        found = []
        for i, j in pairs:
            edge = geo.shared_edge(change.geoms[i], change.geoms[j])
            if shapely.length(edge) == 0:
                continue
            for part in shapely.get_parts(edge):
                if geo.distance_m(start, part) <= SNAP_M and geo.distance_m(end, part) <= SNAP_M:
                    found.append((i, j, part))
                    break
        if self.codes is not None and not found:
            ca, cb = self.codes
            i, j = pairs[0]
            edge = geo.shared_edge(change.geoms[i], change.geoms[j])
            if shapely.length(edge) == 0:
                raise InputError(f"grids {ca} and {cb} are not neighbours: they share no boundary")
            ds, de = geo.distance_m(start, edge), geo.distance_m(end, edge)
            raise InputError(
                f"the line must start and end on the boundary of grids {ca} and {cb} (its start "
                f"is {fmt_m(ds)} and its end {fmt_m(de)} from it)"
            )
        if not found:
            raise InputError(
                "the line must start and end on the boundary shared by two neighbouring grids "
                f"(within {fmt_m(SNAP_M)}): its start is near {_which(change, near_s, start)}, "
                f"its end near {_which(change, near_e, end)}"
            )
        if len(found) > 1:
            # both ends on the same triple points: the pair the line runs through
            mid = shapely.line_interpolate_point(line, 0.5, normalized=True)
            found = [
                f
                for f in found
                if shapely.covers(shapely.union_all([change.geoms[f[0]], change.geoms[f[1]]]), mid)
            ] or found
            if len(found) > 1:
                names = "; ".join(f"{change.codes[i]} and {change.codes[j]}" for i, j, _ in found)
                raise InputError(
                    f"the line's ends lie on several shared boundaries ({names}): name the two grids"
                )
        return found[0]


def _which(change, idx, point) -> str:
    close = [
        change.codes[i]
        for i in idx
        if geo.distance_m(point, shapely.boundary(change.geoms[i])) <= SNAP_M
    ]
    if not close:
        return "no grid boundary"
    return "the boundary of " + ", ".join(sorted(close))


# ---------------------------------------------------------------------- split
@dataclass(frozen=True)
class Split(Edit):
    """Cut a grid in two along ``line``, which crosses it from edge to edge (ends within
    :data:`SNAP_M` of its boundary are snapped onto it). The two pieces get new codes by the
    numbering rule, in reading order; the old code is retired. Both keep the grid's kind; their
    worker is left empty (to be set before publishing)."""

    kind: ClassVar[str] = "split"
    code: str
    line: tuple[tuple[float, float], ...]

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "line", _line(self.line))

    def _apply(self, change: _Change, retired) -> None:
        i = change.grid(self.code)
        grid = change.geoms[i]
        line = geo.line_from_coords(self.line)
        rim = shapely.boundary(grid)
        ends = []
        for p in (shapely.get_point(line, 0), shapely.get_point(line, -1)):
            if shapely.covers(grid, p):
                p, _ = geo.snap_to(p, rim)
            ends.append(p)
        line = geo.snap_line(geo.replace_end(line, *ends), rim, ends=False)
        cut = shapely.intersection(line, grid, grid_size=geo.GRID)
        if shapely.length(cut) == 0:
            raise InputError(f"the line does not cross grid {self.code}")
        code = self.code

        def assign(faces, owners):
            # each face of the grid is a piece: inside it, faces only meet along the cut
            return [("piece", k) if o == code else o for k, o in enumerate(owners)]

        new = change.retile([i], [cut], assign)
        pieces = [g for k, g in new.items() if isinstance(k, tuple)]
        count = len(pieces)
        if count <= shapely.get_num_geometries(grid):
            raise InputError(
                f"the line does not cut grid {self.code} into two parts: it must cross the grid "
                "from one edge to another"
            )
        if count > 2:
            raise InputError(
                f"the line cuts grid {self.code} into {count} parts: a split makes two, so draw "
                "a line that crosses the grid once"
            )
        small = min(geo.area_m2(g) for g in pieces)
        if small < MIN_PIECE_M2:
            raise InputError(
                f"the line cuts only {small:.2f} m² off grid {self.code}: too small for a grid"
            )
        row = change.row(self.code)
        parent = row["parent"]
        new_codes = next_codes(change.d, parent, retired | {self.code}, 2)
        cname = change.community(parent)["name"] if parent in change.d._grid1_index else None
        for code_new, k in zip(new_codes, geo.reading_order(pieces), strict=True):
            change.create(
                code_new,
                pieces[k],
                name=default_name(cname, code_new),
                parent=parent,
                kind=row.get("kind"),
            )
        change.retire(self.code)


# ---------------------------------------------------------------------- merge
@dataclass(frozen=True)
class Merge(Edit):
    """Join neighbouring grids of one community into the first one named: it keeps its code,
    name and worker; the other codes retire and their units join it."""

    kind: ClassVar[str] = "merge"
    codes: tuple[str, ...]

    def __post_init__(self):
        codes = _codes(self.codes, "codes")
        if len(set(codes)) < 2:
            raise InputError("a merge needs at least two different grids")
        if len(set(codes)) != len(codes):
            raise InputError("a merge names each grid once")
        _set(self, "codes", codes)

    def _apply(self, change: _Change, retired) -> None:
        idx = [change.grid(c) for c in self.codes]
        parents = {change.codes[i]: change.parents[i] for i in idx}
        if len(set(parents.values())) > 1:
            detail = ", ".join(f"{c} in {p}" for c, p in parents.items())
            raise InputError(
                f"grids of different communities cannot be merged ({detail}): move one to the "
                "other community first"
            )
        # connected through shared edges
        linked = {idx[0]}
        todo = [idx[0]]
        while todo:
            a = todo.pop()
            for b in idx:
                if b not in linked and _neighbours(change, a, b):
                    linked.add(b)
                    todo.append(b)
        if len(linked) < len(idx):
            alone = [change.codes[i] for i in idx if i not in linked]
            raise InputError(
                f"grids {', '.join(alone)} are not neighbours of the others: merged grids must "
                "share edges"
            )
        keep = self.codes[0]
        merged = geo.tidy(shapely.coverage_union_all(change.geoms[idx]))
        change.new_geoms[keep] = merged
        for code in self.codes[1:]:
            change.retire(code, successor=keep)


# ---------------------------------------------------------------------- drag a vertex
@dataclass(frozen=True)
class DragVertex(Edit):
    """Move a vertex shared by one or more grids (``source``, within :data:`SNAP_M` of it) to
    ``target``: every grid with that vertex follows, so shared edges stay shared. Refused when a
    grid would cross itself or overlap another, and for vertices of the district outline."""

    kind: ClassVar[str] = "drag_vertex"
    source: tuple[float, float]
    target: tuple[float, float]

    def __post_init__(self):
        _set(self, "source", _point(self.source, "source"))
        _set(self, "target", _point(self.target, "target"))

    def _apply(self, change: _Change, retired) -> None:
        src = shapely.Point(self.source)
        near = change.tree.query(src, predicate="dwithin", distance=SNAP_M * 2e-5)
        best, vertex = math.inf, None
        for i in near:
            xy = shapely.get_coordinates(change.geoms[i])
            d = shapely.distance(geo.metres(shapely.points(xy)), geo.metres(src))
            k = int(np.argmin(d))
            if d[k] < best:
                best, vertex = float(d[k]), tuple(xy[k])
        if vertex is None or best > SNAP_M:
            raise InputError(
                f"no grid vertex within {fmt_m(SNAP_M)} of {self.source[0]:.7f}, {self.source[1]:.7f}"
            )
        outline = change.d.territory()
        if geo.distance_m(shapely.Point(vertex), shapely.boundary(outline)) < 0.005:
            raise InputError("the vertex lies on the district outline, which edits do not move")
        target = geo.on_grid(shapely.Point(self.target))
        tx, ty = shapely.get_coordinates(target)[0]
        if (tx, ty) == vertex:
            raise InputError("the vertex is already there")
        _move_vertices(change, {vertex: (float(tx), float(ty))}, "the vertex")


def _move_vertices(change: _Change, moves: dict, what: str) -> None:
    """Move grid vertices (``moves``: exact stored coordinates to their new places, on the
    storage grid) in every grid that has them, so shared edges stay shared, and record the new
    geometries. Refused (nothing recorded) when a grid would cross itself or overlap another, or
    the grids would no longer form a coverage; ``what`` names the moved thing in the reason
    ("the vertex", "the edge")."""
    points = shapely.points(np.asarray(list(moves), dtype=float))
    near = np.unique(change.tree.query(points, predicate="dwithin", distance=1e-9)[1])
    keys = set(moves)
    moved = []
    for i in near:
        xy = shapely.get_coordinates(change.geoms[i])
        if any((float(x), float(y)) in keys for x, y in xy):
            moved.append(int(i))

    def move(coords):
        coords = coords.copy()
        for k, (x, y) in enumerate(coords):
            to = moves.get((float(x), float(y)))
            if to is not None:
                coords[k] = to
        return coords

    new = {change.codes[i]: shapely.transform(change.geoms[i], move) for i in moved}
    for code, g in new.items():
        if not shapely.is_valid(g):
            raise InputError(
                f"moving {what} there would make grid {code} cross itself "
                f"({shapely.is_valid_reason(g)})"
            )
    geoms = np.asarray(list(new.values()), dtype=object)
    others = np.setdiff1d(change.tree.query(geoms, predicate="intersects")[1], moved)
    for code, g in new.items():
        for k in others:
            if shapely.area(shapely.intersection(g, change.geoms[k])) > 0:
                raise InputError(
                    f"moving {what} there would make grid {code} overlap grid {change.codes[k]}"
                )
    for x, code_a in enumerate(new):
        for code_b in list(new)[x + 1 :]:
            if shapely.area(shapely.intersection(new[code_a], new[code_b])) > 0:
                raise InputError(
                    f"moving {what} there would make grids {code_a} and {code_b} overlap"
                )
    if not shapely.coverage_is_valid(np.concatenate([geoms, change.geoms[others]])):
        raise InputError(
            f"moving {what} there would break the edges the grids share: move it less far"
        )
    for code, g in new.items():
        change.new_geoms[code] = geo.tidy(g)


# ---------------------------------------------------------------------- move a grid
@dataclass(frozen=True)
class MoveGridToCommunity(Edit):
    """Move a second-level grid into a neighbouring community. It gets the next free code of
    that community (the old code retires; the sample's default name follows the new number) and
    both communities' outlines are rebuilt from their grids."""

    kind: ClassVar[str] = "move_grid"
    code: str
    community: str

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "community", _code(self.community, "community"))

    def _apply(self, change: _Change, retired) -> None:
        i = change.grid(self.code)
        target = change.community(self.community)
        source = change.parents[i]
        if source == self.community:
            raise InputError(f"grid {self.code} is already in community {self.community}")
        if change.parents.count(source) == 1:
            raise InputError(
                f"grid {self.code} is the only grid of community {source}: it cannot leave it"
            )
        touching = [
            k
            for k in change.near(change.geoms[i])
            if change.parents[k] == self.community and _neighbours(change, i, k)
        ]
        if not touching:
            raise InputError(
                f"grid {self.code} does not touch community {self.community}: a grid moves only "
                "to a neighbouring community"
            )
        (new_code,) = next_codes(change.d, self.community, retired, 1)
        row = change.row(self.code)
        name = row.get("name")
        if source in change.d._grid1_index and name == default_name(
            change.community(source)["name"], self.code
        ):
            name = default_name(target["name"], new_code)
        values = {k: v for k, v in row.items() if k not in ("geometry", "code")}
        values.update(parent=self.community, name=name)
        change.create(new_code, change.geoms[i], **values)
        change.retire(self.code, successor=new_code)
        change.recodes = {self.code}
        change.new_geoms.pop(self.code, None)
        change.attrs.pop(self.code, None)
        change.notes.append(f"Grid {self.code} is now {new_code} in community {self.community}.")


# ---------------------------------------------------------------------- units
@dataclass(frozen=True)
class MoveUnit(Edit):
    """Put a unit in another grid by hand, with a reason: an override the unit keeps through
    later geometry edits (shown as such). Moving it to the grid it stands in ends the
    override."""

    kind: ClassVar[str] = "move_unit"
    unit: str
    grid: str
    reason: str

    def __post_init__(self):
        _set(self, "unit", _code(self.unit, "unit"))
        _set(self, "grid", _code(self.grid, "grid"))
        _set(self, "reason", _text(self.reason, "reason"))

    def _apply(self, change: _Change, retired) -> None:
        units = change.d.units
        hit = np.flatnonzero(units["code"].to_numpy() == self.unit)
        if not len(hit):
            raise InputError(f"no unit with code {self.unit}")
        k = change.grid(self.grid)
        u = units.iloc[hit[0]]
        current = u["grid"]
        override = reason(u.get(OVERRIDE)) if OVERRIDE in units.columns else None
        stands = bool(shapely.covers(change.geoms[k], u.geometry))
        if current == self.grid and (override is None or stands):
            raise InputError(f"unit {self.unit} is already in grid {self.grid}")
        if stands:
            change.unit_moves[self.unit] = (self.grid, None)
            change.notes.append(
                f"Unit {self.unit} stands in grid {self.grid}: it follows the geometry again."
            )
        else:
            change.unit_moves[self.unit] = (self.grid, self.reason)


# ---------------------------------------------------------------------- attributes
@dataclass(frozen=True)
class Rename(Edit):
    """Give a second-level grid or a community (first-level grid) a new name."""

    kind: ClassVar[str] = "rename"
    code: str
    name: str

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "name", _text(self.name, "name"))

    def _apply(self, change: _Change, retired) -> None:
        if self.code in change.index:
            if change.row(self.code).get("name") == self.name:
                raise InputError(f"grid {self.code} is already named {self.name}")
            change.set_attrs(self.code, name=self.name)
            return
        if self.code not in change.d._grid1_index:
            raise InputError(f"no grid or community with code {self.code}")
        row = change.community(self.code)
        if row["name"] == self.name:
            raise InputError(f"community {self.code} is already named {self.name}")
        change.community_attrs[self.code] = {"name": self.name}


@dataclass(frozen=True)
class Recode(Edit):
    """Give a second-level grid another code of its community (community code + 3 digits),
    neither in use nor retired. Its units follow; the old code retires."""

    kind: ClassVar[str] = "recode"
    code: str
    new_code: str

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "new_code", _code(self.new_code, "new_code"))

    def _apply(self, change: _Change, retired) -> None:
        i = change.grid(self.code)
        parent = change.parents[i]
        new = self.new_code
        if new == self.code:
            raise InputError(f"grid {self.code} already has that code")
        if not (len(new) == len(parent) + 3 and new.startswith(parent) and new[-3:].isdigit()):
            raise InputError(
                f"code {new} does not follow the numbering rule: a grid of community {parent} is "
                f"coded {parent} followed by 3 digits"
            )
        if new in change.index or new in change.d._grid1_index:
            raise InputError(f"code {new} is already in use")
        if new in retired:
            raise InputError(f"code {new} was used before and is retired: it is never reused")
        if new[-3:] == "000":
            raise InputError("grid numbers start at 001")
        row = change.row(self.code)
        values = {k: v for k, v in row.items() if k not in ("geometry", "code")}
        change.create(new, change.geoms[i], **values)
        change.retire(self.code, successor=new)
        change.recodes = {self.code}


@dataclass(frozen=True)
class SetWorker(Edit):
    """Name a second-level grid's worker and phone (an empty name leaves the post vacant)."""

    kind: ClassVar[str] = "set_worker"
    code: str
    name: str | None
    phone: str | None = None

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "name", _text(self.name, "worker name", empty=True))
        phone = _text(self.phone, "phone", empty=True)
        if phone is not None and not _PHONE_RE.fullmatch(phone):
            raise InputError(f"phone {phone!r} is not a phone number (digits, +, -, spaces)")
        if phone is not None and self.name is None:
            raise InputError("a phone needs a worker's name")
        _set(self, "phone", phone)

    def _apply(self, change: _Change, retired) -> None:
        row = change.row(self.code)
        if row.get("worker") == self.name and row.get("worker_phone") == self.phone:
            raise InputError(f"grid {self.code} already has that worker")
        change.set_attrs(self.code, worker=self.name, worker_phone=self.phone)


# ---------------------------------------------------------------------- replace the grids
#: The attributes of an imported second-level grid (``ReplaceGrids.grids`` features).
REPLACE_FIELDS = ("code", "name", "parent", "kind", "worker", "worker_phone")
#: The attributes of an imported first-level grid (``ReplaceGrids.communities`` features).
COMMUNITY_FIELDS = (
    "code", "name", "parent", "leader", "leader_title", "leader_phone", "office", "office_phone",
)  # fmt: skip
#: Most grids one import carries.
MAX_IMPORTED = 20_000
#: Least share of the district's territory the imported grids must cover (else the layer is in
#: another place: a wrong coordinate system).
MIN_COVER = 0.5
#: Most area (share of the district's) the imported grids may have outside it (more: a shift).
MAX_OUTSIDE = 0.05


def _features(value, what: str) -> list[dict]:
    if not isinstance(value, dict) or value.get("type") != "FeatureCollection":
        raise InputError(f"{what} must be a GeoJSON FeatureCollection")
    feats = value.get("features")
    if not isinstance(feats, list):
        raise InputError(f"{what}: features must be a list")
    if len(feats) > MAX_IMPORTED:
        raise InputError(f"{what} holds {len(feats)} features, at most {MAX_IMPORTED:,}")
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or not isinstance(f.get("properties"), dict):
            raise InputError(f"{what}: feature {i + 1} has no properties")
    return feats


def _props(props: dict, fields, where: str) -> dict:
    out = {}
    for name in fields:
        if name not in props:
            continue
        value = props[name]
        if value is not None and not isinstance(value, str):
            value = str(value)
        out[name] = _text(value, f"{where}: {name}", empty=True)
    if not out.get("code"):
        raise InputError(f"{where} has no code")
    return out


def _polygon(feature: dict, where: str):
    geom = feature.get("geometry")
    if not isinstance(geom, dict):
        raise InputError(f"{where} has no geometry")
    if geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise InputError(
            f"{where} is a {geom.get('type')}: second-level grids are polygons (Polygon or "
            "MultiPolygon)"
        )
    try:
        shape = shapely.geometry.shape(geom)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(f"{where}: the geometry cannot be read ({exc})") from None
    if shape.is_empty:
        raise InputError(f"{where} has an empty geometry")
    xmin, ymin, xmax, ymax = shapely.bounds(shape)
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise InputError(f"{where}: coordinates are not longitude/latitude in WGS-84")
    return shape


def _union(geoms):
    """The union of a community's grids: their coverage union, or when they do not form a
    coverage (an imported layer with gaps or overlaps, which validation reports) their plain
    union on the storage grid."""
    geoms = np.asarray(geoms, dtype=object)
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms, grid_size=geo.GRID)


def on_storage_grid(geom):
    """An imported geometry with each vertex rounded to the storage grid on its own (vertices
    on it already stay exactly where they are, two equal vertices stay equal, and nothing is
    repaired: validation reports what is wrong)."""
    rounded = shapely.set_precision(geom, geo.GRID, mode="pointwise")
    return shapely.remove_repeated_points(rounded, 0.0)


@dataclass(frozen=True)
class ReplaceGrids(Edit):
    """Replace the second-level grids with those of a layer edited elsewhere (QGIS, say).

    ``grids`` is a GeoJSON FeatureCollection (WGS-84) of the new second-level grids with
    their attributes (:data:`REPLACE_FIELDS`: ``code`` required; an attribute the layer does
    not carry at all keeps each grid's value from the base; ``parent`` defaults to the first 12
    digits of the code). ``communities`` optionally carries first-level grids (attributes only:
    their outline is always the union of their grids), used for communities the base lacks;
    those it has keep their attributes. ``source`` names the file, for the record.

    Geometries are put on the storage grid (coordinates on it already stay exactly as they
    are, so an unmodified export changes nothing); a grid whose shape is the base's keeps the
    base's geometry. Base grids missing from the layer retire; new codes are created (a code
    retired before may not come back). Units are re-assigned by geometry (a unit placed by hand
    keeps its grid while that grid exists). Gaps, overlaps and bad nesting are not fixed: the
    draft's validation reports them, and publishing refuses.
    """

    kind: ClassVar[str] = "replace_grids"
    grids: dict
    communities: dict | None = None
    source: str | None = None

    __hash__ = None  # the collections are dicts

    def __post_init__(self):
        feats = _features(self.grids, "grids")
        if not feats:
            raise InputError("the layer has no second-level grids")
        rows, seen = [], set()
        for i, f in enumerate(feats):
            where = f"grid feature {i + 1}"
            props = _props(f["properties"], REPLACE_FIELDS, where)
            code = props["code"]
            where = f"grid {code}"
            if code in seen:
                raise InputError(f"code {code} is used by more than one grid of the layer")
            seen.add(code)
            phone = props.get("worker_phone")
            if phone is not None and not _PHONE_RE.fullmatch(phone):
                raise InputError(f"{where}: phone {phone!r} is not a phone number")
            rows.append((props, _polygon(f, where)))
        communities = {}
        if self.communities is not None:
            for i, f in enumerate(_features(self.communities, "communities")):
                props = _props(f["properties"], COMMUNITY_FIELDS, f"community feature {i + 1}")
                communities[props["code"]] = props
        _set(self, "source", _text(self.source, "source", empty=True))
        _set(self, "_rows", tuple(rows))
        _set(self, "_communities", communities)
        _set(self, "_fields", frozenset(k for p, _ in rows for k in p))

    def _apply(self, change: _Change, retired) -> None:
        d = change.d
        rows = self._rows
        # where the layer lies: over the district, or somewhere else (a wrong CRS)
        territory = d.territory()
        imported = shapely.union_all(np.asarray([g for _, g in rows], dtype=object))
        whole = max(geo.area_m2(territory), 1e-9)
        share = geo.area_m2(shapely.intersection(territory, imported)) / whole
        outside = geo.area_m2(shapely.difference(imported, territory)) / whole
        if share < MIN_COVER or outside > MAX_OUTSIDE:
            raise InputError(
                f"the layer's grids cover {share:.0%} of district {d.code} and reach "
                f"{outside:.0%} of its area beyond it: they lie elsewhere, so the coordinate "
                "system is probably wrong (name the layer's CRS)"
            )
        codes = [p["code"] for p, _ in rows]
        back = sorted(c for c in codes if c not in change.index and c in retired)
        if back:
            raise InputError(
                f"code{'s' if len(back) > 1 else ''} {', '.join(back)} "
                f"{'were' if len(back) > 1 else 'was'} used before and retired: a retired code "
                "never comes back (give the grid a new code)"
            )
        parents = {}
        for props, _ in rows:
            code = props["code"]
            parent = props.get("parent")
            if parent is None:
                parent = (
                    change.parents[change.index[code]]
                    if "parent" not in self._fields and code in change.index
                    else code[:12]
                )
            parents[code] = parent
        known = set(d._grid1_index)
        unknown = sorted({p for p in parents.values() if p not in known} - set(self._communities))
        if unknown:
            raise InputError(
                f"unknown communit{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)} "
                f"(the parent of grid {next(c for c, p in parents.items() if p in unknown)}): "
                "fix the code or parent, or import the first-level grids with it"
            )
        new_communities = sorted({p for p in parents.values() if p not in known})
        if new_communities:
            extra = [
                {**{c: None for c in d.grids1.columns if c != "geometry"},
                 **self._communities[p], "code": p}
                for p in new_communities
            ]  # fmt: skip
            holder = [
                shapely.union_all([g for (pr, g) in rows if parents[pr["code"]] == p])
                for p in new_communities
            ]
            added = gpd.GeoDataFrame(
                pd.DataFrame.from_records(extra, columns=list(d.grids1.columns[:-1])),
                geometry=holder,
                crs=d.grids1.crs,
            )
            grids1 = pd.concat([d.grids1, added], ignore_index=True)
            change.d = dataclasses.replace(d, grids1=gpd.GeoDataFrame(grids1, crs=d.grids1.crs))
        # the grids
        carried = [f for f in REPLACE_FIELDS if f in self._fields and f != "code"]
        for props, geom in rows:
            code = props["code"]
            geom = geo.tidy(on_storage_grid(geom))
            values = {f: props.get(f) for f in carried}
            values["parent"] = parents[code]
            if code not in change.index:
                change.create(code, geom, **values)
                continue
            i = change.index[code]
            if not geo.same(geom, change.geoms[i]):
                change.new_geoms[code] = geom
            row = d.grids2.iloc[i]
            diff = {k: v for k, v in values.items() if reason(row.get(k)) != v}
            if diff:
                change.set_attrs(code, **diff)
        incoming = set(codes)
        for code in change.codes:
            if code not in incoming:
                change.retire(code)
        touched = len(set(change.new_geoms) | set(change.attrs))
        change.notes.append(
            f"Imported {len(rows)} grids{f' from {self.source}' if self.source else ''}: "
            f"{touched} changed, {len(change.created)} new, {len(change.retired)} retired."
        )
        for p in new_communities:
            change.notes.append(f"New community {p} from the imported first-level grids.")


#: Longest drag of an edge (metres): farther than this is a slip of the hand, not a drag.
MAX_DRAG_M = 5_000.0


def _offset(value, what: str) -> tuple[float, float]:
    try:
        if isinstance(value, (str, bytes)) or any(isinstance(v, (str, bool)) for v in value):
            raise TypeError
        dx, dy = value
        dx, dy = float(dx), float(dy)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a [dx, dy] pair of metres, got {value!r}") from None
    if not (math.isfinite(dx) and math.isfinite(dy)):
        raise InputError(f"{what} must be a [dx, dy] pair of metres, got {value!r}")
    if math.hypot(dx, dy) > MAX_DRAG_M:
        raise InputError(
            f"{what} moves the edge {fmt_m(math.hypot(dx, dy))}: at most {fmt_m(MAX_DRAG_M)}"
        )
    return (dx, dy)


@dataclass(frozen=True)
class DragEdge(Edit):
    """Move a run of the boundary grid ``code`` shares with one neighbour by ``offset`` (metres
    east and north in EPSG:4549): the run goes from the vertex at ``start`` to the vertex at
    ``end`` (each within :data:`SNAP_M`) along the shared boundary, a single segment or many,
    and every vertex of it moves by the same vector. Every grid with those vertices follows
    (the neighbour, and at the ends any third grid meeting there), so shared edges stay shared.
    ``neighbour`` names the other grid when the ends alone are ambiguous. Refused for runs
    touching the district outline, and when a grid would cross itself or overlap another, as
    :class:`DragVertex` is."""

    kind: ClassVar[str] = "drag_edge"
    code: str
    start: tuple[float, float]
    end: tuple[float, float]
    offset: tuple[float, float]
    neighbour: str | None = None

    def __post_init__(self):
        _set(self, "code", _code(self.code, "code"))
        _set(self, "start", _point(self.start, "start"))
        _set(self, "end", _point(self.end, "end"))
        _set(self, "offset", _offset(self.offset, "offset"))
        if self.neighbour is not None:
            _set(self, "neighbour", _code(self.neighbour, "neighbour"))
            if self.neighbour == self.code:
                raise InputError("neighbour must be another grid than code")

    def _apply(self, change: _Change, retired) -> None:
        i = change.grid(self.code)
        grid = change.geoms[i]
        if self.neighbour is not None:
            candidates = [change.grid(self.neighbour)]
        else:
            candidates = [int(k) for k in change.near(grid) if k != i]
        start, end = shapely.Point(self.start), shapely.Point(self.end)
        runs = []
        for k in candidates:
            edge = geo.shared_edge(grid, change.geoms[k])
            for part in shapely.get_parts(edge):
                if shapely.length(part) == 0:
                    continue
                run = _run(part, start, end)
                if run is not None:
                    runs.append((k, run))
                    break
        if not runs:
            where = f"grid {self.neighbour}" if self.neighbour else "a neighbour"
            raise InputError(
                f"start and end must be two vertices (within {fmt_m(SNAP_M)}) of the boundary "
                f"grid {self.code} shares with {where}"
            )
        if len(runs) > 1:
            names = ", ".join(change.codes[k] for k, _ in runs)
            raise InputError(
                f"start and end lie on the boundaries grid {self.code} shares with several "
                f"grids ({names}): name the neighbour"
            )
        _, run = runs[0]
        rim = shapely.boundary(change.d.territory())
        on_rim = shapely.distance(geo.metres(shapely.points(run)), geo.metres(rim)) < 0.005
        if on_rim.any():
            raise InputError(
                "the edge touches the district outline, which edits do not move: choose a run "
                "that ends before it"
            )
        x, y = to_metric(run[:, 0], run[:, 1])
        lon, lat = from_metric(np.asarray(x) + self.offset[0], np.asarray(y) + self.offset[1])
        targets = shapely.get_coordinates(geo.on_grid(shapely.points(np.column_stack([lon, lat]))))
        moves = {
            (float(a), float(b)): (float(c), float(d))
            for (a, b), (c, d) in zip(run, targets, strict=True)
        }
        moves = {k: v for k, v in moves.items() if k != v}
        if not moves:
            raise InputError("the edge is already there: drag it farther")
        _move_vertices(change, moves, "the edge")


def _run(part, start, end) -> np.ndarray | None:
    """The vertices of shared boundary ``part`` (a line) from the one nearest ``start`` to the
    one nearest ``end`` (each within :data:`SNAP_M`), the shorter way round a closed part;
    ``None`` if either is farther; :class:`InputError` if both are the same vertex."""
    xy = shapely.get_coordinates(part)
    closed = len(xy) > 2 and (xy[0] == xy[-1]).all()
    if closed:
        xy = xy[:-1]
    pts = geo.metres(shapely.points(xy))
    ds = shapely.distance(pts, geo.metres(start))
    de = shapely.distance(pts, geo.metres(end))
    a, b = int(np.argmin(ds)), int(np.argmin(de))
    if ds[a] > SNAP_M or de[b] > SNAP_M:
        return None
    if a == b:
        raise InputError("start and end are the same vertex: to move one vertex, drag it")
    lo, hi = sorted((a, b))
    inner = xy[lo : hi + 1]
    if not closed:
        return inner
    outer = np.concatenate([xy[hi:], xy[: lo + 1]])
    metric = shapely.get_coordinates(pts)
    length = lambda idx: float(np.hypot(*np.diff(metric[idx], axis=0).T).sum())  # noqa: E731
    n = len(xy)
    inner_len = length(np.arange(lo, hi + 1))
    outer_len = length(np.concatenate([np.arange(hi, n), np.arange(0, lo + 1)]))
    return inner if inner_len <= outer_len else outer


EDITS = (
    MoveBoundary,
    Split,
    Merge,
    DragVertex,
    MoveGridToCommunity,
    MoveUnit,
    Rename,
    Recode,
    SetWorker,
    ReplaceGrids,
    DragEdge,
)
