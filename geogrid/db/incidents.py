"""Incidents in the database: recording one with the first entry of its log, moving it on (one
transaction, safe against a concurrent move), reading and listing them. The states, transitions
and checks are :mod:`geogrid.incidents`'s."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from .. import incidents
from ..errors import Conflict, NotFound
from ..incidents import Incident
from . import schema as t
from .base import StoreBase
from .types import utcnow


class IncidentStore(StoreBase):
    """Reported incidents and their event logs."""

    def create_incident(
        self,
        *,
        district_code: str,
        version_id: int,
        lon: float,
        lat: float,
        grid_code: str | None,
        grid1_code: str | None,
        category: str,
        description: str = "",
        channel: str = "phone",
        reporter: str | None = None,
        subcategory: str | None = None,
        input: dict | None = None,
        due_at: datetime | None = None,
        actor: str,
    ) -> Incident:
        """Record a reported incident (state ``reported``) with the first entry of its log."""
        import shapely

        incidents.check_new(category=category, channel=channel)
        now = utcnow()
        with self._write() as conn:
            iid = conn.execute(
                t.incidents.insert()
                .values(
                    district_code=district_code,
                    version_id=version_id,
                    grid_code=grid_code,
                    grid1_code=grid1_code,
                    lon=lon,
                    lat=lat,
                    geom=shapely.Point(lon, lat),
                    input=input,
                    category=category,
                    subcategory=subcategory,
                    description=description,
                    channel=channel,
                    reporter=reporter,
                    state=incidents.REPORTED,
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                    due_at=due_at,
                )
                .returning(t.incidents.c.id)
            ).scalar_one()
            conn.execute(
                t.incident_events.insert().values(
                    incident_id=iid,
                    at=now,
                    actor=actor,
                    from_state=None,
                    to_state=incidents.REPORTED,
                    note=description,
                )
            )
        return self.incident(iid)

    def transition_incident(
        self,
        incident_id: int,
        to_state: str,
        *,
        actor: str,
        note: str = "",
    ) -> Incident:
        """Move an incident to another state and log it, in one transaction.

        :class:`InputError` for a move the workflow does not allow; :class:`Conflict` if someone
        else moved it first (it is already in ``to_state``, or changes while this runs)."""
        now = utcnow()
        with self._write() as conn:
            state = conn.execute(
                sa.select(t.incidents.c.state).where(t.incidents.c.id == incident_id)
            ).scalar()
            if state is None:
                raise NotFound(f"no incident {incident_id}")
            if state == to_state:
                raise Conflict(
                    f"incident {incident_id} is already {state!r}: someone changed it first"
                )
            incidents.check_transition(state, to_state)
            values = {
                "state": to_state,
                "updated_at": now,
                **incidents.closing(state, to_state, now),
            }
            n = conn.execute(
                t.incidents.update()
                .where(t.incidents.c.id == incident_id, t.incidents.c.state == state)
                .values(**values)
            ).rowcount
            if n != 1:
                raise Conflict(f"incident {incident_id} changed while you were editing it")
            conn.execute(
                t.incident_events.insert().values(
                    incident_id=incident_id,
                    at=now,
                    actor=actor,
                    from_state=state,
                    to_state=to_state,
                    note=note,
                )
            )
        return self.incident(incident_id)

    def incident(self, incident_id: int) -> Incident:
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.incidents).where(t.incidents.c.id == incident_id)
            ).first()
            if row is None:
                raise NotFound(f"no incident {incident_id}")
            events = conn.execute(
                sa.select(t.incident_events)
                .where(t.incident_events.c.incident_id == incident_id)
                .order_by(t.incident_events.c.id)
            ).all()
        return _incident(row, events)

    def incidents(
        self,
        district_code: str,
        *,
        state: str | None = None,
        grid_code: str | None = None,
        limit: int = 200,
    ) -> list[Incident]:
        c = t.incidents.c
        q = sa.select(t.incidents).where(c.district_code == district_code)
        if state:
            q = q.where(c.state == state)
        if grid_code:
            q = q.where(c.grid_code == grid_code)
        with self._read() as conn:
            rows = conn.execute(q.order_by(c.id.desc()).limit(limit)).all()
        return [_incident(r, []) for r in rows]


def _incident(row, events) -> Incident:
    return Incident(
        row.id, row.district_code, row.version_id, row.grid_code, row.grid1_code, row.lon, row.lat,
        row.category, row.subcategory, row.description, row.channel, row.reporter, row.state,
        row.created_at, row.created_by, row.updated_at, row.due_at, row.closed_at, row.input,
        [{"at": e.at, "actor": e.actor, "from_state": e.from_state, "to_state": e.to_state, "note": e.note} for e in events],
    )  # fmt: skip
