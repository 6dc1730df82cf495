"""The validator that runs every check in order, and :func:`validate`."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import STRtree

from .. import settings
from ..model import District
from .codes import CodeChecks
from .coverage import CoverageChecks
from .geometries import GeometryChecks
from .layers import _Layer
from .nesting import NestingChecks
from .report import _CHECK_ORDER, _LAYER_ORDER, CHECKS, Finding, Report
from .shapes import ShapeChecks


def exclaves_allowed(value: bool | None = None) -> bool:
    """Whether a multi-part grid (an exclave, 飞地) is allowed: ``value``, else the setting
    ``GEOGRID_ALLOW_EXCLAVES`` (default yes). Allowed, it is a notice; otherwise an error."""
    return settings.flag("GEOGRID_ALLOW_EXCLAVES", True) if value is None else bool(value)


class _Validator(GeometryChecks, CodeChecks, CoverageChecks, NestingChecks, ShapeChecks):
    def __init__(
        self,
        district: District,
        gap_width_m,
        sliver_thinness,
        size_factor,
        tolerance_m2,
        allow_exclaves: bool | None = None,
    ):
        self.d = district
        self.allow_exclaves = exclaves_allowed(allow_exclaves)
        self.gap_width = float(gap_width_m)
        self.thinness = float(sliver_thinness)
        self.size_factor = float(size_factor)
        self.tol = float(tolerance_m2)
        # a unit closer than this to a grid stands on its edge (10 cm for the default tolerance)
        self.edge_tol = math.sqrt(self.tol)
        self.errors: list[Finding] = []
        self.notices: list[Finding] = []
        self.g1 = _Layer("grids1", district.grids1)
        self.g2 = _Layer("grids2", district.grids2)
        self.units = _Layer("units", district.units)
        # per layer, lon/lat areas where a grid's shape is unknown (invalid geometry): findings
        # there are consequences of that error and are not reported twice
        self.unknown: dict[str, list] = {"grids1": [], "grids2": []}
        # metric geometries of errors found so far, which explain flagged coverage edges
        self.explained_m: list = []
        # lon/lat gaps found, which explain first-level grids not covered by their children
        self.gaps_ll: list = []

    def add(
        self, check: str, message: str, layer: str, codes=(), geometry=None, severity=None
    ) -> None:
        severity = severity or CHECKS[check]
        f = Finding(severity, check, message, layer, tuple(codes), geometry)
        (self.errors if severity == "error" else self.notices).append(f)

    # ------------------------------------------------------------------ driver
    def run(self) -> Report:
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
        self.check_overlaps(self.g2, flagged2)
        flagged1, _ = self.coverage_edges(self.g1, 0.0)
        self.check_overlaps(self.g1, flagged1)
        union = self.union(np.arange(self.g2.n))
        self.check_gaps(union)
        self.classify_edges(flagged2, union)
        self.check_parents()
        self.check_units()
        self.check_shapes(self.g1)
        self.check_shapes(self.g2)
        return self.report()

    def report(self) -> Report:
        def key(f: Finding):
            return (_CHECK_ORDER[f.check], _LAYER_ORDER[f.layer], f.codes, f.message)

        return Report(sorted(self.errors, key=key), sorted(self.notices, key=key))


def validate(
    district: District,
    *,
    gap_width_m: float = 1.0,
    sliver_thinness: float = 20.0,
    size_factor: float = 8.0,
    tolerance_m2: float = 0.01,
    allow_exclaves: bool | None = None,
) -> Report:
    """Check a district against the grid rules and return a :class:`Report`.

    Errors: ``not-lonlat`` (reported alone: nothing else is checked), ``invalid-geometry``,
    ``multipart`` unless exclaves are allowed (``allow_exclaves``, default: the setting
    ``GEOGRID_ALLOW_EXCLAVES``, yes unless set to 0; allowed, a multi-part grid is a notice),
    ``duplicate-code`` (also missing codes), ``overlap`` (at either level),
    ``gap`` (holes, territory outside every grid, grids outside the outline, and gaps or inlets
    narrower than ``gap_width_m`` found by GEOS' coverage validator run in EPSG:4549),
    ``parent-missing``, ``outside-parent``, ``level1-mismatch``, ``unit-outside`` and
    ``unit-grid-mismatch``.

    Notices: ``sliver`` when thinness, as QGIS measures it (the longest side of the oriented
    minimum bounding box, squared, divided by the area), exceeds ``sliver_thinness``;
    ``size-small`` / ``size-large`` when a grid's area is below the median of its level divided by
    ``size_factor`` or above the median times ``size_factor``; ``unmatched-edge`` when the coverage
    validator rejects edges that no overlap or gap explains (a vertex on one side of a shared edge
    only: a T-junction).

    Overlaps, gaps and parts outside a parent smaller than ``tolerance_m2``, or narrower than
    :data:`PRECISION_M` (1 cm, what 7 stored decimals of a degree resolve), are not errors: the
    latter are vertices meant to lie on a neighbour's edge and show up as ``unmatched-edge``. A unit
    within ``sqrt(tolerance_m2)`` metres (10 cm) of a grid stands on its edge, so it may name
    either grid on that edge. An invalid grid is checked with its repaired shape (``make_valid``);
    gaps, uncovered parents and stray units inside its convex hull are left to its own error.

    Overlaps, unions and differences are computed on the lon/lat geometries as stored (straight
    edges in lon/lat, as RFC 7946 has them) and measured in EPSG:4549; GEOS' coverage validator
    runs on the EPSG:4549 geometries so that ``gap_width_m`` is in metres. The fast path (a valid
    coverage, first-level grids built as unions) takes about 0.1 s for 156 grids of ~170
    vertices and 1786 units.
    """
    return _Validator(
        district, gap_width_m, sliver_thinness, size_factor, tolerance_m2, allow_exclaves
    ).run()
