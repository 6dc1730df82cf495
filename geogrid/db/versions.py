"""Boundary versions in the database: districts, drafts, publishing, the versions and which
was current when, and a version's grids and units read back as a :class:`District`.

Versions follow MapIt's generations: :meth:`VersionStore.create_version` stores a *draft*
(validated first: bad data never gets in); :meth:`VersionStore.publish` makes it current
(:meth:`VersionStore.create_and_publish` does both in one transaction). A unit a planner put in
a grid by hand keeps the reason in ``grid_override``, a column of its version's units. A
published version never changes. Publishing checks that the current version is still the draft's
base; of two publishes from the same base exactly one wins and the other gets :class:`Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .. import roster
from ..errors import Conflict, InputError, NotFound, ValidationFailed
from ..model import GRID1_COLUMNS, GRID2_COLUMNS, UNIT_COLUMNS, District, _frame
from ..planning.edits import OVERRIDE
from . import schema as t
from .base import StoreBase, audit
from .incidents import reroute_open
from .roster import duties_at, sync_roster
from .types import aware, utcnow


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


class VersionStore(StoreBase):
    """Districts and their boundary versions."""

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

    def create_version(
        self,
        district: District,
        *,
        actor: str,
        base_id: int | None | str = "current",
        note: str = "",
        meta: dict | None = None,
        report=None,
    ) -> VersionInfo:
        """Store ``district`` as a new draft version, after validating it.

        ``base_id`` is the version the draft was made from (``"current"``: the current one);
        publishing it later fails with :class:`Conflict` if another version was published since.
        Raises :class:`ValidationFailed` (nothing stored) when validation finds errors.
        ``report``: the validation already made of ``district`` (the planner's rules of
        :func:`geogrid.planning.check.check_grids`, say); without it :func:`geogrid.validate.validate`
        runs here.
        """
        report = _validated(district, report)
        with self._write() as conn:
            vid = insert_version(conn, district, actor, base_id, note, meta, report)
        return self.version(vid)

    def create_and_publish(
        self,
        district: District,
        *,
        actor: str,
        base_id: int | None,
        note: str = "",
        meta: dict | None = None,
        report=None,
        log: tuple[str, dict] | None = None,
    ) -> tuple[VersionInfo, int]:
        """:meth:`create_version` and :meth:`publish` in one transaction: ``district`` becomes
        current, or (:class:`Conflict` when ``base_id`` is no longer current,
        :class:`ValidationFailed`) nothing is stored. ``log``: an audit record ``(action,
        detail)`` of the new version, in the same transaction. Returns the version and how many
        open incidents changed grid."""
        report = _validated(district, report)
        with self._write() as conn:
            vid = insert_version(conn, district, actor, base_id, note, meta, report)
            rerouted = publish_version(conn, vid, actor)
            if log is not None:
                audit(conn, actor, log[0], "version", vid, log[1])
        return self.version(vid), rerouted

    def publish(self, version_id: int, *, actor: str, force: bool = False) -> VersionInfo:
        """Make a draft the current version, in one transaction.

        Raises :class:`Conflict` if the version is not a draft, or if the current version is no
        longer the draft's base (someone published in between) unless ``force`` is set.
        Responsible people carried by the version's grids enter the duty roster from now on, and
        open incidents whose place now lies in another grid follow its owner and worker
        (:func:`~.incidents.reroute_open`), in the same transaction.
        """
        with self._write() as conn:
            publish_version(conn, version_id, actor, force)
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

    def version_meta(self, district_code: str) -> dict[int, dict]:
        """The metadata stored with each version of a district (the draft it was published
        from, ``rollback_of``, ...), by version number."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.versions.c.number, t.versions.c.meta).where(
                    t.versions.c.district_code == district_code
                )
            ).all()
        return {r.number: dict(r.meta or {}) for r in rows}

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
            return read_district(conn, version_id, people_at)


def _validated(district: District, report):
    """``report``, or the full validator's report of ``district``; :class:`ValidationFailed`
    when it has errors."""
    from ..validate import validate

    if not district.code:
        raise InputError("the district has no code")
    if report is None:
        report = validate(district)
    if not report.ok:
        raise ValidationFailed(report)
    return report


def insert_version(conn, district: District, actor, base_id, note, meta, report) -> int:
    """Store ``district`` (validated: ``report``) as a draft version in ``conn``'s transaction;
    its id."""
    _ensure_district(conn, district.code, district.name or district.code)
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
            created_at=utcnow(),
            created_by=actor,
            grid_count=len(district.grids2),
            unit_count=len(district.units),
        )
        .returning(t.versions.c.id)
    ).scalar_one()
    conn.execute(t.grids.insert(), _grid_rows(vid, district))
    if len(district.units):
        conn.execute(t.units.insert(), _unit_rows(vid, district))
    audit(
        conn,
        actor,
        "create",
        "version",
        vid,
        {"number": number, "base_id": base_id, "note": note, "notices": len(report.notices)},
    )
    return vid


def _ensure_district(conn, code: str, name: str) -> None:
    exists = conn.execute(sa.select(t.districts.c.code).where(t.districts.c.code == code)).first()
    if exists is None:
        now = utcnow()
        conn.execute(t.districts.insert().values(code=code, name=name, created_at=now))
        conn.execute(
            t.district_state.insert().values(
                district_code=code, current_version_id=None, revision=0, updated_at=now
            )
        )


def publish_version(conn, version_id: int, actor: str, force: bool = False) -> int:
    """:meth:`VersionStore.publish` in ``conn``'s transaction; how many open incidents changed
    grid."""
    now = utcnow()
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
        raise Conflict(VersionStore._stale(conn, v, current))
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
            sa.select(state.current_version_id).where(state.district_code == v.district_code)
        ).scalar_one()
        raise Conflict(VersionStore._stale(conn, v, current))
    conn.execute(
        t.activations.insert().values(
            district_code=v.district_code,
            version_id=version_id,
            activated_at=now,
            activated_by=actor,
        )
    )
    sync_roster(conn, v.district_code, version_id, current, now, actor)
    on_duty = duties_at(conn, v.district_code, now)
    workers = {code: d["worker"].name for code, d in on_duty.items() if "worker" in d}
    rerouted = reroute_open(
        conn, v.district_code, _locator(conn, version_id), workers, version_id, v.number,
        now, actor,
    )  # fmt: skip
    audit(
        conn,
        actor,
        "publish",
        "version",
        version_id,
        {"number": v.number, "replaced": current, "forced": force, "rerouted": rerouted},
    )
    return rerouted


def read_district(conn, version_id: int, people_at: datetime | None = None) -> District:
    """:meth:`VersionStore.load_district` in the caller's transaction."""
    v = conn.execute(sa.select(t.versions).where(t.versions.c.id == version_id)).first()
    if v is None:
        raise NotFound(f"no version {version_id}")
    name = conn.execute(
        sa.select(t.districts.c.name).where(t.districts.c.code == v.district_code)
    ).scalar_one()
    grid_rows = conn.execute(
        sa.select(t.grids).where(t.grids.c.version_id == version_id).order_by(t.grids.c.code)
    ).all()
    unit_rows = conn.execute(
        sa.select(t.units).where(t.units.c.version_id == version_id).order_by(t.units.c.code)
    ).all()
    duties = duties_at(conn, v.district_code, people_at or utcnow())
    outline = None
    g1, g1g, g2, g2g = [], [], [], []
    for r in grid_rows:
        rec = {
            "code": r.code,
            "name": r.name,
            "parent": r.parent,
            "kind": r.kind,
            # the people come from the roster (``attrs`` only records who was named at import)
            **roster.people(r.level, duties.get(r.code, {})),
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
    unit_frame = _frame(units, UNIT_COLUMNS, [r.geom for r in unit_rows])
    if any(r.grid_override is not None for r in unit_rows):  # units a planner placed by hand
        unit_frame.insert(len(UNIT_COLUMNS), OVERRIDE, [r.grid_override for r in unit_rows])
    return District(
        v.district_code,
        name,
        _frame(g1, GRID1_COLUMNS, g1g),
        _frame(g2, GRID2_COLUMNS, g2g),
        unit_frame,
        outline,
        dict(v.meta or {}),
    )


def _locator(conn, version_id: int):
    """A function building the locator of ``version_id`` from ``conn`` (only called when open
    incidents need it: the locator's own rule decides who owns each place)."""

    def build():
        from ..locate import Locator

        return Locator(read_district(conn, version_id))

    return build


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
            attrs = roster.people_attrs(rec)
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
    from ..model import plain

    rows = []
    units = district.units
    overrides = units[OVERRIDE] if OVERRIDE in units.columns else [None] * len(units)
    for rec, geom, override in zip(
        units[UNIT_COLUMNS].to_dict("records"), units.geometry, overrides, strict=True
    ):
        row = {k: plain(v) for k, v in rec.items()}
        override = plain(override)
        row.update(version_id=vid, geom=geom, attrs={}, grid_override=override or None)
        rows.append(row)
    return rows
