"""Incidents: intake (a place located, recorded against the grid that owns it) and moving an
incident through the four-step method. A grid worker acts on the incidents of their own grid."""

from __future__ import annotations

from ..access import Actor


def report(
    svc,
    actor: Actor,
    x,
    y,
    *,
    crs: str = "wgs84",
    category: str,
    description: str = "",
    channel: str = "phone",
    **extra,
):
    """Locate a reported problem and record it against the grid that owns the place, with the
    version answered from and the coordinates as given (when not WGS-84), in one transaction."""
    actor.require("report_incident")
    version, loc = svc.current()
    where = loc.locate(x, y, crs)
    given = (
        {"x": where.input[0], "y": where.input[1], "crs": where.input[2]} if where.input else None
    )
    return svc.store.create_incident(
        district_code=svc.district_code,
        version_id=version.id,
        lon=where.lon,
        lat=where.lat,
        grid_code=where.grid2.code if where.grid2 else None,
        grid1_code=where.grid1.code if where.grid1 else None,
        category=category,
        description=description,
        channel=channel,
        input=given,
        actor=actor.name,
        **extra,
    )


def get(svc, actor: Actor, incident_id: int):
    """One incident with its log; a grid worker's only if it lies in their grid."""
    actor.require("read_incidents")
    found = svc.store.incident(incident_id)
    actor.require_grid(found.grid_code)
    return found


def listing(svc, actor: Actor, *, state: str | None = None, grid: str | None = None, limit=200):
    """Incidents, newest first; a grid worker's are those of their own grid(s)."""
    actor.require("read_incidents")
    if grid is not None:
        actor.require_grid(grid)
        grids = [grid]
    else:
        grids = sorted(actor.scope) if actor.scope is not None else [None]
    found = []
    for code in grids:
        found += svc.store.incidents(svc.district_code, state=state, grid_code=code, limit=limit)
    return sorted(found, key=lambda i: i.id, reverse=True)[:limit]


def transition(svc, actor: Actor, incident_id: int, to_state: str, *, note: str = ""):
    """Move an incident on (see :meth:`geogrid.db.Store.transition_incident`); a grid worker
    only within their own grid."""
    actor.require("transition_incident")
    if actor.scope is not None:
        actor.require_grid(svc.store.incident(incident_id).grid_code)
    return svc.store.transition_incident(incident_id, to_state, actor=actor.name, note=note)
