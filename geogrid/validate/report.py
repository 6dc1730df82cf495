"""What :func:`~geogrid.validate.validate` reports: the checks and their severities, a
:class:`Finding`, the :class:`Report` and how sizes are written in messages."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely

#: Every check, in report order, with its severity.
CHECKS: dict[str, str] = {
    "not-lonlat": "error",
    "invalid-geometry": "error",
    "multipart": "error",  # a notice where exclaves are allowed (the default)
    "duplicate-code": "error",
    "overlap": "error",
    "gap": "error",
    "parent-missing": "error",
    "outside-parent": "error",
    "level1-mismatch": "error",
    "unit-outside": "error",
    "unit-grid-mismatch": "error",
    "sliver": "notice",
    "size-small": "notice",
    "size-large": "notice",
    "unmatched-edge": "notice",
}


_CHECK_ORDER = {check: i for i, check in enumerate(CHECKS)}


_LAYER_NAMES = {
    "outline": "district outline",
    "grids1": "first-level grid",
    "grids2": "second-level grid",
    "units": "unit",
}


_LAYER_ORDER = {layer: i for i, layer in enumerate(_LAYER_NAMES)}


@dataclass(frozen=True)
class Finding:
    """One problem found by :func:`validate`.

    ``geometry`` is the offending part (an overlap, a gap, the part of a grid outside its parent,
    a unit's point...) in WGS-84 lon/lat, or ``None`` when there is nothing to draw.
    """

    severity: str
    check: str
    message: str
    layer: str
    codes: tuple[str, ...] = ()
    geometry: object | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict; the geometry as a GeoJSON geometry object (or ``None``)."""
        geom = None
        if self.geometry is not None:
            geom = json.loads(shapely.to_geojson(self.geometry))
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "layer": self.layer,
            "codes": list(self.codes),
            "geometry": geom,
        }


@dataclass
class Report:
    """The result of :func:`validate`: errors block, notices inform."""

    errors: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (notices do not count)."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Number of findings per check, in report order."""
        out: dict[str, int] = {}
        for f in sorted(self.errors + self.notices, key=lambda f: _CHECK_ORDER[f.check]):
            out[f.check] = out.get(f.check, 0) + 1
        return out

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``ok``, ``counts`` per check, ``errors`` and ``notices``."""
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "errors": [f.to_dict() for f in self.errors],
            "notices": [f.to_dict() for f in self.notices],
        }

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text, non-ASCII characters kept as they are."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def summary(self) -> str:
        """One line: OK or FAILED, with the number of errors and notices per check."""

        def part(findings: list[Finding], noun: str) -> str:
            if not findings:
                return f"no {noun}s"
            per = Report(findings).counts()
            detail = ", ".join(f"{check} {n}" for check, n in per.items())
            return f"{len(findings)} {noun}{'s' if len(findings) != 1 else ''} ({detail})"

        status = "OK" if self.ok else "FAILED"
        return f"{status}: {part(self.errors, 'error')}, {part(self.notices, 'notice')}"

    def format_text(self) -> str:
        """The report as readable text: errors then notices, grouped by check, then a summary.

        >>> print(Report().format_text())
        OK: no errors, no notices
        """
        lines: list[str] = []
        for title, findings in (("Errors", self.errors), ("Notices", self.notices)):
            if not findings:
                continue
            lines.append(f"{title} ({len(findings)}):")
            groups: dict[str, list[Finding]] = defaultdict(list)
            for f in findings:
                groups[f.check].append(f)
            for check in sorted(groups, key=_CHECK_ORDER.__getitem__):
                lines.append(f"  {check} ({len(groups[check])})")
                lines.extend(f"    - {f.message}" for f in groups[check])
        lines.append(self.summary())
        return "\n".join(lines)


# ---------------------------------------------------------------------- formatting helpers
def _m2(area: float) -> str:
    return f"{area:,.3f} m²" if area < 10 else f"{area:,.1f} m²"


def _m(length: float) -> str:
    return f"{length:,.2f} m" if length < 100 else f"{length:,.1f} m"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(codes) -> str:
    codes = list(codes)
    if len(codes) <= 1:
        return "".join(codes)
    return ", ".join(codes[:-1]) + " and " + codes[-1]


def _width_m(area, perimeter):
    """Width of the rectangle with this area and perimeter, in metres (exact for a rectangle,
    close for a thin strip; half the height of a thin triangle). Floats or arrays."""
    area, perimeter = np.asarray(area, dtype=float), np.asarray(perimeter, dtype=float)
    root = np.sqrt(np.fmax(perimeter * perimeter - 16 * area, 0.0))
    width = np.where(perimeter > 0, (perimeter - root) / 4, 0.0)
    return float(width) if width.ndim == 0 else width
