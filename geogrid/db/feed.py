"""The live feed: the incidents' event log (``incident_events``, ids increasing) read as a change
feed by :mod:`geogrid.usecases.live`.

Each event carries the scope of its incident as the event left it (district, grid, worker, and
the office while the incident is escalated to it), so a reader filters the feed without a join.
Calling :func:`claim` again in the same transaction is harmless (the lock is re-entrant).

Visibility order on PostgreSQL: ids come from a sequence, taken at insert and visible at commit,
so a reader asking for ``id > last`` could read 8 before 7 commits and never look back. Every
transaction that writes events first calls :func:`claim`, which takes a transaction-level
advisory lock per district (held until commit: the next writer of that district gets its ids
after this one is visible) and queues ``NOTIFY geogrid_feed, '<district>'`` (delivered to the
listeners at commit). SQLite has one writer at a time already. Taking the lock first, before
touching any incident row, keeps the lock order the same in every transaction (no deadlock).

>>> from geogrid.db import Store
>>> s = Store("sqlite://"); s.upgrade()
>>> s.feed_last("320113005")
0
"""

from __future__ import annotations

import sqlalchemy as sa

from . import schema as t
from .base import StoreBase

#: The PostgreSQL notification channel; the payload is the district's code.
CHANNEL = "geogrid_feed"
#: Whether :func:`claim` takes the advisory lock (turned off only by the test that shows why).
SERIALISE = True

E = t.incident_events.c
I = t.incidents.c  # noqa: E741
#: What a reader gets of each event (never a reporter's contact: events carry none).
COLUMNS = [
    E.id, E.incident_id, E.action, E.from_state, E.to_state, E.grid_code, E.worker, E.office,
    E.at, E.actor,
]  # fmt: skip


def claim(conn, district_code: str) -> None:
    """In a transaction about to write events of ``district_code``: on PostgreSQL, wait for the
    district's other event writers to commit (advisory lock until this one commits) and notify
    the listeners at commit. Call it before any other write of the transaction."""
    if conn.dialect.name != "postgresql":
        return
    if SERIALISE:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"{CHANNEL}:{district_code}"},
        )
    # several in one transaction are one notification (PostgreSQL folds identical ones)
    conn.execute(
        sa.text("SELECT pg_notify(:channel, :d)"), {"channel": CHANNEL, "d": district_code}
    )


def scope_values(incident: dict) -> dict:
    """The feed's scope columns for an incident's columns (``district_code``, ``grid_code``,
    ``worker``, ``office``, ``escalated_at``)."""
    escalated = incident.get("escalated_at") is not None
    return {
        "district_code": incident["district_code"],
        "grid_code": incident.get("grid_code"),
        "worker": incident.get("worker"),
        "office": incident.get("office") if escalated else None,
    }


def _scoped(district_code: str, grids, office) -> list:
    w = [E.district_code == district_code]
    if grids is not None:
        w.append(E.grid_code.in_(sorted(grids)))
    if office is not None:
        w.append(E.office == office)
    return w


class FeedStore(StoreBase):
    """Reading the feed."""

    def feed_after(
        self,
        district_code: str,
        after: int,
        *,
        grids: frozenset[str] | None = None,
        office: str | None = None,
        limit: int = 1000,
    ) -> list[dict]:
        """The district's events after id ``after``, oldest first, at most ``limit``: within
        ``grids`` or escalated to ``office`` when given."""
        q = (
            sa.select(*COLUMNS)
            .where(E.id > after, *_scoped(district_code, grids, office))
            .order_by(E.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def feed_last(self, district_code: str) -> int:
        """The district's last event id (0 for none)."""
        with self._read() as conn:
            return conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(E.id), 0)).where(
                    E.district_code == district_code
                )
            ).scalar_one()

    def feed_has(self, district_code: str, event_id: int) -> bool:
        """Whether the district has the event ``event_id`` (a client's last id from before the
        database was reset or its incidents deleted has none)."""
        if not 0 < event_id < 2**31:
            return False
        with self._read() as conn:
            return (
                conn.execute(
                    sa.select(E.id).where(E.id == event_id, E.district_code == district_code)
                ).first()
                is not None
            )


__all__ = ["CHANNEL", "COLUMNS", "FeedStore", "claim", "scope_values"]
