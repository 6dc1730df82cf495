"""The duty roster in the database: people, who is on duty for which grid from when to when,
assigning, and the roster a newly published version brings. The rules (roles, levels, which
duties a version changes) are :mod:`geogrid.roster`'s."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from .. import roster
from ..errors import NotFound
from ..model import GRID1_COLUMNS, GRID2_COLUMNS, District, _frame
from ..roster import Duty
from . import schema as t
from .base import StoreBase, audit, bump
from .types import aware, utcnow


def _person(conn, kind: str, name: str, phone: str | None, title: str | None) -> int:
    p = t.people.c
    found = conn.execute(
        sa.select(p.id).where(
            p.kind == kind,
            p.name == name,
            p.phone.is_(None) if phone is None else p.phone == phone,
            p.title.is_(None) if title is None else p.title == title,
        )
    ).first()
    if found:
        return found.id
    return conn.execute(
        t.people.insert().values(kind=kind, name=name, phone=phone, title=title).returning(p.id)
    ).scalar_one()


def assign_duty(conn, district_code, grid_code, role, name, phone, title, when, actor) -> None:
    """Duties of one grid and role never overlap: the duty covering ``when`` ends then (one
    starting exactly then is replaced), and the new one runs until the next scheduled duty."""
    d = t.duties.c
    same = (d.district_code == district_code, d.grid_code == grid_code, d.role == role)
    conn.execute(t.duties.delete().where(*same, d.valid_from == when))
    conn.execute(
        t.duties.update()
        .where(*same, d.valid_from < when, sa.or_(d.valid_to.is_(None), d.valid_to > when))
        .values(valid_to=when)
    )
    until = conn.execute(
        sa.select(sa.func.min(d.valid_from)).where(*same, d.valid_from > when)
    ).scalar()
    if name:
        pid = _person(conn, roster.kind_of(role), name, phone, title)
        conn.execute(
            t.duties.insert().values(
                district_code=district_code,
                grid_code=grid_code,
                role=role,
                person_id=pid,
                valid_from=when,
                valid_to=until,
                created_by=actor,
            )
        )
    audit(
        conn,
        actor,
        "assign",
        "roster",
        f"{grid_code}/{role}",
        {"name": name, "phone": phone, "title": title, "from": when.isoformat()},
    )


def duties_at(conn, district_code: str, when: datetime) -> dict[str, dict[str, Duty]]:
    """Who was on duty at ``when``: grid code → role → :class:`Duty` (in ``conn``'s transaction)."""
    d, p = t.duties.c, t.people.c
    rows = conn.execute(
        sa.select(d.id, d.grid_code, d.role, d.valid_from, d.valid_to, p.name, p.phone, p.title)
        .join(t.people, p.id == d.person_id)
        .where(
            d.district_code == district_code,
            d.valid_from <= when,
            sa.or_(d.valid_to.is_(None), d.valid_to > when),
        )
    ).all()
    out: dict[str, dict[str, Duty]] = defaultdict(dict)
    for r in rows:
        out[r.grid_code][r.role] = Duty(
            r.id, r.grid_code, r.role, r.name, r.phone, r.title, r.valid_from, r.valid_to
        )
    return out


def sync_roster(
    conn, district_code: str, version_id: int, replaced: int | None, when: datetime, actor: str
) -> None:
    """Put on duty the people a newly published version names where it changed them (see
    :func:`geogrid.roster.changes_on_publish`), and end the duties of grids it no longer has,
    in the publishing transaction."""
    g = t.grids.c

    def named(vid):
        rows = conn.execute(
            sa.select(g.code, g.level, g.attrs).where(g.version_id == vid, g.level > 0)
        ).all()
        return {r.code: (r.level, r.attrs or {}) for r in rows}

    current = duties_at(conn, district_code, when)
    before = named(replaced) if replaced is not None else {}
    after = named(version_id)
    gone = sorted(set(current) - set(after) - {district_code})
    if gone:  # a retired grid's people are on duty there no longer
        d = t.duties.c
        conn.execute(
            t.duties.update()
            .where(
                d.district_code == district_code, d.grid_code.in_(gone), d.valid_from <= when,
                sa.or_(d.valid_to.is_(None), d.valid_to > when),
            )
            .values(valid_to=when)
        )  # fmt: skip
        conn.execute(
            t.duties.delete().where(
                d.district_code == district_code, d.grid_code.in_(gone), d.valid_from > when
            )
        )
    changes = list(roster.changes_on_publish(after, before, current))
    for code, role, name, phone, title in changes:
        assign_duty(conn, district_code, code, role, name, phone, title, when, actor)


class RosterStore(StoreBase):
    """Who is on duty in each grid, its history, and changing it."""

    def assign(
        self,
        district_code: str,
        grid_code: str,
        role: str,
        name: str | None,
        phone: str | None = None,
        title: str | None = None,
        *,
        actor: str,
        valid_from: datetime | None = None,
    ) -> None:
        """Put a person (or office) on duty for a grid from ``valid_from`` (default now); the
        previous holder's duty ends then. ``name=None`` leaves the post vacant."""
        roster.check_role(role)
        when = aware(valid_from, "valid_from") or utcnow()
        with self._write() as conn:
            current = conn.execute(
                sa.select(t.district_state.c.current_version_id).where(
                    t.district_state.c.district_code == district_code
                )
            ).scalar()
            if current is None:
                raise NotFound(f"district {district_code} has no published version")
            level = conn.execute(
                sa.select(t.grids.c.level).where(
                    t.grids.c.version_id == current, t.grids.c.code == grid_code
                )
            ).scalar()
            if level is None:
                raise NotFound(f"no grid {grid_code} in the current version")
            roster.check_assignment(role, level, grid_code)
            assign_duty(conn, district_code, grid_code, role, name, phone, title, when, actor)
            bump(conn, district_code)

    def duties_at(
        self, district_code: str, when: datetime | None = None
    ) -> dict[str, dict[str, Duty]]:
        """Who was on duty at ``when`` (default now): grid code → role → :class:`Duty`."""
        aware(when, "when")
        with self._read() as conn:
            return duties_at(conn, district_code, when or utcnow())

    def duty_history(self, district_code: str, grid_code: str) -> list[Duty]:
        """Every duty ever recorded for a grid, oldest first."""
        d, p = t.duties.c, t.people.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    d.id, d.grid_code, d.role, d.valid_from, d.valid_to, p.name, p.phone, p.title
                )
                .join(t.people, p.id == d.person_id)
                .where(d.district_code == district_code, d.grid_code == grid_code)
                .order_by(d.valid_from, d.id)
            ).all()
        return [
            Duty(r.id, r.grid_code, r.role, r.name, r.phone, r.title, r.valid_from, r.valid_to)
            for r in rows
        ]

    def with_roster(self, district: District, when: datetime | None = None) -> District:
        """``district`` (a loaded version) with the people on duty at ``when`` (default now):
        one roster query, no geometry read again."""
        aware(when, "when")
        with self._read() as conn:
            duties = duties_at(conn, district.code, when or utcnow())
        layers = []
        for frame, level, columns in (
            (district.grids1, 1, GRID1_COLUMNS),
            (district.grids2, 2, GRID2_COLUMNS),
        ):
            records = frame.drop(columns="geometry").to_dict("records")
            for rec in records:
                rec.update(roster.people(level, duties.get(rec["code"], {})))
            layers.append(_frame(records, columns, frame.geometry.values))  # as load_district
        return dataclasses.replace(district, grids1=layers[0], grids2=layers[1])
