"""The locator: one object per boundary version, answering for one point or many."""

from __future__ import annotations

import copy
import threading
from functools import cache
from pathlib import Path

import numpy as np

from .. import crs as _crs
from .. import settings
from ..model import District, default_data_dir
from .answers import MATCH_INTERIOR, MATCH_OUTSIDE, Candidate, Grid, Located, Location
from .distances import Distances
from .table import OwnerTable
from .tuning import MIXED_CHUNK, NEAR_M, RESOLUTION
from .units import Units


class Locator(OwnerTable, Distances, Units):
    """Point location over a district's second-level grids (which must form a valid coverage).

    Build it once per boundary version; it is immutable and safe to share between threads.
    """

    def __init__(self, district: District, *, near_m: float = NEAR_M, resolution: int = RESOLUTION):
        self.district = district
        self.near_m = float(near_m)
        g2 = district.grids2
        order = np.argsort(g2["code"].to_numpy(dtype=str), kind="stable")  # the edge rule: by code
        # not prepared: GEOS prepared geometries build their indexes lazily and are not safe to
        # share between threads (libgeos/geos#825); the locator never needs them after building
        self._polys = np.asarray(g2.geometry.values, dtype=object)[order]
        self._order = order
        self._set_grids(district)
        self._codes2 = np.array([g.code for g in self._grids] + [None], dtype=object)
        self._codes1 = np.array([g.parent for g in self._grids] + [None], dtype=object)
        self._build_segments()
        self._build_table(resolution)
        self._build_units()
        self._prox = None
        self._build_lock = threading.Lock()
        self._to_metric = _crs.metric_transformer().transform

    def _set_grids(self, district: District) -> None:
        """The grids as answers carry them, with their people, from ``district``'s attributes."""
        self._grids1 = {}
        for rec in district.grids1.drop(columns="geometry").to_dict("records"):
            people = {
                k: rec.get(k)
                for k in ("leader", "leader_title", "leader_phone", "office", "office_phone")
            }
            self._grids1[rec["code"]] = Grid(1, rec["code"], rec["name"], rec.get("parent"), people)
        recs = district.grids2.drop(columns="geometry").to_dict("records")
        self._grids = [
            Grid(
                2,
                r["code"],
                r["name"],
                r.get("parent"),
                {k: r.get(k) for k in ("kind", "worker", "worker_phone")},
            )
            for r in (recs[i] for i in self._order)
        ]
        self._parents = [self._grids1.get(g.parent) for g in self._grids]

    def with_people(self, district: District) -> Locator:
        """A locator sharing this one's geometry structures but answering with the people of
        ``district`` (the same boundary version, with another day's duty roster)."""
        if list(district.grids2["code"]) != list(self.district.grids2["code"]):
            raise ValueError("with_people needs the same grids")
        other = copy.copy(self)
        other.district = district
        other._set_grids(district)
        return other

    def prepare(self, *, lists: bool = True, stop: threading.Event | None = None) -> Locator:
        """Build the distance structures now: their shared part always, and with ``lists`` every
        block's lists too (otherwise each block is built by the first single-point call that
        needs it, in a few milliseconds). Safe to call from another thread while serving; that
        thread can be told to leave the rest for later with ``stop``."""
        with self._build_lock:
            if self._prox is None:
                self._build_prox()
        p = self._prox
        if not lists:
            return self
        for k in range(len(self._rays)):
            if k % 1024 == 0 and stop is not None and stop.is_set():
                return self
            self._ray(k)
        todo = [b for b, built in enumerate(p.blocks) if built is None]
        for k in range(0, len(todo), 8):  # in chunks, skipping blocks requests built meanwhile
            if stop is not None and stop.is_set():
                return self
            chunk = [b for b in todo[k : k + 8] if p.blocks[b] is None]
            if chunk:
                self._prox_blocks(chunk)
        return self

    def locate(self, x, y, crs: str = "wgs84") -> Location:
        """The full answer for one point given in any accepted CRS.

        Raises :class:`~geogrid.errors.CoordinateError` for non-numeric or out-of-range input and
        :class:`~geogrid.errors.CRSError` for an unknown CRS.
        """
        lon, lat, given = _crs.point_to_wgs84(x, y, crs)
        u = (lon - self._x0) * self._idx
        v = (lat - self._y0) * self._idy
        match, touching = MATCH_INTERIOR, ()
        if 0.0 <= u < self._nx and 0.0 <= v < self._ny:
            owner = self._table.item(int(v), int(u))
            if owner < -1:
                owner, match, touching = self._owner_exact(-2 - owner, lon, lat)
        else:
            owner = -1
        dist, nearest_grid, near = self._distances(lon, lat, u, v)
        for p in touching:  # grids whose edge the point is on: exactly 0 m away
            near[p] = 0.0
        grids = self._grids
        if near:
            near.pop(owner, None)
            cands = tuple(
                Candidate(grids[p], d) for d, p in sorted((d, p) for p, d in near.items())
            )
        else:
            cands = ()
        if owner < 0:
            # outside: the distance to, and the identity of, the nearest grid
            if nearest_grid < 0:
                nearest_grid, dist = self._nearest_outside(lon, lat)
            nearest = Candidate(grids[nearest_grid], dist)
            return Location(
                lon,
                lat,
                MATCH_OUTSIDE,
                None,
                None,
                dist,
                cands,
                dist <= self.near_m,
                nearest,
                given,
            )
        if match is not MATCH_INTERIOR:
            dist = 0.0
        return Location(
            lon,
            lat,
            match,
            grids[owner],
            self._parents[owner],
            dist,
            cands,
            dist <= self.near_m,
            None,
            given,
        )

    def locate_many(self, xs, ys, crs: str = "wgs84") -> Located:
        """Owning second-level grid of many points at once (vectorised; the same edge rule).

        >>> loc = default_locator()
        >>> r = loc.locate_many(np.array([118.93, 118.5]), np.array([32.11, 32.0]))
        >>> r.grid2_codes.tolist(), r.index.tolist()
        (['320113005007007', None], [99, -1])
        """
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        xs, ys = _crs.input_to_wgs84(xs, ys, crs)
        label = self._table_labels(xs, ys)
        mixed = np.flatnonzero(label < -1)
        # a few thousand points at a time: the temporaries (about four per point) stay below
        # malloc's mmap threshold, so they are reused instead of page-faulted in on every call
        for s in range(0, len(mixed), MIXED_CHUNK):
            m = mixed[s : s + MIXED_CHUNK]
            label[m] = self._owners_of_mixed(-2 - label[m], xs[m], ys[m])
        return Located(label, self)

    # ------------------------------------------------------------------ info
    @property
    def grids(self) -> list[Grid]:
        """Second-level grids in locator order (by code)."""
        return list(self._grids)

    def table_stats(self) -> dict:
        """Size of the lookup table and the share of cells that need an exact test."""
        return {
            "nx": self._nx,
            "ny": self._ny,
            "mixed_cells": len(self._mixed_cells),
            "mixed_share": len(self._mixed_cells) / self._flat.size,
            "segments": len(self._p0),
        }


@cache
def _locator_for(path: str) -> Locator:
    return Locator(District.load(path))


def default_locator() -> Locator:
    """The locator over ``$GEOGRID_DATA`` (a district directory), else the bundled sample."""
    return _locator_for(str(Path(settings.data_dir() or default_data_dir()).resolve()))


def locate(lon, lat, crs: str = "wgs84") -> Location:
    """Locate one point in the default district (see :func:`default_locator`)."""
    return default_locator().locate(lon, lat, crs)


def locate_many(lons, lats, crs: str = "wgs84") -> Located:
    """Locate many points in the default district (see :func:`default_locator`)."""
    return default_locator().locate_many(lons, lats, crs)
