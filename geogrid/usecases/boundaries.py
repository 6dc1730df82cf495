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


#: Districts of versions kept per service for diffs (each about as big as a version in memory).
KEEP_DIFF_DISTRICTS = 4
#: Diffs kept per service.
KEEP_DIFFS = 8
_diff_lock = threading.Lock()


def _meta_of(v, meta: dict, number_of: dict) -> dict:
    draft = meta.get("draft") if isinstance(meta.get("draft"), dict) else None
    return {
        "number": v.number,
        "status": v.status,
        "current": v.current,
        "base": number_of.get(v.base_id),
        "note": v.note,
        "created_at": v.created_at,
        "created_by": v.created_by,
        "published_at": v.published_at,
        "published_by": v.published_by,
        "rollback_of": meta.get("rollback_of"),
        "draft": None if draft is None else {k: draft.get(k) for k in ("id", "name", "author")},
        "grid_count": v.grid_count,
        "unit_count": v.unit_count,
    }


def history(svc, actor: Actor) -> list[dict]:
    """Every boundary version, newest first, with who published it and the message (the
    version's note: the publishing or rollback message), the draft it came from and the version
    it rolled back to, if any."""
    actor.require("versions")
    found = svc.store.versions(svc.district_code)
    metas = svc.store.version_meta(svc.district_code)
    number_of = {v.id: v.number for v in found}
    return [_meta_of(v, metas.get(v.number, {}), number_of) for v in found]


def _cached(svc, name: str, key, make, keep: int):
    table = svc.__dict__.setdefault(name, OrderedDict())
    with _diff_lock:
        if key in table:
            table.move_to_end(key)
            return table[key]
    value = make()
    with _diff_lock:
        table[key] = value
        while len(table) > keep:
            table.popitem(last=False)
    return value


def _district_as_published(svc, version, revision: int) -> District:
    """A version's district with the people on duty when it was published (a draft: when it
    was made), kept while the district's revision (roster changes, publishing) stands."""
    when = version.published_at or version.created_at
    return _cached(
        svc, "_diff_districts", (version.id, revision),
        lambda: svc.store.load_district(version.id, people_at=when), KEEP_DIFF_DISTRICTS,
    )  # fmt: skip


def diff(svc, actor: Actor, a: int, b: int) -> dict:
    """What changes from version ``a`` to version ``b`` (any two, either order, drafts
    included): :func:`geogrid.planning.impact.impact` of their districts, each with the people
    on duty when it was published, and both versions' metadata (``from``, ``to``). Geometries
    (``grids``, ``transfers``) are shapely objects in WGS-84; the districts are under
    ``districts`` (from, to) for drawing."""
    actor.require("grids")
    from ..planning.impact import impact

    for n in (a, b):
        if isinstance(n, bool) or not isinstance(n, int):
            raise InputError(f"a version number is a whole number, got {n!r}")
    va = svc.store.version_by_number(svc.district_code, a)
    vb = svc.store.version_by_number(svc.district_code, b)
    revision = svc.store.state(svc.district_code)[1]
    da = _district_as_published(svc, va, revision)
    db = _district_as_published(svc, vb, revision)
    result = _cached(svc, "_diffs", (va.id, vb.id, revision), lambda: impact(da, db), KEEP_DIFFS)
    found = {v.id: v for v in svc.store.versions(svc.district_code)}
    number_of = {v.id: v.number for v in found.values()}
    metas = {va.number: da.meta, vb.number: db.meta}
    return {
        **result,
        "from": _meta_of(found[va.id], metas[va.number], number_of),
        "to": _meta_of(found[vb.id], metas[vb.number], number_of),
        "districts": (da, db),
    }


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
