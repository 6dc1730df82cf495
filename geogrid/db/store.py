"""The data layer: everything geogrid keeps, on SQLite or PostgreSQL/PostGIS, behind one class.

Every method that changes something runs in one transaction and writes its audit record in the
same transaction, so a process killed at any point leaves the previous state whole.

Boundary versions follow MapIt's generations: :meth:`Store.create_version` stores a *draft*
(validated first: bad data never gets in); :meth:`Store.publish` makes it current. A published
version never changes. Publishing checks that the current version is still the draft's base;
of two publishes from the same base exactly one wins and the other gets :class:`Conflict`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import accounts, incidents
from ..errors import Conflict, GeogridError, InputError, NotFound, ValidationFailed
from ..model import GRID1_COLUMNS, GRID2_COLUMNS, UNIT_COLUMNS, District, _frame
from . import schema as t
from .engine import make_engine, upgrade
from .types import aware, utcnow

#: Roles in the duty roster and the layer attributes that carry them.
ROSTER_ROLES = {
    "leader": {
        "level": 1,
        "name": "leader",
        "phone": "leader_phone",
        "title": "leader_title",
        "kind": "person",
    },
    "office": {
        "level": 1,
        "name": "office",
        "phone": "office_phone",
        "title": None,
        "kind": "office",
    },
    "worker": {
        "level": 2,
        "name": "worker",
        "phone": "worker_phone",
        "title": None,
        "kind": "person",
    },
}
_PEOPLE_ATTRS = {a for r in ROSTER_ROLES.values() for a in (r["name"], r["phone"], r["title"]) if a}


def _people(level: int, on_duty: dict) -> dict:
    """The people columns of a grid of ``level`` from its duties (role → :class:`Duty`)."""
    out = {}
    for role, spec in ROSTER_ROLES.items():
        if spec["level"] == level:
            d = on_duty.get(role)
            out[spec["name"]] = d.name if d else None
            out[spec["phone"]] = d.phone if d else None
            if spec["title"]:
                out[spec["title"]] = d.title if d else None
    return out


@dataclass(frozen=True)
class VersionInfo:
    """A boundary version (draft or published)."""

    id: int
    district_code: str
    number: int
    status: str
    base_id: int | None
    note: str
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None
    grid_count: int
    unit_count: int
    current: bool = False

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("created_at", "published_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass(frozen=True)
class Duty:
    """A person (or office) responsible for a grid in a role, from ``valid_from`` to ``valid_to``."""

    id: int
    grid_code: str
    role: str
    name: str
    phone: str | None
    title: str | None
    valid_from: datetime
    valid_to: datetime | None


@dataclass
class Incident:
    """A reported problem, where it is, who owns the place, and its event log."""

    id: int
    district_code: str
    version_id: int
    grid_code: str | None
    grid1_code: str | None
    lon: float
    lat: float
    category: str
    subcategory: str | None
    description: str
    channel: str
    reporter: str | None
    state: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    input: dict | None = None
    events: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("created_at", "updated_at", "due_at", "closed_at"):
            d[k] = d[k].isoformat() if d[k] else None
        d["events"] = [{**e, "at": e["at"].isoformat()} for e in self.events]
        return d


@contextmanager
def _own_errors() -> Iterator[None]:
    """geogrid's errors raised while SQLAlchemy binds a value (such as a :class:`~.types.Str`
    refusing a NUL character) come out as themselves, not wrapped in a ``StatementError``; the
    transaction has been rolled back by then."""
    try:
        yield
    except sa.exc.StatementError as exc:
        if isinstance(exc.orig, GeogridError):
            raise exc.orig from None
        raise


class Store:
    """All of geogrid's persistent state in one database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None):
        self.engine = engine or make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Create or migrate the schema (Alembic)."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            _own_errors(),
            self.engine.connect().execution_options(geogrid_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with _own_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @staticmethod
    def _audit(conn, actor: str, action: str, entity: str, key, detail: dict | None = None) -> None:
        conn.execute(
            t.audit_log.insert().values(
                at=utcnow(),
                actor=actor,
                action=action,
                entity=entity,
                entity_key=str(key),
                detail=detail or {},
            )
        )

    # ================================================================== districts & versions
    def districts(self) -> list[dict]:
        """Every district with its current version id."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    t.districts.c.code, t.districts.c.name, t.district_state.c.current_version_id
                )
                .join(t.district_state, t.district_state.c.district_code == t.districts.c.code)
                .order_by(t.districts.c.code)
            ).all()
        return [
            {"code": r.code, "name": r.name, "current_version_id": r.current_version_id}
            for r in rows
        ]

    def _ensure_district(self, conn, code: str, name: str) -> None:
        exists = conn.execute(
            sa.select(t.districts.c.code).where(t.districts.c.code == code)
        ).first()
        if exists is None:
            now = utcnow()
            conn.execute(t.districts.insert().values(code=code, name=name, created_at=now))
            conn.execute(
                t.district_state.insert().values(
                    district_code=code, current_version_id=None, revision=0, updated_at=now
                )
            )

    def create_version(
        self,
        district: District,
        *,
        actor: str,
        base_id: int | None | str = "current",
        note: str = "",
        meta: dict | None = None,
    ) -> VersionInfo:
        """Store ``district`` as a new draft version, after validating it.

        ``base_id`` is the version the draft was made from (``"current"``: the current one);
        publishing it later fails with :class:`Conflict` if another version was published since.
        Raises :class:`ValidationFailed` (nothing stored) when validation finds errors.
        """
        from ..validate import validate

        if not district.code:
            raise InputError("the district has no code")
        report = validate(district)
        if not report.ok:
            raise ValidationFailed(report)
        now = utcnow()
        with self._write() as conn:
            self._ensure_district(conn, district.code, district.name or district.code)
            if base_id == "current":
                base_id = conn.execute(
                    sa.select(t.district_state.c.current_version_id).where(
                        t.district_state.c.district_code == district.code
                    )
                ).scalar_one()
            number = (
                conn.execute(
                    sa.select(sa.func.max(t.versions.c.number)).where(
                        t.versions.c.district_code == district.code
                    )
                ).scalar()
                or 0
            ) + 1
            vid = conn.execute(
                t.versions.insert()
                .values(
                    district_code=district.code,
                    number=number,
                    status="draft",
                    base_id=base_id,
                    note=note,
                    meta={**district.meta, **(meta or {})},
                    created_at=now,
                    created_by=actor,
                    grid_count=len(district.grids2),
                    unit_count=len(district.units),
                )
                .returning(t.versions.c.id)
            ).scalar_one()
            conn.execute(t.grids.insert(), _grid_rows(vid, district))
            if len(district.units):
                conn.execute(t.units.insert(), _unit_rows(vid, district))
            self._audit(
                conn,
                actor,
                "create",
                "version",
                vid,
                {
                    "number": number,
                    "base_id": base_id,
                    "note": note,
                    "notices": len(report.notices),
                },
            )
        return self.version(vid)

    def publish(self, version_id: int, *, actor: str, force: bool = False) -> VersionInfo:
        """Make a draft the current version, in one transaction.

        Raises :class:`Conflict` if the version is not a draft, or if the current version is no
        longer the draft's base (someone published in between) unless ``force`` is set.
        Responsible people carried by the version's grids enter the duty roster from now on.
        """
        now = utcnow()
        with self._write() as conn:
            v = conn.execute(sa.select(t.versions).where(t.versions.c.id == version_id)).first()
            if v is None:
                raise NotFound(f"no version {version_id}")
            if v.status != "draft":
                raise Conflict(f"version {v.number} is already published")
            state = t.district_state.c
            # lock the district's row: a concurrent publish waits here, then sees the new current
            current = conn.execute(
                sa.select(state.current_version_id)
                .where(state.district_code == v.district_code)
                .with_for_update()
            ).scalar_one()
            if not force and current != v.base_id:
                raise Conflict(self._stale(conn, v, current))
            cond = (
                state.current_version_id.is_(None)
                if current is None
                else state.current_version_id == current
            )
            moved = conn.execute(
                t.district_state.update()
                .where(state.district_code == v.district_code, cond)
                .values(current_version_id=version_id, revision=state.revision + 1, updated_at=now)
            ).rowcount
            done = conn.execute(
                t.versions.update()
                .where(t.versions.c.id == version_id, t.versions.c.status == "draft")
                .values(status="published", published_at=now, published_by=actor)
            ).rowcount
            if moved != 1 or done != 1:  # only without row locks; kept as a last line of defence
                current = conn.execute(
                    sa.select(state.current_version_id).where(
                        state.district_code == v.district_code
                    )
                ).scalar_one()
                raise Conflict(self._stale(conn, v, current))
            conn.execute(
                t.activations.insert().values(
                    district_code=v.district_code,
                    version_id=version_id,
                    activated_at=now,
                    activated_by=actor,
                )
            )
            self._sync_roster(conn, v.district_code, version_id, current, now, actor)
            self._audit(
                conn,
                actor,
                "publish",
                "version",
                version_id,
                {"number": v.number, "replaced": current, "forced": force},
            )
        return self.version(version_id)

    @staticmethod
    def _stale(conn, v, current) -> str:
        """Why a draft cannot be published: another version became current after its base."""
        number = sa.select(t.versions.c.number)
        cur_no = conn.execute(number.where(t.versions.c.id == current)).scalar()
        base_no = conn.execute(number.where(t.versions.c.id == v.base_id)).scalar()
        return (
            f"version {cur_no} was published after draft {v.number} was made from "
            f"{'version ' + str(base_no) if base_no else 'an empty district'}: "
            "rebase the draft, or publish with force to overwrite"
        )

    def _version_info(self, conn, rows) -> list[VersionInfo]:
        current = {
            r.district_code: r.current_version_id
            for r in conn.execute(sa.select(t.district_state)).all()
        }
        return [
            VersionInfo(
                r.id, r.district_code, r.number, r.status, r.base_id, r.note, r.created_at, r.created_by,
                r.published_at, r.published_by, r.grid_count, r.unit_count, current.get(r.district_code) == r.id,
            )
            for r in rows
        ]  # fmt: skip

    def version(self, version_id: int) -> VersionInfo:
        """One version; :class:`NotFound` if there is none."""
        with self._read() as conn:
            rows = conn.execute(sa.select(t.versions).where(t.versions.c.id == version_id)).all()
            if not rows:
                raise NotFound(f"no version {version_id}")
            return self._version_info(conn, rows)[0]

    def versions(self, district_code: str) -> list[VersionInfo]:
        """All versions of a district, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.versions)
                .where(t.versions.c.district_code == district_code)
                .order_by(t.versions.c.number.desc())
            ).all()
            return self._version_info(conn, rows)

    def version_by_number(self, district_code: str, number: int) -> VersionInfo:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.versions).where(
                    t.versions.c.district_code == district_code, t.versions.c.number == number
                )
            ).all()
            if not rows:
                raise NotFound(f"no version {number} of district {district_code}")
            return self._version_info(conn, rows)[0]

    def current_version(self, district_code: str) -> VersionInfo | None:
        """The current (published) version, or None before the first publish."""
        vid = self.state(district_code)[0]
        return None if vid is None else self.version(vid)

    def version_at(self, district_code: str, when: datetime) -> VersionInfo | None:
        """The version that was current at ``when`` (None before the first publish)."""
        aware(when, "when")
        with self._read() as conn:
            vid = conn.execute(
                sa.select(t.activations.c.version_id)
                .where(
                    t.activations.c.district_code == district_code,
                    t.activations.c.activated_at <= when,
                )
                .order_by(t.activations.c.activated_at.desc(), t.activations.c.id.desc())
                .limit(1)
            ).scalar()
        return None if vid is None else self.version(vid)

    def state(self, district_code: str) -> tuple[int | None, int]:
        """(current version id, revision): one cheap query other processes poll for changes."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.district_state.c.current_version_id, t.district_state.c.revision).where(
                    t.district_state.c.district_code == district_code
                )
            ).first()
        if row is None:
            raise NotFound(f"no district {district_code}")
        return row.current_version_id, row.revision

    def load_district(self, version_id: int, *, people_at: datetime | None = None) -> District:
        """The boundary data of a version as a :class:`District`, with the people on duty at
        ``people_at`` (default: now) taken from the roster."""
        aware(people_at, "people_at")
        with self._read() as conn:
            v = conn.execute(sa.select(t.versions).where(t.versions.c.id == version_id)).first()
            if v is None:
                raise NotFound(f"no version {version_id}")
            name = conn.execute(
                sa.select(t.districts.c.name).where(t.districts.c.code == v.district_code)
            ).scalar_one()
            grid_rows = conn.execute(
                sa.select(t.grids)
                .where(t.grids.c.version_id == version_id)
                .order_by(t.grids.c.code)
            ).all()
            unit_rows = conn.execute(
                sa.select(t.units)
                .where(t.units.c.version_id == version_id)
                .order_by(t.units.c.code)
            ).all()
            duties = self._duties_at(conn, v.district_code, people_at or utcnow())
        outline = None
        g1, g1g, g2, g2g = [], [], [], []
        for r in grid_rows:
            rec = {
                "code": r.code,
                "name": r.name,
                "parent": r.parent,
                "kind": r.kind,
                # the people come from the roster (``attrs`` only records who was named at import)
                **_people(r.level, duties.get(r.code, {})),
            }
            if r.level == 0:
                outline = r.geom
            elif r.level == 1:
                g1.append(rec)
                g1g.append(r.geom)
            else:
                g2.append(rec)
                g2g.append(r.geom)
        units = [{c: getattr(r, c) for c in UNIT_COLUMNS} for r in unit_rows]
        return District(
            v.district_code,
            name,
            _frame(g1, GRID1_COLUMNS, g1g),
            _frame(g2, GRID2_COLUMNS, g2g),
            _frame(units, UNIT_COLUMNS, [r.geom for r in unit_rows]),
            outline,
            dict(v.meta or {}),
        )

    def with_roster(self, district: District, when: datetime | None = None) -> District:
        """``district`` (a loaded version) with the people on duty at ``when`` (default now):
        one roster query, no geometry read again."""
        aware(when, "when")
        with self._read() as conn:
            duties = self._duties_at(conn, district.code, when or utcnow())
        layers = []
        for frame, level, columns in (
            (district.grids1, 1, GRID1_COLUMNS),
            (district.grids2, 2, GRID2_COLUMNS),
        ):
            records = frame.drop(columns="geometry").to_dict("records")
            for rec in records:
                rec.update(_people(level, duties.get(rec["code"], {})))
            layers.append(_frame(records, columns, frame.geometry.values))  # as load_district
        return dataclasses.replace(district, grids1=layers[0], grids2=layers[1])

    # ================================================================== roster
    def _person(self, conn, kind: str, name: str, phone: str | None, title: str | None) -> int:
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

    def _assign(
        self, conn, district_code, grid_code, role, name, phone, title, when, actor
    ) -> None:
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
            pid = self._person(conn, ROSTER_ROLES[role]["kind"], name, phone, title)
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
        self._audit(
            conn,
            actor,
            "assign",
            "roster",
            f"{grid_code}/{role}",
            {"name": name, "phone": phone, "title": title, "from": when.isoformat()},
        )

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
        if role not in ROSTER_ROLES:
            raise InputError(f"unknown role {role!r} (roles: {', '.join(ROSTER_ROLES)})")
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
            if level != ROSTER_ROLES[role]["level"]:
                raise InputError(
                    f"a {role} is assigned to a level-{ROSTER_ROLES[role]['level']} grid, {grid_code} is level {level}"
                )
            self._assign(conn, district_code, grid_code, role, name, phone, title, when, actor)
            self._bump(conn, district_code)

    def _bump(self, conn, district_code: str) -> None:
        s = t.district_state.c
        conn.execute(
            t.district_state.update()
            .where(s.district_code == district_code)
            .values(revision=s.revision + 1, updated_at=utcnow())
        )

    def _duties_at(self, conn, district_code: str, when: datetime) -> dict[str, dict[str, Duty]]:
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

    def duties_at(
        self, district_code: str, when: datetime | None = None
    ) -> dict[str, dict[str, Duty]]:
        """Who was on duty at ``when`` (default now): grid code → role → :class:`Duty`."""
        aware(when, "when")
        with self._read() as conn:
            return self._duties_at(conn, district_code, when or utcnow())

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

    def _sync_roster(
        self,
        conn,
        district_code: str,
        version_id: int,
        replaced: int | None,
        when: datetime,
        actor: str,
    ) -> None:
        """Put on duty the people a newly published version names where the version changed
        them (relative to the version it replaces), and for grids nobody is on duty for.

        A roster change made since the replaced version was published is kept unless the new
        version names someone else: re-importing old attributes does not undo it."""
        current = self._duties_at(conn, district_code, when)
        g = t.grids.c

        def people(vid):
            rows = conn.execute(
                sa.select(g.code, g.level, g.attrs).where(g.version_id == vid, g.level > 0)
            ).all()
            return {r.code: (r.level, r.attrs or {}) for r in rows}

        before = people(replaced) if replaced is not None else {}
        for code, (level, attrs) in people(version_id).items():
            for role, spec in ROSTER_ROLES.items():
                if spec["level"] != level or not attrs.get(spec["name"]):
                    continue
                keys = [k for k in (spec["name"], spec["phone"], spec["title"]) if k]
                new = tuple(attrs.get(k) for k in keys)
                old = tuple(before.get(code, (None, {}))[1].get(k) for k in keys)
                if role not in current.get(code, {}) or new != old:
                    name, phone, title = new[0], new[1], (new[2] if len(new) > 2 else None)
                    self._assign(conn, district_code, code, role, name, phone, title, when, actor)

    # ================================================================== users & tokens
    def _user(self, row) -> accounts.User:
        return accounts.User(
            row.id, row.username, row.display_name, row.role, row.grid_code, row.active
        )

    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str | None = None,
        grid_code: str | None = None,
        actor: str = "system",
    ) -> accounts.User:
        """A new account; :class:`Conflict` if the username is taken."""
        username = (username or "").strip()
        if not username or len(username) > 100:
            raise InputError("a username needs 1 to 100 characters")
        accounts.check_role(role)
        accounts.check_password(password)
        with self._write() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
                raise Conflict(f"username {username!r} is taken")
            uid = conn.execute(
                t.users.insert()
                .values(
                    username=username,
                    display_name=display_name or username,
                    role=role,
                    grid_code=grid_code,
                    password_hash=accounts.hash_password(password),
                    active=True,
                    created_at=utcnow(),
                )
                .returning(t.users.c.id)
            ).scalar_one()
            self._audit(
                conn, actor, "create", "user", username, {"role": role, "grid_code": grid_code}
            )
        return self.user(uid)

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        accounts.check_password(password)
        with self._write() as conn:
            n = conn.execute(
                t.users.update()
                .where(t.users.c.username == username)
                .values(password_hash=accounts.hash_password(password))
            ).rowcount
            if not n:
                raise NotFound(f"no user {username!r}")
            self._audit(conn, actor, "set-password", "user", username)

    def set_active(self, username: str, active: bool, *, actor: str) -> None:
        """Enable or disable an account (a disabled account cannot log in or use its tokens)."""
        with self._write() as conn:
            n = conn.execute(
                t.users.update().where(t.users.c.username == username).values(active=active)
            ).rowcount
            if not n:
                raise NotFound(f"no user {username!r}")
            self._audit(conn, actor, "enable" if active else "disable", "user", username)

    def user(self, user_id: int) -> accounts.User:
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return self._user(row)

    def users(self) -> list[accounts.User]:
        with self._read() as conn:
            return [
                self._user(r)
                for r in conn.execute(sa.select(t.users).order_by(t.users.c.username)).all()
            ]

    def authenticate(self, username: str, password: str) -> accounts.User | None:
        """The active user with this username and password, else None."""
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        if (
            row is None
            or not row.active
            or not accounts.verify_password(password, row.password_hash)
        ):
            return None
        return self._user(row)

    def create_token(self, user_id: int, name: str, *, actor: str) -> str:
        """A new API token for a user; the plain token is returned once and never stored."""
        token = accounts.new_token()
        with self._write() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.id == user_id)).first() is None:
                raise NotFound(f"no user {user_id}")
            tid = conn.execute(
                t.api_tokens.insert()
                .values(
                    user_id=user_id,
                    name=name,
                    token_hash=accounts.token_hash(token),
                    prefix=token[:8],
                    created_at=utcnow(),
                )
                .returning(t.api_tokens.c.id)
            ).scalar_one()
            self._audit(conn, actor, "create", "token", tid, {"user_id": user_id, "name": name})
        return token

    def user_for_token(self, token: str) -> accounts.User | None:
        """The active user owning an unrevoked token, else None."""
        if not token:
            return None
        k, u = t.api_tokens.c, t.users.c
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.users, k.id.label("token_id"), k.last_used_at)
                .join(t.api_tokens, k.user_id == u.id)
                .where(
                    k.token_hash == accounts.token_hash(token),
                    k.revoked_at.is_(None),
                    u.active.is_(True),
                )
            ).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            with self._write() as conn:
                conn.execute(
                    t.api_tokens.update().where(k.id == row.token_id).values(last_used_at=now)
                )
        return self._user(row)

    def tokens(self, user_id: int) -> list[dict]:
        k = t.api_tokens.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.api_tokens).where(k.user_id == user_id).order_by(k.id)
            ).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "prefix": r.prefix,
                "created_at": r.created_at,
                "last_used_at": r.last_used_at,
                "revoked": r.revoked_at is not None,
            }
            for r in rows
        ]

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        with self._write() as conn:
            n = conn.execute(
                t.api_tokens.update()
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            if not n:
                raise NotFound(f"no active token {token_id}")
            self._audit(conn, actor, "revoke", "token", token_id)

    # ================================================================== incidents
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

        if channel not in incidents.CHANNELS:
            raise InputError(
                f"unknown channel {channel!r} (channels: {', '.join(incidents.CHANNELS)})"
            )
        if not category:
            raise InputError("an incident needs a category")
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
            values = {"state": to_state, "updated_at": now}
            if to_state == incidents.CLOSED:
                values["closed_at"] = now
            elif state == incidents.CLOSED:
                values["closed_at"] = None
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

    # ================================================================== audit
    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[dict]:
        """The newest audit records first."""
        a = t.audit_log.c
        q = sa.select(t.audit_log).order_by(a.id.desc()).limit(limit)
        if entity:
            q = q.where(a.entity == entity)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q).all()]


# ---------------------------------------------------------------------- row helpers
def _grid_rows(vid: int, district: District) -> list[dict]:
    rows = []
    if district.outline is not None:
        rows.append(
            {
                "version_id": vid,
                "level": 0,
                "code": district.code,
                "name": district.name or district.code,
                "parent": None,
                "kind": None,
                "attrs": {},
                "geom": district.outline,
            }
        )
    for level, frame, cols in (
        (1, district.grids1, GRID1_COLUMNS),
        (2, district.grids2, GRID2_COLUMNS),
    ):
        for rec, geom in zip(frame[cols].to_dict("records"), frame.geometry, strict=True):
            attrs = {k: v for k, v in rec.items() if k in _PEOPLE_ATTRS and v is not None}
            rows.append(
                {
                    "version_id": vid,
                    "level": level,
                    "code": rec["code"],
                    "name": rec["name"] or rec["code"],
                    "parent": rec.get("parent"),
                    "kind": rec.get("kind"),
                    "attrs": attrs,
                    "geom": geom,
                }
            )
    return rows


def _unit_rows(vid: int, district: District) -> list[dict]:
    from ..model import _plain

    rows = []
    for rec, geom in zip(
        district.units[UNIT_COLUMNS].to_dict("records"), district.units.geometry, strict=True
    ):
        row = {k: _plain(v) for k, v in rec.items()}
        row.update(version_id=vid, geom=geom, attrs={})
        rows.append(row)
    return rows


def _incident(row, events) -> Incident:
    return Incident(
        row.id, row.district_code, row.version_id, row.grid_code, row.grid1_code, row.lon, row.lat,
        row.category, row.subcategory, row.description, row.channel, row.reporter, row.state,
        row.created_at, row.created_by, row.updated_at, row.due_at, row.closed_at, row.input,
        [{"at": e.at, "actor": e.actor, "from_state": e.from_state, "to_state": e.to_state, "note": e.note} for e in events],
    )  # fmt: skip
