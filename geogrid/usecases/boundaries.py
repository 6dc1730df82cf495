"""Boundaries: the grids and units of a version, the versions themselves, importing and
publishing. Reading the map's base (grids, their names and people) is open to every role; the
unit register is scoped to a grid worker's grid; versions are for dispatchers and planners."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..access import Actor
from ..errors import InputError, NotFound
from ..model import District

#: Longest unit text filter.
MAX_QUERY = 200
#: Past versions' data kept per service for the map's "version" parameter.
KEEP_PAST = 4
_past_lock = threading.Lock()


def version_data(svc, actor: Actor, number: int | None = None, *, operation: str = "grids"):
    """The version numbered ``number`` (default: the current one) and its district, with the
    people on duty now: ``(VersionInfo, District)``."""
    actor.require(operation)
    current, loc = svc.current()
    if number is None or number == current.number:
        return current, loc.district
    version = svc.store.version_by_number(svc.district_code, number)
    # kept while the current locator stands: a new one means the roster (or version) changed
    past = svc.__dict__.setdefault("_past_versions", OrderedDict())
    with _past_lock:
        held = past.get(version.id)
        if held is not None and held[0] is loc:
            past.move_to_end(version.id)
            return version, held[1]
    district = svc.store.load_district(version.id)
    with _past_lock:
        past[version.id] = (loc, district)
        while len(past) > KEEP_PAST:
            past.popitem(last=False)
    return version, district


@dataclass(frozen=True)
class UnitPage:
    """One page of units: their attribute records and WGS-84 positions, and how many matched."""

    version: object
    total: int
    records: list[dict]
    lon: np.ndarray
    lat: np.ndarray


def grid_codes(district: District, code: str, version_number: int) -> list[str]:
    """The second-level grids of ``code`` (itself, or a first-level grid's children)."""
    g2 = district.grids2
    if code in set(g2["code"]):
        return [code]
    if code in set(district.grids1["code"]):
        return list(g2.loc[g2["parent"] == code, "code"])
    raise NotFound(f"no grid {code[:40]!r} in version {version_number}")


def units(
    svc,
    actor: Actor,
    *,
    q: str | None = None,
    categories: list[str] | None = None,
    grid: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int,
    offset: int = 0,
    version: int | None = None,
) -> UnitPage:
    """Units matching every filter given (text in name, code or address; any of the
    categories; in a grid; in a WGS-84 box), a page of them in register order. A grid worker
    sees the units of their own grid(s) only, and may not ask for another grid's."""
    if q is not None and len(q) > MAX_QUERY:
        raise InputError(f"q is limited to {MAX_QUERY} characters")
    info, district = version_data(svc, actor, version, operation="units")
    frame = district.units
    keep = np.ones(len(frame), dtype=bool)
    if q is not None:
        hit = np.zeros(len(frame), dtype=bool)
        for col in ("name", "code", "address"):
            hit |= (
                frame[col].astype("string").str.contains(q, case=False, regex=False).fillna(False)
            ).to_numpy(dtype=bool)
        keep &= hit
    if categories is not None:
        keep &= frame["category"].isin(categories).to_numpy(dtype=bool)
    if grid is not None:
        codes = grid_codes(district, grid, info.number)
        for code in codes:
            actor.require_grid(code)
        keep &= frame["grid"].isin(codes).to_numpy(dtype=bool)
    elif actor.scope is not None:
        keep &= frame["grid"].isin(sorted(actor.scope)).to_numpy(dtype=bool)
    lon = frame.geometry.x.to_numpy() if len(frame) else np.empty(0)
    lat = frame.geometry.y.to_numpy() if len(frame) else np.empty(0)
    if bbox is not None:
        keep &= (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
    idx = np.flatnonzero(keep)
    page = idx[offset : offset + limit]
    recs = frame.iloc[page].drop(columns="geometry").to_dict("records")
    return UnitPage(info, len(idx), recs, lon[page], lat[page])


def versions(svc, actor: Actor) -> list:
    """Every boundary version of the district, newest first (drafts included)."""
    actor.require("versions")
    return svc.store.versions(svc.district_code)


def publish(store, actor: Actor, district_code: str, number: int, *, force: bool = False):
    """Make draft ``number`` the current version (see :meth:`geogrid.db.Store.publish`)."""
    actor.require("publish")
    version = store.version_by_number(district_code, number)
    return store.publish(version.id, actor=actor.name, force=force)


def import_version(store, actor: Actor, district: District, *, note: str, publish: bool = False):
    """Store ``district`` as a new draft version, and publish it at once with ``publish``."""
    actor.require("import_version")
    draft = store.create_version(district, actor=actor.name, note=note)
    return store.publish(draft.id, actor=actor.name) if publish else draft


def bootstrap(store, actor: Actor, data_dir=None):
    """The service over ``store``: the schema upgraded and, on a database without a published
    version, the district in ``data_dir`` (default: the bundled sample) stored and published as
    its first version (see :meth:`geogrid.service.Service.bootstrap`)."""
    actor.require("import_version")
    from ..service import Service  # here: the service pulls in the database layer

    return Service.bootstrap(store, data_dir)
