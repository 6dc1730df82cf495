"""A planner's drafts in the database: a base version and the edits made on it, in order.

A draft keeps its edits, not grids: the drafted district is the base version with the active
edits replayed (:mod:`geogrid.usecases.planning` does that). Undo makes the last active edit
inactive, redo the first inactive one active again, and a new edit drops the inactive ones. Every
change is one transaction that checks the revision the caller saw (optimistic locking: a stale
one is :class:`~geogrid.errors.Conflict`) and moves it on by one, with its audit record.
Publishing stores the drafted district as a version, makes it current and marks the draft
published, all in one transaction (:meth:`DraftStore.publish_draft`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..errors import Conflict, InputError, NotFound
from ..incidents import FINAL, OPEN
from ..model import District
from . import schema as t
from .base import StoreBase, audit
from .types import utcnow
from .versions import VersionInfo, insert_version, publish_version

OPEN_DRAFT, PUBLISHED, DISCARDED = "open", "published", "discarded"
STATUSES = (OPEN_DRAFT, PUBLISHED, DISCARDED)
#: Most edits one draft keeps (undone ones included).
MAX_EDITS = 2000
#: Longest draft name.
MAX_NAME = 200


@dataclass(frozen=True)
class DraftEdit:
    """One edit of a draft: ``edit`` is :meth:`geogrid.planning.Edit.to_dict`."""

    id: int
    seq: int
    edit: dict
    actor: str
    at: datetime
    active: bool

    def to_dict(self) -> dict:
        return {
            "id": self.id, "seq": self.seq, "edit": self.edit, "actor": self.actor,
            "at": self.at.isoformat(), "active": self.active,
        }  # fmt: skip


@dataclass(frozen=True)
class DraftInfo:
    """A draft and its edits (in order, undone ones last and inactive)."""

    id: int
    district_code: str
    base_version_id: int
    name: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int
    status: str
    published_version_id: int | None
    edits: tuple[DraftEdit, ...] = ()

    @property
    def active(self) -> tuple[DraftEdit, ...]:
        """The edits in force, in order."""
        return tuple(e for e in self.edits if e.active)

    @property
    def undone(self) -> tuple[DraftEdit, ...]:
        """The edits undone, which redo brings back in order."""
        return tuple(e for e in self.edits if not e.active)

    def to_dict(self) -> dict:
        out = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("edits", "created_at", "updated_at")
        }
        out.update(
            created_at=self.created_at.isoformat(),
            updated_at=self.updated_at.isoformat(),
            edits=[e.to_dict() for e in self.edits],
        )
        return out


def _name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError("a draft needs a name")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InputError(f"a draft's name has at most {MAX_NAME} characters, not {len(name)}")
    return name


class DraftStore(StoreBase):
    """Drafts, their edits, undo and redo, rebasing and publishing."""

    # ------------------------------------------------------------------ reading
    def draft(self, draft_id: int) -> DraftInfo:
        """One draft with its edits; :class:`NotFound` if there is none."""
        with self._read() as conn:
            return _draft(conn, draft_id)

    def drafts(self, district_code: str, *, status: str | None = OPEN_DRAFT) -> list[DraftInfo]:
        """The drafts of a district (with ``status``; None: all), newest first, with their
        edits."""
        if status is not None and status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        d = t.drafts.c
        where = [d.district_code == district_code]
        if status is not None:
            where.append(d.status == status)
        with self._read() as conn:
            rows = conn.execute(sa.select(t.drafts).where(*where).order_by(d.id.desc())).all()
            edits = _edits(conn, [r.id for r in rows])
        return [_info(r, edits.get(r.id, ())) for r in rows]

    def retired_codes(self, district_code: str, up_to_version_id: int) -> frozenset[str]:
        """Every grid code the district's versions up to ``up_to_version_id`` (by id) ever had:
        codes an edit never gives to a new grid. Fixed for a given version, so a draft replays
        alike in every process."""
        g, v = t.grids.c, t.versions.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(g.code)
                .distinct()
                .join(t.versions, v.id == g.version_id)
                .where(v.district_code == district_code, v.id <= up_to_version_id, g.level > 0)
            ).all()
        return frozenset(r.code for r in rows)

    def open_incident_places(self, district_code: str) -> list:
        """The open incidents' ``id, state, lon, lat, grid_code, worker``: what a new version
        may move."""
        i = t.incidents.c
        with self._read() as conn:
            return conn.execute(
                sa.select(i.id, i.state, i.lon, i.lat, i.grid_code, i.worker)
                .where(i.district_code == district_code, i.state.in_(sorted(OPEN)))
                .order_by(i.id)
            ).all()

    def incident_places_since(self, district_code: str, since: datetime) -> list:
        """The ``lon, lat`` of every incident reported at or after ``since``, except those
        cancelled or merged into another (a workload counts problems, not duplicates)."""
        i = t.incidents.c
        with self._read() as conn:
            return conn.execute(
                sa.select(i.lon, i.lat).where(
                    i.district_code == district_code,
                    i.created_at >= since,
                    i.state.not_in(sorted(FINAL)),
                )
            ).all()

    # ------------------------------------------------------------------ changing
    def create_draft(
        self, district_code: str, base_version_id: int, name: str, *, actor: str, edits=()
    ) -> DraftInfo:
        """A new draft of ``base_version_id`` (a version of ``district_code``), empty or with
        ``edits`` (dicts, in order; each counts one revision) made in the same transaction."""
        name = _name(name)
        now = utcnow()
        with self._write() as conn:
            base = conn.execute(
                sa.select(t.versions.c.district_code, t.versions.c.number).where(
                    t.versions.c.id == base_version_id
                )
            ).first()
            if base is None or base.district_code != district_code:
                raise NotFound(f"no version {base_version_id} of district {district_code}")
            did = conn.execute(
                t.drafts.insert()
                .values(
                    district_code=district_code,
                    base_version_id=base_version_id,
                    name=name,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                    revision=len(edits),
                    status=OPEN_DRAFT,
                )
                .returning(t.drafts.c.id)
            ).scalar_one()
            if edits:
                conn.execute(
                    t.draft_edits.insert(),
                    [
                        {"draft_id": did, "seq": k, "edit": e, "actor": actor, "at": now,
                         "active": True}
                        for k, e in enumerate(edits, 1)
                    ],
                )  # fmt: skip
            detail = {"name": name, "base": base.number}
            if edits:
                detail["edits"] = [e.get("kind") for e in edits]
            audit(conn, actor, "create", "draft", did, detail)
            return _draft(conn, did)

    def append_edit(self, draft_id: int, edit: dict, *, actor: str, revision: int) -> DraftInfo:
        """Add ``edit`` after the active edits (the undone ones are dropped)."""
        with self._write() as conn:
            draft = _lock(conn, draft_id, revision)
            e = t.draft_edits.c
            conn.execute(t.draft_edits.delete().where(e.draft_id == draft_id, e.active.is_(False)))
            top = conn.execute(sa.select(sa.func.max(e.seq)).where(e.draft_id == draft_id)).scalar()
            if (top or 0) >= MAX_EDITS:
                raise InputError(
                    f"draft {draft.name} has {MAX_EDITS} edits, the most a draft keeps: publish "
                    "it or start another"
                )
            conn.execute(
                t.draft_edits.insert().values(
                    draft_id=draft_id, seq=(top or 0) + 1, edit=edit, actor=actor, at=utcnow(),
                    active=True,
                )
            )  # fmt: skip
            _bump(conn, draft, actor, "edit", {"edit": edit.get("kind"), "seq": (top or 0) + 1})
            return _draft(conn, draft_id)

    def undo_edit(self, draft_id: int, *, actor: str, revision: int | None = None) -> DraftInfo:
        """Make the last active edit inactive; :class:`InputError` when there is none."""
        return self._step(draft_id, actor, revision, undo=True)

    def redo_edit(self, draft_id: int, *, actor: str, revision: int | None = None) -> DraftInfo:
        """Make the first undone edit active again; :class:`InputError` when there is none."""
        return self._step(draft_id, actor, revision, undo=False)

    def _step(self, draft_id, actor, revision, *, undo: bool) -> DraftInfo:
        e = t.draft_edits.c
        with self._write() as conn:
            draft = _lock(conn, draft_id, revision)
            if undo:
                seq = conn.execute(
                    sa.select(sa.func.max(e.seq)).where(e.draft_id == draft_id, e.active)
                ).scalar()
            else:
                seq = conn.execute(
                    sa.select(sa.func.min(e.seq)).where(e.draft_id == draft_id, e.active.is_(False))
                ).scalar()
            if seq is None:
                raise InputError(f"draft {draft.name} has no edit to {'undo' if undo else 'redo'}")
            conn.execute(
                t.draft_edits.update()
                .where(e.draft_id == draft_id, e.seq == seq)
                .values(active=not undo)
            )
            _bump(conn, draft, actor, "undo" if undo else "redo", {"seq": seq})
            return _draft(conn, draft_id)

    def discard_draft(self, draft_id: int, *, actor: str, revision: int | None = None) -> DraftInfo:
        """Give a draft up: it is kept, with its edits, as discarded."""
        with self._write() as conn:
            draft = _lock(conn, draft_id, revision)
            _bump(conn, draft, actor, "discard", {}, status=DISCARDED)
            return _draft(conn, draft_id)

    def rebase_draft(
        self,
        draft_id: int,
        base_version_id: int,
        kept: list[DraftEdit],
        *,
        actor: str,
        revision: int,
        dropped: list[dict] = (),
    ) -> DraftInfo:
        """Move a draft onto ``base_version_id`` with the edits ``kept`` (those that still
        apply, in order, keeping who made them and when); the others (``dropped``, for the
        audit log) and the undone edits go."""
        with self._write() as conn:
            draft = _lock(conn, draft_id, revision)
            conn.execute(t.draft_edits.delete().where(t.draft_edits.c.draft_id == draft_id))
            if kept:
                conn.execute(
                    t.draft_edits.insert(),
                    [
                        {"draft_id": draft_id, "seq": k, "edit": e.edit, "actor": e.actor,
                         "at": e.at, "active": True}
                        for k, e in enumerate(kept, 1)
                    ],
                )  # fmt: skip
            number = sa.select(t.versions.c.number)
            old = conn.execute(number.where(t.versions.c.id == draft.base_version_id)).scalar()
            new = conn.execute(number.where(t.versions.c.id == base_version_id)).scalar()
            _bump(
                conn, draft, actor, "rebase",
                {"from": old, "to": new, "kept": len(kept), "dropped": list(dropped)},
                base_version_id=base_version_id,
            )  # fmt: skip
            return _draft(conn, draft_id)

    def publish_draft(
        self,
        draft_id: int,
        district: District,
        report,
        *,
        actor: str,
        message: str,
        revision: int,
    ) -> tuple[DraftInfo, VersionInfo, int]:
        """Store ``district`` (the draft's result, validated: ``report``) as a new version made
        from the draft's base, make it current and mark the draft published, in one
        transaction; :class:`Conflict` (nothing stored) when the draft changed or its base is no
        longer current. Returns the draft, the version and how many open incidents moved."""
        with self._write() as conn:
            draft = _lock(conn, draft_id, revision)
            meta = {"draft": {"id": draft.id, "name": draft.name, "author": draft.created_by}}
            vid = insert_version(
                conn, district, actor, draft.base_version_id, message, meta, report
            )
            rerouted = publish_version(conn, vid, actor)
            edits = conn.execute(
                sa.select(sa.func.count()).where(
                    t.draft_edits.c.draft_id == draft_id, t.draft_edits.c.active
                )
            ).scalar()
            number = conn.execute(
                sa.select(t.versions.c.number).where(t.versions.c.id == vid)
            ).scalar_one()
            _bump(
                conn, draft, actor, "publish",
                {"version": number, "message": message, "author": draft.created_by,
                 "edits": edits, "rerouted": rerouted},
                status=PUBLISHED, published_version_id=vid,
            )  # fmt: skip
            info = _draft(conn, draft_id)
        return info, self.version(vid), rerouted


# ---------------------------------------------------------------------- helpers
def _info(row, edits) -> DraftInfo:
    return DraftInfo(
        row.id, row.district_code, row.base_version_id, row.name, row.created_by, row.created_at,
        row.updated_at, row.revision, row.status, row.published_version_id, tuple(edits),
    )  # fmt: skip


def _edits(conn, draft_ids) -> dict[int, list[DraftEdit]]:
    if not draft_ids:
        return {}
    e = t.draft_edits.c
    rows = conn.execute(
        sa.select(t.draft_edits).where(e.draft_id.in_(list(draft_ids))).order_by(e.draft_id, e.seq)
    ).all()
    out: dict[int, list[DraftEdit]] = {}
    for r in rows:
        out.setdefault(r.draft_id, []).append(
            DraftEdit(r.id, r.seq, dict(r.edit), r.actor, r.at, bool(r.active))
        )
    return out


def _draft(conn, draft_id: int) -> DraftInfo:
    row = conn.execute(sa.select(t.drafts).where(t.drafts.c.id == draft_id)).first()
    if row is None:
        raise NotFound(f"no draft {draft_id}")
    return _info(row, _edits(conn, [draft_id]).get(draft_id, ()))


def _lock(conn, draft_id: int, revision: int | None):
    """The draft's row, locked for this transaction; :class:`Conflict` unless it is open and
    (``revision`` given) still at ``revision``."""
    row = conn.execute(
        sa.select(t.drafts).where(t.drafts.c.id == draft_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no draft {draft_id}")
    if row.status != OPEN_DRAFT:
        raise Conflict(f"draft {row.name} is {row.status}: it can no longer change")
    if revision is not None and revision != row.revision:
        raise Conflict(
            f"draft {row.name} has changed since revision {revision} (it is at revision "
            f"{row.revision} now): reload it and make the change again"
        )
    return row


def _bump(conn, draft, actor: str, action: str, detail: dict, **values) -> None:
    """Move the draft on by one revision (the row is locked: nobody else moved it)."""
    d = t.drafts.c
    done = conn.execute(
        t.drafts.update()
        .where(d.id == draft.id, d.revision == draft.revision)
        .values(revision=draft.revision + 1, updated_at=utcnow(), **values)
    ).rowcount
    if done != 1:  # pragma: no cover - the row lock (or SQLite's write lock) prevents it
        raise Conflict(f"draft {draft.name} changed meanwhile: reload it and try again")
    audit(conn, actor, action, "draft", draft.id, {"revision": draft.revision + 1, **detail})
