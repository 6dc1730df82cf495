"""Incidents in the database: recording one with the first entry of its log, applying a step of
the workflow (one transaction, refused if someone changed the incident meanwhile), merging,
photos, re-routing open incidents when boundaries change, the category catalogue, lists
filtered, sorted and paged in SQL, and a history written in bulk (the sample's). What a step
does is decided by :mod:`geogrid.usecases.incidents`; this module only keeps it."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa

from ..errors import Conflict, InputError, NotFound
from ..incidents import ESCALATED, MERGEABLE, MERGED, OPEN, RUNNING, Catalogue, Category, Incident
from ..incidents.photos import Photo
from ..incidents.query import IncidentQuery
from . import feed
from . import schema as t
from .base import StoreBase, audit
from .bulk import insert_many
from .types import utcnow

I = t.incidents.c  # noqa: E741
_FIELDS = [c.name for c in t.incidents.columns if c.name != "geom"]
#: Incidents written per transaction by :meth:`IncidentStore.insert_incidents`.
CHUNK = 5000
#: The feed's scope columns of an event, filled from its incident (:mod:`.feed`).
_SCOPE = ("district_code", "grid_code", "worker", "office")
_EVENT_COLUMNS = [
    "incident_id",
    *(c.name for c in t.incident_events.columns if c.name not in ("id", "incident_id", *_SCOPE)),
    *_SCOPE,
]


class IncidentStore(StoreBase):
    """Reported incidents, their event logs and photos, and the category catalogue."""

    # ------------------------------------------------------------------ categories
    def catalogue(self, *, inactive: bool = False) -> Catalogue:
        """The categories as the administrators keep them (active ones unless ``inactive``)."""
        q = sa.select(t.incident_categories)
        if not inactive:
            q = q.where(t.incident_categories.c.active.is_(True))
        with self._read() as conn:
            rows = conn.execute(q).all()
        return Catalogue(_category(r) for r in rows)

    def category_states(self) -> dict[str, bool]:
        """Every category's code and whether it is active."""
        c = t.incident_categories.c
        with self._read() as conn:
            return dict(conn.execute(sa.select(c.code, c.active)).all())

    def save_category(self, category: Category, *, active: bool, actor: str) -> None:
        """Add or change a category (a code is never deleted: incidents keep pointing at it)."""
        values = {**category.to_dict(), "active": active}
        c = t.incident_categories.c
        with self._write() as conn:
            n = conn.execute(
                t.incident_categories.update().where(c.code == category.code).values(**values)
            ).rowcount
            if not n:
                conn.execute(t.incident_categories.insert().values(**values))
            audit(conn, actor, "update" if n else "create", "category", category.code, values)

    # ------------------------------------------------------------------ writing
    def create_incident(
        self, values: dict, *, actor: str, note: str = "", photos=(), merge_into=None
    ) -> Incident:
        """Record a new incident (``values``: its columns) with the ``report`` entry of its log
        and its photos (already on disk, see :mod:`geogrid.incidents.photos`); with
        ``merge_into`` (an incident as read a moment ago), merged into it in the same
        transaction, and that one is returned."""
        import shapely

        now = utcnow()
        with self._write() as conn:
            feed.claim(conn, values["district_code"])
            iid = conn.execute(
                t.incidents.insert()
                .values(
                    **values,
                    geom=shapely.Point(values["lon"], values["lat"]),
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                )
                .returning(I.id)
            ).scalar_one()
            scope = feed.scope_values(values)
            eid = _event(conn, iid, scope, now, actor, "report", None, values["state"], note, {})
            _photos(conn, iid, eid, photos, now, actor)
            if merge_into is not None:
                conn.execute(
                    t.incidents.update()
                    .where(I.id == iid)
                    .values(state=MERGED, merged_into=merge_into.id, updated_at=now)
                )
                detail = {"into": merge_into.id}
                _event(conn, iid, scope, now, actor, "merge", values["state"], MERGED, "", detail)
                _merged_into(conn, merge_into, iid, values, now, actor, "")
        return self.incident(merge_into.id if merge_into is not None else iid)

    def apply(
        self,
        incident: Incident,
        action: str,
        values: dict,
        *,
        actor: str,
        note: str = "",
        detail: dict | None = None,
        photos=(),
        also=None,
    ) -> Incident:
        """Change ``incident`` as read a moment ago (``values``: the columns that change) and log
        ``action``, in one transaction; :class:`Conflict` if it changed since it was read.
        ``also(conn, now)`` runs in the same transaction (a merge's second incident)."""
        now = utcnow()
        with self._write() as conn:
            feed.claim(conn, incident.district_code)
            _change(conn, incident, values, now)
            eid = _event(
                conn, incident.id, _scope(incident, values), now, actor, action, incident.state,
                values.get("state", incident.state), note, detail or {},
            )  # fmt: skip
            _photos(conn, incident.id, eid, photos, now, actor)
            if also is not None:
                also(conn, now)
        return self.incident(incident.id)

    def merge(self, dup: Incident, into: Incident, *, actor: str, note: str) -> Incident:
        """``dup`` becomes ``merged`` into ``into`` (still open), both logged, in one
        transaction; both reporters stay on record. Returns ``into``."""

        def log_on_target(conn, now):
            values = {"reporter": dup.reporter, "channel": dup.channel}
            _merged_into(conn, into, dup.id, values, now, actor, note)

        self.apply(
            dup, "merge", {"state": MERGED, "merged_into": into.id}, actor=actor, note=note,
            detail={"into": into.id}, also=log_on_target,
        )  # fmt: skip
        return self.incident(into.id)

    def add_photos(self, incident: Incident, photos, *, actor: str, note: str = "") -> Incident:
        return self.apply(incident, "photo", {}, actor=actor, note=note, photos=photos)

    # ------------------------------------------------------------------ in bulk
    def count_incidents(self, district_code: str) -> int:
        """How many incidents the district has (in any state)."""
        with self._read() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(t.incidents)
                .where(I.district_code == district_code)
            ).scalar_one()

    def delete_incidents(self, district_code: str, *, actor: str) -> tuple[int, list[Photo]]:
        """Delete every incident of the district with its log and photo records, in one
        transaction (audited): (how many, the photos, whose files the caller removes)."""
        ids = sa.select(I.id).where(I.district_code == district_code)
        p = t.incident_photos.c
        with self._write() as conn:
            photos = [
                Photo(r.key, r.content_type, r.size, r.width, r.height)
                for r in conn.execute(sa.select(t.incident_photos).where(p.incident_id.in_(ids)))
            ]
            conn.execute(t.incident_photos.delete().where(p.incident_id.in_(ids)))
            conn.execute(t.incident_events.delete().where(t.incident_events.c.incident_id.in_(ids)))
            conn.execute(
                t.incidents.update()
                .where(I.district_code == district_code, I.merged_into.is_not(None))
                .values(merged_into=None)
            )
            n = conn.execute(t.incidents.delete().where(I.district_code == district_code)).rowcount
            audit(conn, actor, "delete", "incident", district_code, {"incidents": n})
        return n, photos

    def insert_incidents(
        self,
        district_code: str,
        records: Iterable[tuple[dict, list[dict]]],
        *,
        actor: str,
        detail: dict | None = None,
        chunk: int = CHUNK,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write incidents of the district as they were recorded, each ``(columns, events)``:
        every column of ``incidents`` but ``id`` and ``geom`` (made from lon/lat), and its log,
        every column of ``incident_events`` but ``id`` and ``incident_id``. ``chunk``
        incidents per transaction, each table with one ``executemany``
        (:func:`.bulk.insert_many`); ``progress(n)`` after each. One audit record at the end
        (with ``detail``); on PostgreSQL the two tables are analysed then. Returns how many
        incidents."""
        import shapely

        columns = [
            "id",
            "geom",
            *(c.name for c in t.incidents.columns if c.name not in ("id", "geom")),
        ]
        of_incident = operator.itemgetter(*columns[2:])
        of_event = operator.itemgetter(*_EVENT_COLUMNS[1 : -len(_SCOPE)])
        total = 0
        it = iter(records)
        while batch := list(itertools.islice(it, chunk)):
            incs = [r for r, _ in batch]
            if any(r["district_code"] != district_code for r in incs):
                raise InputError(f"an incident of another district than {district_code}")
            geoms = shapely.points([r["lon"] for r in incs], [r["lat"] for r in incs])
            with self._write() as conn:
                feed.claim(conn, district_code)
                ids = _new_ids(conn, len(batch))
                insert_many(
                    conn, t.incidents, columns,
                    [(i, g, *of_incident(r)) for i, r, g in zip(ids, incs, geoms, strict=True)],
                )  # fmt: skip
                insert_many(
                    conn, t.incident_events, _EVENT_COLUMNS,
                    [(i, *of_event(e), *feed.scope_values(r).values())
                     for i, (r, events) in zip(ids, batch, strict=True) for e in events],
                )  # fmt: skip
            total += len(batch)
            if progress is not None:
                progress(len(batch))
        with self._write() as conn:
            counts = {"incidents": total, **(detail or {})}
            audit(conn, actor, "insert", "incident", district_code, counts)
            if conn.dialect.name == "postgresql":  # the planner's figures, at once
                conn.execute(sa.text("ANALYZE incidents"))
                conn.execute(sa.text("ANALYZE incident_events"))
        return total

    # ------------------------------------------------------------------ reading
    def incident(self, incident_id: int) -> Incident:
        with self._read() as conn:
            row = conn.execute(sa.select(*_cols()).where(I.id == incident_id)).first()
            if row is None:
                raise NotFound(f"no incident {incident_id}")
            inc = _incident(row)
            _details(conn, [inc])
        return inc

    def photo(self, photo_id: int) -> tuple[int, dict]:
        """(incident id, the photo's record) of a photo."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.incident_photos).where(t.incident_photos.c.id == photo_id)
            ).first()
        if row is None:
            raise NotFound(f"no photo {photo_id}")
        return row.incident_id, _photo_dict(row)

    def search_incidents(
        self,
        district_code: str,
        query: IncidentQuery,
        *,
        grids: frozenset[str] | None = None,
        office: str | None = None,
        now: datetime | None = None,
        count: bool = True,
        details: bool = False,
        private: bool = True,
    ) -> tuple[int | None, list[Incident]]:
        """(how many match, one page of them) for ``query``, within ``grids`` (a grid worker's)
        or escalated to ``office`` (an office user's) when given; with ``details``, each with
        its log, photos and merged incidents (as :meth:`incident` reads them); without
        ``private``, the text is not looked for in reporters' names."""
        where = _where(district_code, query, grids, office, now or utcnow(), private)
        key = query.sort.lstrip("-")
        col = I[key]
        order = [col.desc() if query.sort.startswith("-") else col.asc()]
        if key != "id":
            order.append(I.id.desc())
        q = sa.select(*_cols()).where(*where).order_by(*order)
        with self._read() as conn:
            total = (
                conn.execute(
                    sa.select(sa.func.count()).select_from(t.incidents).where(*where)
                ).scalar_one()
                if count
                else None
            )
            rows = conn.execute(q.limit(query.limit).offset(query.offset)).all()
            found = [_incident(r) for r in rows]
            if details:
                _details(conn, found)
        return total, found

    def nearby_open(
        self, district_code: str, category: str, lon: float, lat: float, radius_m: float, since
    ) -> list[Incident]:
        """Open incidents of ``category`` reported since ``since`` in the box around the point
        (the caller measures the exact distance)."""
        dlat = radius_m / 111_000.0
        dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
        q = sa.select(*_cols()).where(
            I.district_code == district_code,
            I.category == category,
            I.state.in_(sorted(MERGEABLE)),
            I.created_at >= since,
            I.lon.between(lon - dlon, lon + dlon),
            I.lat.between(lat - dlat, lat + dlat),
        )
        with self._read() as conn:
            return [_incident(r) for r in conn.execute(q.order_by(I.id.desc()).limit(50))]


# ---------------------------------------------------------------------- helpers
def _new_ids(conn, n: int) -> list[int]:
    """``n`` new incident ids, taken in the caller's (writing) transaction: from the id
    sequence on PostgreSQL, after the largest id on SQLite (whose writer holds the lock)."""
    if conn.dialect.name == "postgresql":
        return sorted(
            conn.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence('incidents', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            ).scalars()
        )
    last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(I.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + n))


def _cols():
    return [I[name] for name in _FIELDS]


def _details(conn, incidents: list[Incident]) -> None:
    """Fill in the log, photos and merged incidents of ``incidents`` (a few queries for all)."""
    by_id = {inc.id: inc for inc in incidents}
    e, p = t.incident_events.c, t.incident_photos.c
    for start in range(0, len(by_id), 500):  # bound the IN lists
        ids = list(by_id)[start : start + 500]
        for r in conn.execute(
            sa.select(t.incident_events).where(e.incident_id.in_(ids)).order_by(e.id)
        ):
            by_id[r.incident_id].events.append(_event_dict(r))
        for r in conn.execute(
            sa.select(t.incident_photos).where(p.incident_id.in_(ids)).order_by(p.id)
        ):
            by_id[r.incident_id].photos.append(_photo_dict(r))
        for iid, into in conn.execute(
            sa.select(I.id, I.merged_into).where(I.merged_into.in_(ids)).order_by(I.id)
        ):
            by_id[into].merged.append(iid)


def _change(conn, incident: Incident, values: dict, now) -> None:
    """Update ``incident``'s row unless it changed since it was read (then :class:`Conflict`)."""
    n = conn.execute(
        t.incidents.update()
        .where(I.id == incident.id, I.state == incident.state, I.updated_at == incident.updated_at)
        .values(**values, updated_at=now)
    ).rowcount
    if n != 1:
        raise Conflict(
            f"incident {incident.id} was changed by someone else meanwhile: reload it and try again"
        )


def _scope(incident: Incident, values: dict | None = None) -> dict:
    """The feed's scope of an event of ``incident`` once ``values`` (its changed columns) hold."""
    values = values or {}
    cols = ("district_code", "grid_code", "worker", "office", "escalated_at")
    return feed.scope_values({c: values.get(c, getattr(incident, c)) for c in cols})


def _event(conn, iid, scope, now, actor, action, from_state, to_state, note, detail) -> int:
    """Log an event of incident ``iid`` with the feed's ``scope`` (:func:`.feed.scope_values`:
    where the incident stands after it), in a transaction that called :func:`.feed.claim`."""
    return conn.execute(
        t.incident_events.insert()
        .values(
            incident_id=iid, at=now, actor=actor, action=action, from_state=from_state,
            to_state=to_state, note=note or "", detail=detail, **scope,
        )
        .returning(t.incident_events.c.id)
    ).scalar_one()  # fmt: skip


def _photos(conn, iid, eid, photos, now, actor) -> None:
    for p in photos:
        conn.execute(
            t.incident_photos.insert().values(
                incident_id=iid, event_id=eid, key=p.key, content_type=p.content_type,
                size=p.size, width=p.width, height=p.height, created_at=now, created_by=actor,
            )
        )  # fmt: skip


def _merged_into(conn, into: Incident, dup_id: int, dup: dict, now, actor: str, note: str) -> None:
    """Log on ``into`` (as read a moment ago: Conflict if it changed) that ``dup_id`` was merged
    into it, with that report's reporter and channel."""
    _change(conn, into, {}, now)
    detail = {"incident": dup_id, "reporter": dup.get("reporter"), "channel": dup.get("channel")}
    _event(conn, into.id, _scope(into), now, actor, "merge", into.state, into.state, note, detail)


def _where(district_code, q: IncidentQuery, grids, office, now, private=True) -> list:
    w = [I.district_code == district_code]
    if grids is not None:
        w.append(I.grid_code.in_(sorted(grids)))
    if office is not None:
        w += [I.office == office, I.escalated_at.is_not(None)]
    if q.ids:  # numbers beyond the column's 32 bits are no incident's (PostgreSQL refuses them)
        w.append(I.id.in_([i for i in q.ids if 0 < i < 2**31]))
    if q.states:
        w.append(I.state.in_(q.states))
    if q.community:
        w.append(I.grid1_code == q.community)
    if q.grid:
        w.append(I.grid_code == q.grid)
    if q.category:
        w.append(
            I.category == q.category if len(q.category) == 4 else I.category.startswith(q.category)
        )
    if q.channel:
        w.append(I.channel == q.channel)
    if q.office:
        w.append(I.office == q.office)
    if q.since:
        w.append(I.created_at >= q.since)
    if q.until:
        w.append(I.created_at < q.until)
    if q.bbox is not None:
        w += [I.lon >= q.bbox[0], I.lon <= q.bbox[2], I.lat >= q.bbox[1], I.lat <= q.bbox[3]]
    if q.overdue is not None:
        late = overdue_clause(now)
        w.append(late if q.overdue else sa.not_(late))
    if q.text:
        like = f"%{q.text.replace('%', '').replace('_', '')}%"
        match = [I.description.like(like), I.address.like(like)]
        if private:  # a reporter's name is searched by those who may read it only
            match.append(I.reporter.like(like))
        number = q.text.lstrip("#")
        if number.isascii() and number.isdigit() and len(number) <= 10 and int(number) < 2**31:
            match.append(I.id == int(number))
        w.append(sa.or_(*match))
    return w


def overdue_clause(now):
    """SQL: the incident's running deadline has passed (see :meth:`Incident.deadline`)."""
    running = I.state.in_(sorted(RUNNING))
    office_late = sa.and_(
        I.state == ESCALATED, I.office_due_at.is_not(None), I.office_due_at <= now
    )
    handling_late = sa.and_(
        sa.or_(I.state != ESCALATED, I.office_due_at.is_(None)), I.due_at <= now
    )
    return sa.and_(running, sa.or_(office_late, handling_late))


def reroute_open(
    conn, district_code: str, make_locator, workers: dict, version_id: int, number: int, now, actor
) -> int:
    """Open incidents whose place lies in another grid in the new version (its locator made by
    ``make_locator()``) follow the new
    owner (grid, community, worker on duty ``workers[grid]``), each logged; in the caller's
    transaction. Returns how many moved."""
    feed.claim(conn, district_code)
    rows = conn.execute(
        sa.select(
            I.id,
            I.lon,
            I.lat,
            I.grid_code,
            I.grid1_code,
            I.state,
            I.worker,
            I.office,
            I.escalated_at,
        ).where(I.district_code == district_code, I.state.in_(sorted(OPEN)))
    ).all()
    if not rows:
        return 0
    found = make_locator().locate_many([r.lon for r in rows], [r.lat for r in rows])
    moved = 0
    for r, g2, g1 in zip(rows, found.grid2_codes, found.grid1_codes, strict=True):
        if g2 == r.grid_code:
            conn.execute(t.incidents.update().where(I.id == r.id).values(version_id=version_id))
            continue
        worker = workers.get(g2)
        conn.execute(
            t.incidents.update()
            .where(I.id == r.id)
            .values(
                version_id=version_id, grid_code=g2, grid1_code=g1, worker=worker, updated_at=now
            )
        )
        detail = {
            "version": number,
            "from_grid": r.grid_code,
            "to_grid": g2,
            "from_worker": r.worker,
            "to_worker": worker,
        }
        scope = feed.scope_values(
            {"district_code": district_code, "grid_code": g2, "worker": worker,
             "office": r.office, "escalated_at": r.escalated_at}
        )  # fmt: skip
        _event(
            conn,
            r.id,
            scope,
            now,
            actor,
            "reroute",
            r.state,
            r.state,
            f"boundary version {number} published",
            detail,
        )
        moved += 1
    return moved


def _incident(row) -> Incident:
    d = row._asdict()
    return Incident(**d)


def _event_dict(r) -> dict:
    return {
        "id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "from_state": r.from_state,
        "to_state": r.to_state, "note": r.note, "detail": r.detail or {},
    }  # fmt: skip


def _photo_dict(r) -> dict:
    return {
        "id": r.id, "event_id": r.event_id, "key": r.key, "content_type": r.content_type,
        "size": r.size, "width": r.width, "height": r.height, "created_at": r.created_at,
        "created_by": r.created_by,
    }  # fmt: skip


def _category(r) -> Category:
    return Category(r.code, r.major, r.major_en, r.minor, r.minor_en, r.workdays, r.office)


__all__ = ["IncidentStore", "overdue_clause", "reroute_open"]
