"""Validation after an edit: the grids it touched and their neighbours only.

:func:`check_edit` (or :func:`check_grids` with codes) runs the rules of
:func:`geogrid.validate.validate` on a window around the touched grids: geometry and
multi-part grids, codes, overlaps and gaps along their edges (gaps narrower than the gap width
included), nesting in their community (inside it, and the community the union of its grids),
their units in the grid they name, and the shape notices. It reuses the full validator's own
checks on the grids inside that window, so a finding reads the same either way, and it returns
a :class:`~geogrid.validate.Report`: errors block publishing, notices inform, each with the
offending geometry in WGS-84 for drawing in red.

A multi-part grid (an exclave, 飞地) is a notice when ``allow_exclaves`` (the default), an
error otherwise, as in the full validator. One rule differs from it, as the planner's workspace
wants: a unit put in a grid by hand (:class:`~geogrid.planning.edits.MoveUnit`, reason in the
``grid_override`` column) that stands in another grid is a notice naming the reason, not an
error.

:func:`agreement` proves the point: over the whole district, :func:`check_grids` and the full
validator (with that rule applied to its findings) report the same findings, message for
message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

from ..model import District
from ..validate import Finding, Report, validate
from ..validate.layers import _Layer
from ..validate.validator import _Validator
from . import geometry as geo
from .edits import OVERRIDE, EditResult, reason

#: Margin (degrees, about 10 m) around the touched grids and their neighbours in which gaps
#: are looked for.
_WINDOW_MARGIN = 1e-4


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validator's settings and the planner's exclave rule."""

    allow_exclaves: bool = True
    gap_width_m: float = 1.0
    sliver_thinness: float = 20.0
    size_factor: float = 8.0
    tolerance_m2: float = 0.01

    def validator_args(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------- the local validator
class _Local(_Validator):
    """The full validator's checks, run on the grids of a window; findings kept for the focus."""

    def __init__(self, local: District, medians, full: bool, settings: Settings):
        super().__init__(local, **settings.validator_args())
        self.medians = medians
        self.full = full
        self.focus: set | None = None  # codes whose shapes are checked (None: all)

    def run_local(self, focus2: set, clip, focus1: set = frozenset()) -> Report:
        if not self.full:
            self.focus = focus2 | focus1
        if self.check_lonlat():
            return self.report()
        self.check_geometries(self.g1)
        self.check_geometries(self.g2)
        self.check_unit_geometries()
        self.check_codes()
        self.zones = {k: shapely.union_all(v) if v else None for k, v in self.unknown.items()}
        self.tree2 = STRtree(self.g2.usable)
        self.tree2_m = STRtree(self.g2.metric)
        flagged2, _ = self.coverage_edges(self.g2, self.gap_width)
        self.flagged2 = np.array([f is not None for f in flagged2], dtype=bool)
        if not self.full:  # edges of grids at the rim of the window are not ours to judge
            mine = np.array([c in focus2 for c in self.g2.codes], dtype=bool)
            flagged2 = np.where(mine, flagged2, None)
        self.check_overlaps(self.g2, flagged2)
        flagged1, _ = self.coverage_edges(self.g1, 0.0)
        self.check_overlaps(self.g1, flagged1)
        union = self.union(np.arange(self.g2.n))
        self.check_gaps(union if clip is None else shapely.intersection(union, clip))
        self.classify_edges(flagged2, union)
        self.check_parents()
        self.check_units()
        self.check_shapes(self.g1)
        self.check_shapes(self.g2)
        return self.report()

    def shape_indices(self, layer: _Layer) -> np.ndarray:
        """The shape notices of the focus only (the full validator's checks)."""
        idx = super().shape_indices(layer)
        if self.focus is not None:
            idx = idx[[layer.codes[i] in self.focus for i in idx]]
        return idx

    def median_area(self, layer: _Layer, areas: np.ndarray) -> float:
        """Sizes compared with the median of the whole layer, not of the focus."""
        return self.medians[layer.name]


def _median(geoms) -> float:
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    ok[ok] = shapely.is_valid(geoms[ok]) & np.isin(shapely.get_type_id(geoms[ok]), (3, 6))
    return float(np.median(geo.areas_m2(geoms[ok]))) if ok.any() else 0.0


# ---------------------------------------------------------------------- the planner's rules
def _overrides(district: District) -> dict[str, str]:
    units = district.units
    if OVERRIDE not in units.columns:
        return {}
    out = {str(c): reason(r) for c, r in zip(units["code"], units[OVERRIDE], strict=True)}
    return {c: r for c, r in out.items() if r is not None}


def adjust(report: Report, district: District) -> Report:
    """A report of the full validator with the planner's rule applied: units put in a grid by
    hand that stand in another grid are notices naming the reason."""
    overrides = _overrides(district)
    grids = set(district.grids2["code"])
    errors, notices = [], []
    for f in report.errors:
        if (
            f.check == "unit-grid-mismatch"
            and f.codes
            and f.codes[0] in overrides
            and len(f.codes) > 1
            and f.codes[1] in grids
        ):
            f = dataclasses.replace(
                f,
                severity="notice",
                message=f"{f.message} It was put there by hand: {overrides[f.codes[0]]}.",
            )
        (errors if f.severity == "error" else notices).append(f)
    notices.extend(report.notices)
    return _sorted(errors, notices)


def _sorted(errors, notices) -> Report:
    from ..validate.report import _CHECK_ORDER, _LAYER_ORDER

    def key(f: Finding):
        return (_CHECK_ORDER[f.check], _LAYER_ORDER[f.layer], f.codes, f.message)

    return Report(sorted(errors, key=key), sorted(notices, key=key))


# ---------------------------------------------------------------------- entry points
def carry(old: Report, district: District, result: EditResult, local: Report) -> Report:
    """The findings of ``district`` after an edit: those of ``old`` (the report before it)
    about grids, communities and units the edit did not come near, and ``local``'s (the
    :func:`check_edit` of the edit), so a draft's report stays whole without a full run."""
    focus = _focus(district, result.grids, result.communities, result.units)
    gone = set(result.retired)
    near = _keep(old, focus)
    mine = {id(f) for f in near.errors + near.notices}

    def stays(f) -> bool:
        return id(f) not in mine and not (set(f.codes) & gone)

    errors = [f for f in old.errors if stays(f)] + list(local.errors)
    notices = [f for f in old.notices if stays(f)] + list(local.notices)
    return _sorted(errors, notices)


def check_edit(district: District, result: EditResult, **settings) -> Report:
    """:func:`check_grids` on what an edit changed: its grids, communities and units."""
    return check_grids(
        district,
        result.grids,
        communities=result.communities,
        units=result.units,
        **settings,
    )


@dataclasses.dataclass
class _Focus:
    """What a local check looks at (indices into the district's second-level grids)."""

    asked: set  # the grids asked for
    touched: np.ndarray
    near: np.ndarray  # the touched grids and every grid touching them
    grids: set  # their codes (and the codes asked for)
    communities: set
    units: set
    unit_rows: np.ndarray  # boolean mask over the units


def _focus(district: District, codes, communities=(), units=()) -> _Focus:
    g2 = district.grids2
    all_codes = [str(c) for c in g2["code"]]
    geoms = np.asarray(g2.geometry.to_numpy(), dtype=object)
    usable = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    tree = STRtree(np.where(usable, geoms, None))
    codes = {str(c) for c in codes}
    touched = np.flatnonzero(np.isin(all_codes, list(codes)) & usable)
    near = touched
    if len(touched):
        near = np.union1d(touched, tree.query(geoms[touched], predicate="intersects")[1])
    grids = codes | {all_codes[i] for i in near}
    parents = [str(p) if p is not None else None for p in g2["parent"]]
    comms = {str(c) for c in communities} | {parents[i] for i in touched}
    comms.discard(None)
    # units standing in a touched grid, naming a grid of the focus, or named
    u = district.units
    unit_codes = np.array([str(c) for c in u["code"]], dtype=object)
    rows = np.isin(np.array(u["grid"], dtype=object), list(grids)) | np.isin(
        unit_codes, list(units)
    )
    if len(touched) and len(u):
        rows[STRtree(geoms[touched]).query(u.geometry.to_numpy(), predicate="intersects")[0]] = True
    return _Focus(codes, touched, near, grids, comms, set(unit_codes[rows]), rows)


def check_grids(
    district: District,
    codes: Iterable[str] | None,
    *,
    communities: Iterable[str] = (),
    units: Iterable[str] = (),
    allow_exclaves: bool = True,
    gap_width_m: float = 1.0,
    sliver_thinness: float = 20.0,
    size_factor: float = 8.0,
    tolerance_m2: float = 0.01,
) -> Report:
    """Validate the second-level grids ``codes`` (``None``: every grid), their neighbours, their
    communities (and ``communities``) and the units in them (and ``units``), with the rules of
    :func:`geogrid.validate.validate` and the planner's own (see the module). Findings are those
    naming one of these grids, communities or units.

    >>> from geogrid.model import District, default_data_dir
    >>> d = District.load(default_data_dir())
    >>> report = check_grids(d, ["320113005001001"])  # a neighbour is a campus
    >>> report.summary()
    'OK: no errors, 1 notice (size-large 1)'
    >>> report.notices[0].codes
    ('320113005001003',)
    """
    settings = Settings(allow_exclaves, gap_width_m, sliver_thinness, size_factor, tolerance_m2)
    g2 = district.grids2
    geoms = np.asarray(g2.geometry.to_numpy(), dtype=object)
    medians = {"grids1": _median(district.grids1.geometry), "grids2": _median(geoms)}
    if codes is None:
        v = _Local(district, medians, True, settings)
        return adjust(v.run_local(set(), None), district)
    focus = _focus(district, codes, communities, units)
    all_codes = np.array([str(c) for c in g2["code"]], dtype=object)
    usable = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    tree = STRtree(np.where(usable, geoms, None))
    if len(focus.near):
        window = shapely.box(*shapely.total_bounds(geoms[focus.near]))
        window = shapely.buffer(window, _WINDOW_MARGIN, join_style="mitre")
        keep2 = set(all_codes[tree.query(window, predicate="intersects")])
    else:
        window, keep2 = shapely.Polygon(), set()
    # ... every grid of the focus communities, and the grids the units name and stand in
    parents = np.array([str(p) if p is not None else None for p in g2["parent"]], dtype=object)
    keep2 |= focus.grids | set(all_codes[np.isin(parents, list(focus.communities))])
    u = district.units
    unit_rows = u[focus.unit_rows]
    keep2 |= {str(c) for c in unit_rows["grid"] if c is not None}
    if len(unit_rows):
        keep2 |= set(
            all_codes[tree.query(unit_rows.geometry.to_numpy(), predicate="intersects")[1]]
        )
    rows2 = g2[np.isin(all_codes, list(keep2))]
    keep1 = focus.communities | {str(p) for p in rows2["parent"] if p is not None}
    rows1 = district.grids1[np.isin(district.grids1["code"].astype(str), list(keep1))]
    # communities outside the focus whose interior no touched grid enters stand in as the union
    # of their grids here: their nesting is not checked (nothing in them changed), but their
    # grids need a parent
    touched_geoms = geoms[focus.touched]
    touched_geoms = touched_geoms[[g.is_valid for g in touched_geoms]]
    g1 = list(rows1.geometry)
    for k, c in enumerate(rows1["code"]):
        if c in focus.communities or g1[k] is None or not g1[k].is_valid:
            continue
        if len(touched_geoms) and shapely.relate_pattern(g1[k], touched_geoms, "T********").any():
            continue
        kids = rows2.geometry[(rows2["parent"] == c).to_numpy()].to_numpy()
        kids = kids[[g is not None and g.is_valid for g in kids]]
        if len(kids):
            g1[k] = shapely.coverage_union_all(kids)
    rows1 = rows1.set_geometry(gpd.GeoSeries(g1, index=rows1.index, crs=rows1.crs))
    outline = district.outline
    local = dataclasses.replace(
        district,
        grids1=rows1,
        grids2=rows2,
        units=unit_rows,
        outline=None if outline is None else shapely.intersection(outline, window),
    )
    report = _Local(local, medians, False, settings).run_local(
        focus.grids, window, focus.communities
    )
    report = _keep(report, focus)
    return adjust(report, district)


_NESTING = {"parent-missing", "outside-parent"}


def _keep(report: Report, focus: _Focus) -> Report:
    """The findings about the focus: its grids (nesting: the grids asked for), communities and
    units."""

    def mine(f: Finding) -> bool:
        if f.layer == "units":
            return bool(f.codes) and f.codes[0] in focus.units
        if f.layer == "grids1":
            return bool(set(f.codes) & focus.communities)
        if f.check == "duplicate-code":
            return bool(set(f.codes) & (focus.grids | focus.communities | focus.units))
        if f.check in _NESTING:
            return f.codes[0] in focus.asked
        return not f.codes or bool(set(f.codes) & focus.grids)

    return Report([f for f in report.errors if mine(f)], [f for f in report.notices if mine(f)])


def _key(f: Finding, with_message: bool = True):
    return (f.severity, f.check, f.layer, f.codes, f.message if with_message else "")


def agreement(
    district: District,
    codes: Iterable[str] | None = None,
    *,
    communities: Iterable[str] = (),
    units: Iterable[str] = (),
    full: Report | None = None,
    ours: Report | None = None,
    **settings,
) -> dict:
    """Compare :func:`check_grids` with the full validator (its findings adjusted by the
    planner's rules, see :func:`adjust`): ``{"only_check": [...], "only_full": [...]}``, lists
    of ``(severity, check, layer, codes, message)``, both empty when they agree.

    With ``codes=None`` (every grid) the two must report the same findings, message for
    message. With codes, the full validator's findings are kept as :func:`check_grids` keeps its
    own (naming a focus grid, community or unit) and compared without messages: a gap that
    runs out of the window is measured inside it only. ``full``: the full validator's report of
    ``district``, ``ours``: the one of :func:`check_grids`, when the caller has them already
    (same settings).

    >>> from geogrid.model import District, default_data_dir
    >>> agreement(District.load(default_data_dir()))
    {'only_check': [], 'only_full': []}
    """
    opts = Settings(**settings)
    kw = dataclasses.asdict(opts)
    whole = codes is None
    if ours is None and whole:
        ours = check_grids(district, None, **kw)
    elif ours is None:
        ours = check_grids(district, codes, communities=communities, units=units, **kw)
    if full is None:
        full = validate(district, **opts.validator_args())
    full = adjust(full, district)
    if not whole:
        full = _keep(full, _focus(district, codes, communities, units))
    a = sorted(_key(f, whole) for f in ours.errors + ours.notices)
    b = sorted(_key(f, whole) for f in full.errors + full.notices)
    only_a, only_b = list(a), list(b)
    for item in a:
        if item in only_b:
            only_b.remove(item)
            only_a.remove(item)
    return {"only_check": only_a, "only_full": only_b}
