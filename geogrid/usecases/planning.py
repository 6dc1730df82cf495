"""The planner's workspace: drafts of new boundaries, edited on the server, checked after every
edit, previewed and published; a stale draft rebased on the current version; rolling back.

A draft is stored as its base version and its edits (:mod:`geogrid.db.drafts`); the drafted
district is the base with the active edits replayed (:func:`draft_state`), kept in memory per
process by the base, the people on duty and the edits in force, so an edit costs one
:meth:`~geogrid.planning.Edit.apply` and an undo usually nothing. Edits never see codes that
any version of the district up to the draft's base ever had (the retired codes are never given
again), so a draft replays alike in every process.

Planners and administrators only (:mod:`geogrid.access`: ``drafts``, ``edit_draft``,
``publish``, ``rollback``).

>>> from geogrid.db import Store
>>> from geogrid.service import Service
>>> from geogrid.access import Actor
>>> svc = Service.bootstrap(Store("sqlite://"))
>>> planner = Actor("guihua", "planner")
>>> state = open_draft(svc, planner, "合并试点")
>>> answer = edit(svc, planner, state.draft.id,
...               {"kind": "merge", "codes": ["320113005001001", "320113005001002"]}, 0)
>>> answer.result.retired, answer.state.draft.revision, len(answer.state.district.grids2)
(('320113005001002',), 1, 155)
>>> publish(svc, planner, state.draft.id, "合并第一、二网格").version.number
2
>>> edit(svc, Actor("diaodu", "dispatcher"), state.draft.id, {"kind": "rename"}, 1)
Traceback (most recent call last):
...
geogrid.errors.Forbidden: a dispatcher may not edit a boundary draft (allowed: planner, admin)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..access import Actor
from ..db.drafts import OPEN_DRAFT, DraftEdit, DraftInfo
from ..db.types import utcnow
from ..db.versions import VersionInfo
from ..errors import Conflict, InputError, NotFound, ValidationFailed
from ..model import District
from ..planning import Edit, EditResult, edit_from_dict
from ..planning import check as checks
from ..planning.impact import impact as impact_of
from ..validate import Report
from ..validate.validator import exclaves_allowed

#: Drafted districts kept per process (each about as big as a version in memory).
KEEP_STATES = 16
#: Base versions kept per process.
KEEP_BASES = 4
#: Longest publishing message.
MAX_MESSAGE = 2000
#: The workload counts the incidents reported in this many days before today (12 months).
WORKLOAD_DAYS = 365

_lock = threading.Lock()


# ---------------------------------------------------------------------- answers
@dataclass(frozen=True)
class DraftState:
    """A draft as it stands: the stored draft, its base version, the drafted district (never
    changed: a new edit makes a new one), the codes no new grid may take, what each active edit
    changed, the validation of the drafted district (errors block publishing; notices inform)
    and the stored edits that no longer apply (``broken``: seq, kind, message; rebase drops
    them)."""

    draft: DraftInfo
    base: VersionInfo
    current: VersionInfo
    district: District
    retired: frozenset[str]
    results: tuple[EditResult, ...]
    report: Report
    broken: tuple[dict, ...] = ()
    #: whether ``report`` is the full validator's (else carried from edit to edit)
    full: bool = field(default=True, repr=False)

    @property
    def stale(self) -> bool:
        """Whether another version was published after the draft's base (publishing refuses:
        rebase first)."""
        return self.base.id != self.current.id

    @property
    def changed(self) -> tuple[str, ...]:
        """The second-level grids of the drafted district that its edits changed or made."""
        codes = {c for r in self.results for c in r.grids}
        return tuple(sorted(codes & set(self.district.grids2["code"])))

    @property
    def vacant(self) -> tuple[str, ...]:
        """Grids of the drafted district without a worker (a split's new grids, say): they
        need one before publishing, or go live without."""
        g2 = self.district.grids2
        return tuple(sorted(str(c) for c, w in zip(g2["code"], g2["worker"], strict=True) if not w))

    def to_dict(self) -> dict:
        return {
            "draft": self.draft.to_dict(),
            "base": {"id": self.base.id, "number": self.base.number},
            "current": {"id": self.current.id, "number": self.current.number},
            "stale": self.stale,
            "grids": len(self.district.grids2),
            "units": len(self.district.units),
            "changed": list(self.changed),
            "vacant": list(self.vacant),
            "report": self.report.to_dict(),
            "broken": list(self.broken),
        }


@dataclass(frozen=True)
class EditAnswer:
    """The draft after an edit, undo or redo; ``result``: what the edit changed (for an undo,
    what the undone edit had changed and is now back as before); ``check``: the incremental
    validation of the grids it touched (None after undo and redo)."""

    state: DraftState
    result: EditResult | None
    check: Report | None = None

    def to_dict(self) -> dict:
        return {
            "state": self.state.to_dict(),
            "result": None if self.result is None else self.result.to_dict(),
            "check": None if self.check is None else self.check.to_dict(),
        }


@dataclass(frozen=True)
class PublishAnswer:
    """A published draft: the new version, the draft (now published), how many units and open
    incidents changed grid, the validation's notices and the grids left without a worker."""

    version: VersionInfo
    draft: DraftInfo
    units_moved: int
    incidents_moved: int
    notices: tuple
    vacant: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "version": self.version.to_dict(),
            "draft": self.draft.to_dict(),
            "units_moved": self.units_moved,
            "incidents_moved": self.incidents_moved,
            "notices": [f.to_dict() for f in self.notices],
            "vacant": list(self.vacant),
        }


@dataclass(frozen=True)
class RebaseAnswer:
    """A draft moved onto the current version: the edits kept, those that no longer apply
    (``conflicts``: seq, kind, edit, message; dropped) and how many undone edits were dropped."""

    state: DraftState
    from_version: int
    to_version: int
    kept: int
    conflicts: tuple[dict, ...]
    undone_dropped: int

    def to_dict(self) -> dict:
        return {
            "state": self.state.to_dict(),
            "from_version": self.from_version,
            "to_version": self.to_version,
            "kept": self.kept,
            "conflicts": list(self.conflicts),
            "undone_dropped": self.undone_dropped,
        }


@dataclass(frozen=True)
class RollbackAnswer:
    """An old version published again as a new one."""

    version: VersionInfo
    restored: VersionInfo
    replaced: VersionInfo
    incidents_moved: int

    def to_dict(self) -> dict:
        return {
            "version": self.version.to_dict(),
            "restored": self.restored.number,
            "replaced": self.replaced.number,
            "incidents_moved": self.incidents_moved,
        }


# ---------------------------------------------------------------------- the cache
class _Cache:
    """Base versions and drafted districts of one service, least recently used first out."""

    def __init__(self):
        self.bases: OrderedDict[tuple, District] = OrderedDict()
        self.states: OrderedDict[tuple, tuple] = OrderedDict()

    @staticmethod
    def _get(table: OrderedDict, key):
        with _lock:
            value = table.get(key)
            if value is not None:
                table.move_to_end(key)
            return value

    @staticmethod
    def _put(table: OrderedDict, key, value, keep: int):
        with _lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > keep:
                table.popitem(last=False)
        return value


def _cache(svc) -> _Cache:
    with _lock:
        return svc.__dict__.setdefault("_planning_cache", _Cache())


def _allow_exclaves() -> bool:
    return exclaves_allowed()


def _base(svc, version_id: int) -> tuple[tuple, District]:
    """The district of ``version_id`` with the people on duty now, and its cache key (which
    changes with every roster change and publish: the district's revision)."""
    key = (version_id, svc.store.state(svc.district_code)[1])
    cache = _cache(svc)
    district = cache._get(cache.bases, key)
    if district is None:
        district = cache._put(cache.bases, key, svc.store.load_district(version_id), KEEP_BASES)
    return key, district


def _state_key(base_key, edits) -> tuple:
    return (base_key, _allow_exclaves(), tuple(e.id for e in edits))


@dataclass(frozen=True)
class _Replayed:
    district: District
    retired: frozenset[str]
    results: tuple[EditResult, ...]
    report: Report
    broken: tuple[dict, ...]
    kept: tuple[DraftEdit, ...]
    full: bool = True  # the report is the full validator's


def _replay(district: District, retired: frozenset[str], edits) -> _Replayed:
    """``edits`` applied in order on ``district``; those that no longer apply are skipped
    and listed."""
    results, broken, kept = [], [], []
    for e in edits:
        try:
            district, result = edit_from_dict(e.edit).apply(district, retired=retired)
        except InputError as exc:
            broken.append(
                {"seq": e.seq, "kind": e.edit.get("kind"), "edit": e.edit, "message": exc.message}
            )
            continue
        retired = retired | set(result.retired)
        results.append(result)
        kept.append(e)
    report = _full_check(district)
    return _Replayed(district, retired, tuple(results), report, tuple(broken), tuple(kept))


def _full_check(district: District) -> Report:
    """The full validator with the planner's rules (exclaves, units placed by hand)."""
    return checks.check_grids(district, None, allow_exclaves=_allow_exclaves())


def _retired(svc, base_id: int) -> frozenset[str]:
    return svc.store.retired_codes(svc.district_code, base_id)


def _build(svc, draft: DraftInfo, current: VersionInfo | None = None) -> DraftState:
    base_key, base = _base(svc, draft.base_version_id)
    key = _state_key(base_key, draft.active)
    cache = _cache(svc)
    done = cache._get(cache.states, key)
    if done is None:
        done = _replay(base, _retired(svc, draft.base_version_id), draft.active)
        cache._put(cache.states, key, done, KEEP_STATES)
    return _state(svc, draft, done, current)


def _state(svc, draft: DraftInfo, done: _Replayed, current=None) -> DraftState:
    current = current or _current(svc)
    base = (
        current if current.id == draft.base_version_id else svc.store.version(draft.base_version_id)
    )
    return DraftState(
        draft, base, current, done.district, done.retired, done.results, done.report, done.broken,
        done.full,
    )  # fmt: skip


def _current(svc) -> VersionInfo:
    current = svc.store.current_version(svc.district_code)
    if current is None:
        raise NotFound(f"district {svc.district_code} has no published version")
    return current


def _open(svc, draft_id: int, revision: int | None = None) -> DraftInfo:
    draft = svc.store.draft(draft_id)
    if draft.district_code != svc.district_code:
        raise NotFound(f"no draft {draft_id} in district {svc.district_code}")
    if draft.status != OPEN_DRAFT:
        raise Conflict(f"draft {draft.name} is {draft.status}: it can no longer change")
    if revision is not None and revision != draft.revision:
        raise Conflict(
            f"draft {draft.name} has changed since revision {revision} (it is at revision "
            f"{draft.revision} now): reload it and make the change again"
        )
    return draft


def _revision(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"revision must be the draft's revision (a whole number), got {value!r}")
    return value


# ---------------------------------------------------------------------- drafts
def open_draft(
    svc, actor: Actor, name: str, base: int | None = None, *, edit: Edit | None = None
) -> DraftState:
    """A new draft named ``name`` of version number ``base`` (default: the current one);
    with ``edit``, the draft starts with that one edit, stored in the same transaction, and an
    edit that does not apply to the base raises before any draft exists."""
    actor.require("edit_draft")
    version = (
        _current(svc) if base is None else svc.store.version_by_number(svc.district_code, base)
    )
    if edit is None:
        draft = svc.store.create_draft(svc.district_code, version.id, name, actor=actor.name)
        return _build(svc, draft)
    base_key, base_district = _base(svc, version.id)
    retired = _retired(svc, version.id)
    district, result = edit.apply(base_district, retired=retired)
    draft = svc.store.create_draft(
        svc.district_code, version.id, name, actor=actor.name, edits=[edit.to_dict()]
    )
    done = _Replayed(
        district, retired | set(result.retired), (result,), _full_check(district), (),
        draft.active,
    )  # fmt: skip
    cache = _cache(svc)
    cache._put(cache.states, _state_key(base_key, draft.active), done, KEEP_STATES)
    return _state(svc, draft, done)


def drafts(svc, actor: Actor, *, status: str | None = OPEN_DRAFT) -> list[DraftInfo]:
    """The district's drafts with ``status`` (default open; None: all), newest first."""
    actor.require("drafts")
    return svc.store.drafts(svc.district_code, status=status)


def workload_of(svc, state: DraftState, *, now: datetime | None = None) -> dict:
    """The workload of a drafted district (:func:`geogrid.planning.workload.workload`), with
    today's open incidents and those of the last 12 months (:data:`WORKLOAD_DAYS` days before
    ``now``; cancelled and merged ones left out) counted by the draft's own grids, wherever
    they were recorded."""
    from ..planning.workload import count_points, workload

    def counted(places) -> dict[str, int]:
        return count_points(state.district, [p.lon for p in places], [p.lat for p in places])

    since = (now or utcnow()) - timedelta(days=WORKLOAD_DAYS)
    return workload(
        state.district,
        open_incidents=counted(svc.store.open_incident_places(svc.district_code)),
        incidents_12m=counted(svc.store.incident_places_since(svc.district_code, since)),
    )


def draft_state(svc, actor: Actor, draft_id: int) -> DraftState:
    """A draft as it stands (any status: a published or discarded draft reads as it was)."""
    actor.require("drafts")
    draft = svc.store.draft(draft_id)
    if draft.district_code != svc.district_code:
        raise NotFound(f"no draft {draft_id} in district {svc.district_code}")
    return _build(svc, draft)


def edit(svc, actor: Actor, draft_id: int, edit_dict, revision: int) -> EditAnswer:
    """Apply one edit (an :class:`~geogrid.planning.Edit` or its dict) to the draft at
    ``revision`` and keep it: the new state, what the edit changed and the incremental check of
    the grids it touched. A draft may be saved while invalid (publishing is what refuses). A
    bad edit is :class:`InputError` and changes nothing; a stale ``revision`` is
    :class:`Conflict`."""
    actor.require("edit_draft")
    draft = _open(svc, draft_id, _revision(revision))
    the_edit = edit_dict if isinstance(edit_dict, Edit) else edit_from_dict(edit_dict)
    before = _build(svc, draft)
    district, result = the_edit.apply(before.district, retired=before.retired)
    local = checks.check_edit(district, result, allow_exclaves=_allow_exclaves())
    report = checks.carry(before.report, district, result, local)
    stored = svc.store.append_edit(
        draft.id, the_edit.to_dict(), actor=actor.name, revision=revision
    )
    done = _Replayed(
        district,
        before.retired | set(result.retired),
        (*before.results, result),
        report,
        before.broken,
        stored.active,
        full=False,
    )
    base_key, _ = _base(svc, stored.base_version_id)
    cache = _cache(svc)
    cache._put(cache.states, _state_key(base_key, stored.active), done, KEEP_STATES)
    return EditAnswer(_state(svc, stored, done, before.current), result, local)


def undo(svc, actor: Actor, draft_id: int, revision: int | None = None) -> EditAnswer:
    """Undo the draft's last active edit (it can be redone until a new edit is made)."""
    return _step(svc, actor, draft_id, revision, undo=True)


def redo(svc, actor: Actor, draft_id: int, revision: int | None = None) -> EditAnswer:
    """Redo the draft's first undone edit."""
    return _step(svc, actor, draft_id, revision, undo=False)


def _step(svc, actor, draft_id, revision, *, undo: bool) -> EditAnswer:
    actor.require("edit_draft")
    draft = _open(svc, draft_id, None if revision is None else _revision(revision))
    before = _build(svc, draft)
    if undo:
        stored = svc.store.undo_edit(draft.id, actor=actor.name, revision=draft.revision)
        result = before.results[-1] if before.results else None
    else:
        stored = svc.store.redo_edit(draft.id, actor=actor.name, revision=draft.revision)
    after = _build(svc, stored, before.current)
    if not undo:
        result = after.results[-1] if after.results else None
    return EditAnswer(after, result)


def discard(svc, actor: Actor, draft_id: int, revision: int | None = None) -> DraftInfo:
    """Give a draft up (it is kept, as discarded)."""
    actor.require("edit_draft")
    draft = _open(svc, draft_id, None if revision is None else _revision(revision))
    return svc.store.discard_draft(draft.id, actor=actor.name, revision=draft.revision)


# ---------------------------------------------------------------------- before publishing
def impact(svc, actor: Actor, draft_id: int) -> dict:
    """What publishing the draft would change against its base: units and open incidents
    changing grid and worker, each grid's area change, the pieces of territory changing grid
    (see :func:`geogrid.planning.impact.impact`; the open incidents are today's)."""
    actor.require("drafts")
    state = draft_state(svc, actor, draft_id)
    _, base = _base(svc, state.draft.base_version_id)
    places = [
        (r.id, r.lon, r.lat, r.grid_code) for r in svc.store.open_incident_places(svc.district_code)
    ]
    return impact_of(base, state.district, open_incidents=places)


def publish(
    svc, actor: Actor, draft_id: int, message: str, *, revision: int | None = None
) -> PublishAnswer:
    """Store the drafted district as a new version and make it current, in one transaction:
    units and open incidents follow their new grids, the roster the people it names, and the
    audit log records the author and ``message``. Refused with :class:`Conflict` when another
    version was published after the draft's base (rebase it first) or the draft changed since
    ``revision``, and with :class:`ValidationFailed` when the full validator finds errors."""
    actor.require("publish")
    if not isinstance(message, str) or not message.strip():
        raise InputError("publishing needs a message: what the new version changes, and why")
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise InputError(f"the message has {len(message)} characters, at most {MAX_MESSAGE}")
    draft = _open(svc, draft_id, None if revision is None else _revision(revision))
    state = _build(svc, draft)
    if state.stale:
        raise Conflict(
            f"draft {draft.name} was made from version {state.base.number}, but version "
            f"{state.current.number} has been published since: rebase the draft onto version "
            f"{state.current.number} (its edits are replayed there) and publish again"
        )
    if state.broken:
        seqs = ", ".join(str(b["seq"]) for b in state.broken)
        raise Conflict(f"edits {seqs} of draft {draft.name} no longer apply: rebase the draft")
    report = state.report if state.full else _full_check(state.district)
    if not report.ok:
        raise ValidationFailed(report)
    _, base = _base(svc, draft.base_version_id)
    moved = _units_moved(base, state.district)
    stored, version, rerouted = svc.store.publish_draft(
        draft.id, state.district, report, actor=actor.name, message=message,
        revision=draft.revision,
    )  # fmt: skip
    svc.refresh()
    return PublishAnswer(version, stored, moved, rerouted, tuple(report.notices), state.vacant)


def _units_moved(base: District, district: District) -> int:
    old = dict(zip(base.units["code"], base.units["grid"], strict=True))
    return sum(
        1
        for c, g in zip(district.units["code"], district.units["grid"], strict=True)
        if c in old and old[c] != g
    )


def rebase(svc, actor: Actor, draft_id: int, *, revision: int | None = None) -> RebaseAnswer:
    """Move a draft onto the current version: its active edits are replayed there in order;
    those that still apply are kept, the others (``conflicts``, each with the reason) are
    dropped, as are undone edits."""
    actor.require("edit_draft")
    draft = _open(svc, draft_id, None if revision is None else _revision(revision))
    current = _current(svc)
    old = svc.store.version(draft.base_version_id)
    if draft.base_version_id == current.id:
        raise InputError(
            f"draft {draft.name} is made from the current version {current.number} already: "
            "there is nothing to rebase"
        )
    base_key, base = _base(svc, current.id)
    done = _replay(base, _retired(svc, current.id), draft.active)
    conflicts = done.broken
    stored = svc.store.rebase_draft(
        draft.id, current.id, list(done.kept), actor=actor.name, revision=draft.revision,
        dropped=list(done.broken),
    )  # fmt: skip
    done = _Replayed(done.district, done.retired, done.results, done.report, (), stored.active)
    cache = _cache(svc)
    cache._put(cache.states, _state_key(base_key, stored.active), done, KEEP_STATES)
    state = _state(svc, stored, done, current)
    return RebaseAnswer(
        state, old.number, current.number, len(stored.active), conflicts, len(draft.undone)
    )


def rollback(svc, actor: Actor, version_number: int, message: str) -> RollbackAnswer:
    """Publish version ``version_number`` again, as a new version made from the current one
    (an activation like any other: units and open incidents follow, the audit log says it was a
    rollback and why)."""
    actor.require("rollback")
    if not isinstance(message, str) or not message.strip():
        raise InputError("a rollback needs a message: why the earlier version comes back")
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise InputError(f"the message has {len(message)} characters, at most {MAX_MESSAGE}")
    old = svc.store.version_by_number(svc.district_code, version_number)
    current = _current(svc)
    if old.status != "published":
        raise InputError(
            f"version {old.number} was never published: only a version that was current once "
            "can be rolled back to (publish a draft instead)"
        )
    if old.id == current.id:
        raise InputError(f"version {old.number} is the current version already")
    district = svc.store.load_district(old.id)  # with the people on duty now
    report = _full_check(district)
    if not report.ok:
        raise ValidationFailed(report)
    version, rerouted = svc.store.create_and_publish(
        district,
        actor=actor.name,
        base_id=current.id,
        note=message,
        meta={"rollback_of": old.number},
        report=report,
        log=("rollback", {"restored": old.number, "replaced": current.number, "message": message}),
    )
    svc.refresh()
    return RollbackAnswer(version, old, current, rerouted)
