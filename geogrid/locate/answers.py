"""What the locator answers: grids with their people, candidates, locations, unit hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the locator makes these answers; they only name its type
    from .locator import Locator

MATCH_INTERIOR, MATCH_EDGE, MATCH_VERTEX, MATCH_OUTSIDE = "interior", "edge", "vertex", "outside"


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid and the people responsible for it, as the locator reports it."""

    level: int
    code: str
    name: str
    parent: str | None
    people: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "parent": self.parent,
            **self.people,
        }


@dataclass(slots=True)
class Candidate:
    """A neighbouring second-level grid within the confirmation distance, or the nearest one."""

    grid: Grid
    distance_m: float

    def to_dict(self) -> dict:
        return {
            "code": self.grid.code,
            "name": self.grid.name,
            "parent": self.grid.parent,
            "distance_m": round(self.distance_m, 2),
        }


@dataclass(slots=True)
class Location:
    """The locator's full answer for one point.

    ``distance_m`` is the distance to the nearest grid boundary for a point inside the district
    (0 on an edge), and the distance to the nearest grid for a point outside. ``candidates`` are
    the other second-level grids within the confirmation distance, nearest first;
    ``needs_confirmation`` is set when the point lies within that distance of any boundary.
    """

    lon: float
    lat: float
    match: str
    grid2: Grid | None
    grid1: Grid | None
    distance_m: float
    candidates: tuple[Candidate, ...]
    needs_confirmation: bool
    nearest: Candidate | None = None
    input: tuple[float, float, str] | None = None

    def to_dict(self) -> dict:
        out = {
            "lon": self.lon,
            "lat": self.lat,
            "match": self.match,
            "grid2": self.grid2.to_dict() if self.grid2 else None,
            "grid1": self.grid1.to_dict() if self.grid1 else None,
            "distance_m": round(self.distance_m, 2),
            "needs_confirmation": self.needs_confirmation,
            "candidates": [c.to_dict() for c in self.candidates],
            "nearest": self.nearest.to_dict() if self.nearest else None,
        }
        if self.input is not None:
            out["input"] = {"x": self.input[0], "y": self.input[1], "crs": self.input[2]}
        return out


@dataclass(frozen=True)
class Located:
    """Owners of many points (:meth:`Locator.locate_many`); ``index`` is -1 outside the district."""

    index: np.ndarray
    locator: Locator

    @property
    def grid2_codes(self) -> np.ndarray:
        """Second-level grid code per point (None outside)."""
        return self.locator._codes2[self.index]

    @property
    def grid1_codes(self) -> np.ndarray:
        """First-level grid code per point (None outside)."""
        return self.locator._codes1[self.index]

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True, slots=True)
class UnitHit:
    """A unit found near a point, with its distance in metres."""

    code: str
    name: str
    category: str
    address: str | None
    grid: str
    lon: float
    lat: float
    distance_m: float

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "address": self.address,
            "grid": self.grid,
            "lon": self.lon,
            "lat": self.lat,
            "distance_m": round(self.distance_m, 2),
        }
