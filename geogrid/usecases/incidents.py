"""Incidents: intake (a place located, recorded against the grid that owns it and the worker on
duty there), possible duplicates, the steps of the four-step method, reassigning, merging,
photos, lists and exports, and the category catalogue. Every rule of who may do what is here
(:mod:`geogrid.access`), so pages, the API, Open311 and the command line behave alike.

>>> from geogrid.db import Store
>>> from geogrid.service import Service
>>> from geogrid.access import Actor
>>> svc = Service.bootstrap(Store("sqlite://"))
>>> disp = Actor("disp", "dispatcher")
>>> inc = report(svc, disp, 118.93, 32.11, category="0601", description="井盖缺失", dispatch=True)
>>> inc.state, inc.grid_code, inc.worker is not None
('dispatched', '320113005007007', True)
>>> act(svc, disp, inc.id, "close").state
Traceback (most recent call last):
...
geogrid.errors.InputError: cannot close an incident that is dispatched (allowed now: accept, escalate, resolve, cancel, merge)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

import numpy as np

from .. import incidents as wf
from ..access import OFFICE, Actor
from ..crs.metric import distance_m
from ..db.types import utcnow
from ..errors import Conflict, Forbidden, InputError, NotFound
from ..incidents import Category, Incident
from ..incidents.policy import MAX_PHOTOS
from ..incidents.query import MAX_EXPORT, IncidentQuery
from ..workdays import deadline
from .locating import Point

#: Longest description, note or address kept, in characters.
MAX_TEXT = 4000


# ---------------------------------------------------------------------- intake
def report(
    svc,
    actor: Actor,
    x=None,
    y=None,
    crs: str = "wgs84",
    *,
    category: str | None = None,
    description: str = "",
    channel: str = "phone",
    reporter: str | None = None,
    reporter_contact: str | None = None,
    informant_kind: str | None = None,
    informant_name: str | None = None,
    address: str | None = None,
    unit_code: str | None = None,
    grid_code: str | None = None,
    media_url: str | None = None,
    photos: Iterable[bytes] = (),
    dispatch: bool = False,
    merge_into: int | None = None,
) -> Incident:
    """Locate a reported problem and record it against the grid that owns the place, in one
    transaction: the coordinates as given (when not WGS-84), the version answered from, the
    grid's worker on duty. Near a boundary the dispatcher may confirm a neighbouring grid
    (``grid_code``, one of the locator's candidates). With ``dispatch`` it goes to the worker at
    once; with ``merge_into`` it is recorded and merged into that open incident. Without a
    place (``x`` None) it is reported at the unit ``unit_code``."""
    actor.require("report_incident")
    if dispatch:
        actor.require("incident_dispatch")
    if not category:
        raise InputError("category: the incident's category (a 4-digit code of the catalogue)")
    cat = svc.store.catalogue().get(category)
    wf.check_channel(channel)
    wf.check_informant(_text(informant_kind, "informant kind"), _text(informant_name, "informant"))
    version, loc = svc.current()
    unit = _unit(loc, version, unit_code)
    if x is None and unit is None:
        raise InputError("give the place (x and y, or lon and lat) or the unit it happened at")
    if isinstance(x, Point):
        point = x
    elif x is None:
        point = Point.of(unit.geometry.x, unit.geometry.y)
    else:
        point = Point.parse(x, y, crs)
    where = loc.locate(point.lon, point.lat, "wgs84")
    grid2, grid1 = _owner(loc, where, grid_code)
    values = {
        "district_code": svc.district_code,
        "version_id": version.id,
        "grid_code": grid2.code,
        "grid1_code": grid1,
        "lon": point.lon,
        "lat": point.lat,
        "input": {"x": point.x, "y": point.y, "crs": point.crs} if point.given else None,
        "category": cat.code,
        "description": _text(description, "description") or "",
        "channel": channel,
        "reporter": _text(reporter, "reporter"),
        "reporter_contact": _text(reporter_contact, "contact"),
        "informant_kind": _text(informant_kind, "informant kind"),
        "informant_name": _text(informant_name, "informant"),
        "address": _text(address, "address"),
        "unit_code": unit_code,
        "media_url": _url(media_url),
        "worker": grid2.people.get("worker"),
        "state": wf.REPORTED,
        "recurrences": 0,
    }
    if dispatch:
        now = utcnow()
        values.update(state=wf.DISPATCHED, dispatched_at=now, due_at=deadline(now, cat.workdays))
    target = _open_target(svc, actor, merge_into) if merge_into is not None else None
    saved = _save_photos(svc, photos)
    try:
        return svc.store.create_incident(
            values, actor=actor.name, note=values["description"], photos=saved, merge_into=target
        )
    except BaseException:
        svc.policy.photos().remove(saved)
        raise


def _unit(loc, version, unit_code):
    """The unit row of ``unit_code`` (None for none) in the current version."""
    if unit_code is None:
        return None
    units = loc.district.units
    found = units[units["code"] == unit_code]
    if found.empty:
        raise InputError(f"no unit {unit_code!r} in boundary version {version.number}")
    return found.iloc[0]


def _owner(loc, where, grid_code):
    """The second-level grid recorded (the located one, or the neighbour the dispatcher
    confirmed) and its community's code."""
    if grid_code is None or (where.grid2 and grid_code == where.grid2.code):
        if where.grid2 is None:
            near = (
                f" (nearest grid {where.nearest.grid.code}, {where.nearest.distance_m:.0f} m away: give it as the grid to confirm)"
                if where.nearest
                else ""
            )
            raise InputError(
                f"the place ({where.lon:.6f}, {where.lat:.6f}) is outside the district{near}"
            )
        return where.grid2, where.grid2.parent
    allowed = [c.grid for c in where.candidates]
    if where.grid2 is None and where.nearest is not None:
        allowed.append(where.nearest.grid)
    for g in allowed:
        if g.code == grid_code:
            return g, g.parent
    names = ", ".join(g.code for g in [where.grid2, *allowed] if g) or "none"
    raise InputError(f"grid {grid_code} is not one that may own this place (candidates: {names})")


def duplicates(
    svc, actor: Actor, x, y=None, crs: str = "wgs84", *, category: str
) -> list[tuple[Incident, float]]:
    """Open incidents of the same category reported within the duplicate radius and window
    (settings), nearest first, with their distance in metres: shown before a report is saved."""
    actor.require("report_incident")
    point = x if isinstance(x, Point) else Point.parse(x, y, crs)
    code = svc.store.catalogue().get(category).code
    p = svc.policy
    found = svc.store.nearby_open(
        svc.district_code,
        code,
        point.lon,
        point.lat,
        p.duplicate_radius_m,
        utcnow() - p.duplicate_window,
    )
    out = []
    for inc in found:
        d = float(distance_m(point.lon, point.lat, inc.lon, inc.lat))
        if d <= p.duplicate_radius_m:
            out.append((inc, d))
    return sorted(out, key=lambda pair: pair[1])


# ---------------------------------------------------------------------- the workflow
def act(
    svc,
    actor: Actor,
    incident_id: int,
    action: str,
    *,
    note: str = "",
    office: str | None = None,
    workdays: int | None = None,
    passed: bool | None = None,
    satisfaction: str | None = None,
    into: int | None = None,
    photos: Iterable[bytes] = (),
) -> Incident:
    """Take one step of the workflow (:data:`geogrid.incidents.ACTIONS`) on an incident, in one
    transaction recording who, when, the note and the photos. ``escalate`` names the ``office``
    (default: the category's) and may set its deadline in ``workdays``; ``revisit`` says
    whether the visit ``passed`` (with the reporter's ``satisfaction``) or the problem is back;
    ``merge`` names the open incident it goes ``into``."""
    if action not in wf.ACTIONS:
        wf.check_action("", action)  # the message listing the actions
    actor.require(f"incident_{action}")
    inc = _visible(svc, actor, incident_id)
    _office_acts(actor, inc)
    target = wf.check_action(inc.state, action)
    note = _text(note, "note") or ""
    if wf.ACTIONS[action].needs_note and not note:
        raise InputError(f"to {action} an incident, say why or what was done (a note)")
    if action == "merge":
        if into is None:
            raise InputError("merge: name the incident to merge into")
        return svc.store.merge(
            inc, _open_target(svc, actor, into, not_=inc.id), actor=actor.name, note=note
        )
    now = utcnow()
    cat = svc.store.catalogue(inactive=True).get(inc.category)
    values: dict = {"state": target} if target else {}
    detail: dict = {}
    if action == "dispatch":
        values.update(_dispatched(svc, inc, cat, now))
        detail["worker"] = values["worker"]
    elif action == "escalate":
        office = _text(office, "office") or cat.office
        days = cat.workdays if workdays is None else _workdays(workdays)
        values.update(office=office, escalated_at=now, office_due_at=deadline(now, days))
        detail.update(office=office, workdays=days)
    elif action == "resolve":
        values.update(resolved_at=now, revisit_due_at=deadline(now, svc.policy.revisit_workdays))
    elif action == "revisit":
        if passed is None:
            raise InputError(
                "revisit: say whether the visit passed (true) or the problem is back (false)"
            )
        if passed:
            if satisfaction is None:
                raise InputError(
                    "revisit: a passed visit records the reporter's satisfaction (满意/基本满意/不满意)"
                )
            values.update(
                state=wf.REVISITED,
                revisited_at=now,
                satisfaction=wf.check_satisfaction(satisfaction),
            )
            detail.update(passed=True, satisfaction=values["satisfaction"])
        else:
            if not note:
                raise InputError("revisit: say what came back (a note)")
            values.update(state=wf.DISPATCHED, **_reopened(svc, inc, cat, now))
            detail.update(passed=False, recurrence=values["recurrences"])
    elif action == "close":
        values["closed_at"] = now
    elif action == "reopen":
        values.update(_reopened(svc, inc, cat, now))
        detail["recurrence"] = values["recurrences"]
    return _apply(svc, actor, inc, action, values, note, detail, photos)


def _dispatched(svc, inc: Incident, cat: Category, now) -> dict:
    """What dispatching sets: the worker on duty in the incident's grid, the deadline counted
    in working days from now."""
    return {
        "dispatched_at": now,
        "due_at": deadline(now, cat.workdays),
        "worker": _worker_of(svc, inc.grid_code),
    }


def _reopened(svc, inc: Incident, cat: Category, now) -> dict:
    """Dispatched again because the problem came back: a recurrence, a new deadline."""
    return {
        **_dispatched(svc, inc, cat, now),
        "recurrences": inc.recurrences + 1, "resolved_at": None, "revisit_due_at": None,
        "revisited_at": None, "satisfaction": None, "closed_at": None, "office_due_at": None,
    }  # fmt: skip


def reassign(
    svc,
    actor: Actor,
    incident_id: int,
    *,
    grid_code: str | None = None,
    worker: str | None = None,
    note: str = "",
) -> Incident:
    """Move an open incident to another second-level grid (its worker on duty, unless
    ``worker`` names someone else) or to another worker: an explicit, logged step."""
    actor.require("incident_reassign")
    inc = _visible(svc, actor, incident_id)
    if inc.state not in wf.OPEN:
        raise InputError(f"incident {inc.id} is {inc.state}: only an open incident is reassigned")
    note = _text(note, "note") or ""
    if not note:
        raise InputError("to reassign an incident, say why (a note)")
    values: dict = {}
    if grid_code is not None and grid_code != inc.grid_code:
        _, loc = svc.current()
        grid = next((g for g in loc.grids if g.code == grid_code), None)
        if grid is None:
            raise InputError(f"no second-level grid {grid_code!r} in the current boundary version")
        values.update(grid_code=grid.code, grid1_code=grid.parent, worker=grid.people.get("worker"))
    if worker is not None:
        values["worker"] = _text(worker, "worker")
    if not values:
        raise InputError("reassign: give another grid or another worker")
    detail = {
        "from_grid": inc.grid_code, "to_grid": values.get("grid_code", inc.grid_code),
        "from_worker": inc.worker, "to_worker": values.get("worker", inc.worker),
    }  # fmt: skip
    return _apply(svc, actor, inc, "reassign", values, note, detail, ())


def add_photos(
    svc, actor: Actor, incident_id: int, photos: Iterable[bytes], *, note: str = ""
) -> Incident:
    """Photos added to an incident that is not over, logged as a step of its own."""
    actor.require("incident_photo")
    inc = _visible(svc, actor, incident_id)
    _office_acts(actor, inc)
    if inc.state in wf.FINAL:
        raise InputError(f"incident {inc.id} is {inc.state}: no more photos")
    photos = list(photos)
    if not photos:
        raise InputError("no photo given")
    return _apply(svc, actor, inc, "photo", {}, _text(note, "note") or "", {}, photos)


def _apply(svc, actor, inc, action, values, note, detail, photos) -> Incident:
    saved = _save_photos(svc, photos)
    try:
        return svc.store.apply(
            inc, action, values, actor=actor.name, note=note, detail=detail, photos=saved
        )
    except BaseException:
        svc.policy.photos().remove(saved)
        raise


# ---------------------------------------------------------------------- reading
def actions_for(actor: Actor, inc: Incident) -> tuple[str, ...]:
    """The steps ``actor`` may take on ``inc`` now (the workflow's, then ``reassign`` and
    ``photo``): what a page offers as forms and the API lists, by the same rules :func:`act`
    enforces."""
    if not actor.sees_incident(inc) or (actor.role == OFFICE and inc.state != wf.ESCALATED):
        return ()
    steps = [a for a in wf.allowed_actions(inc.state) if actor.may(f"incident_{a}")]
    if inc.state in wf.OPEN and actor.may("incident_reassign"):
        steps.append("reassign")
    if inc.state not in wf.FINAL and actor.may("incident_photo"):
        steps.append("photo")
    return tuple(steps)


def views(
    svc, actor: Actor, incs: Iterable[Incident], *, full: bool = False, near: Point | None = None
) -> list[dict]:
    """Each of ``incs`` as ``actor`` may read it (a reporter's contact only for those who call
    back), with its category's names, its flags now and the steps ``actor`` may take; without
    ``full``, no log and photos (a list's rows). With ``near`` (a place in any CRS, converted
    to WGS-84 exactly when parsed: a phone's GPS or an AMap app's GCJ-02 position), each also
    has ``distance_m``, its distance from there in metres measured in EPSG:4549."""
    now = utcnow()
    incs = list(incs)
    cats = {c.code: c for c in svc.store.catalogue(inactive=True)}
    rows = [_view(svc, actor, inc, cats.get(inc.category), now, full) for inc in incs]
    if near is not None and incs:
        far = distance_m(
            np.array([i.lon for i in incs]), np.array([i.lat for i in incs]), near.lon, near.lat
        )
        for row, d in zip(rows, far.tolist(), strict=True):
            row["distance_m"] = round(d, 1)
    return rows


def _view(svc, actor: Actor, inc: Incident, cat: Category | None, now, full: bool) -> dict:
    out = inc.to_dict(private=actor.may("incident_contacts"))
    if not full:
        for k in ("events", "photos", "merged"):
            out.pop(k)
    out["category_name"] = (
        {"zh": f"{cat.major} / {cat.minor}", "en": f"{cat.major_en} / {cat.minor_en}"}
        if cat
        else None
    )
    out.update(inc.flags(now, svc.policy.due_soon))
    out["deadline"] = d.isoformat() if (d := inc.deadline()) else None
    out["actions"] = list(actions_for(actor, inc))
    return out


def get(svc, actor: Actor, incident_id: int) -> Incident:
    """One incident with its log and photos; a grid worker's only if it lies in their grid, an
    office user's only if it was escalated to their office; an anonymous reader's, its public
    fields only."""
    actor.require("read_incidents")
    inc = _visible(svc, actor, incident_id)
    return inc.public() if actor.public else inc


def search(
    svc, actor: Actor, query: IncidentQuery, *, count: bool = True, details: bool = False
) -> tuple[int | None, list[Incident]]:
    """(how many match, one page) of the incidents ``actor`` may see that match ``query``;
    with ``details``, each with its log and photos (as :func:`get` has them)."""
    actor.require("read_incidents")
    if query.grid is not None:
        actor.require_grid(query.grid)
    office = (actor.office or "") if actor.role == OFFICE else None
    total, found = svc.store.search_incidents(
        svc.district_code, query, grids=actor.scope, office=office, count=count, details=details,
        private=actor.may("incident_contacts"),
    )  # fmt: skip
    return total, [i.public() for i in found] if actor.public else found


def export(
    svc, actor: Actor, query: IncidentQuery, fmt: str, *, lang: str = "zh"
) -> tuple[bytes, str, str]:
    """Every incident matching ``query`` (up to :data:`MAX_EXPORT`) as a file: (bytes, media
    type, file name); ``fmt`` is ``csv`` or ``xlsx``."""
    from ..incidents import export as out

    writer = out.writer(fmt)
    total, _ = search(svc, actor, query.page(1))
    if total > MAX_EXPORT:
        raise InputError(
            f"{total} incidents match: narrow the filters to at most {MAX_EXPORT} to export them"
        )
    rows: list[Incident] = []
    step = 1000
    for offset in range(0, total, step):
        rows += search(svc, actor, query.page(step, offset), count=False)[1]
    catalogue = svc.store.catalogue(inactive=True)
    return writer(
        rows, catalogue, lang=lang, now=utcnow(), within=svc.policy.due_soon,
        private=actor.may("incident_contacts"),
    )  # fmt: skip


def photo(svc, actor: Actor, photo_id: int, *, thumb: bool = False) -> tuple[bytes, str]:
    """A photo's bytes and media type, for those who may read its incident."""
    actor.require("read_incidents")
    incident_id, rec = svc.store.photo(_id(photo_id, "photo"))
    _visible(svc, actor, incident_id)
    return svc.policy.photos().read(rec["key"], thumb=thumb)


# ---------------------------------------------------------------------- categories
def catalogue(svc, actor: Actor, *, inactive: bool = False):
    """The category catalogue (read by every role; the inactive ones too with ``inactive``)."""
    actor.require("read_incidents")
    return svc.store.catalogue(inactive=inactive)


def save_category(svc, actor: Actor, category: Category, *, active: bool = True) -> Category:
    """Add or change a category of the catalogue (administrators)."""
    actor.require("categories")
    wf.check_category(category)
    svc.store.save_category(category, active=active, actor=actor.name)
    return category


# ---------------------------------------------------------------------- sample history
#: The most incidents a sample history may have.
MAX_SAMPLE = 2_000_000


def sample_history(
    svc,
    actor: Actor,
    *,
    count: int,
    seed: int,
    end: datetime | None = None,
    years: int = 10,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill the district with a sample history of ``count`` incidents over the ``years``
    before ``end`` (default: now), made from ``seed`` (:mod:`geogrid.sample.incidents`) in the
    current boundary version, and written in bulk. Refused (:class:`Conflict`) while the
    district has incidents, unless ``replace``: then they are deleted first, photos and all.
    Returns how many were written."""
    from ..sample.incidents import generate

    actor.require("sample_incidents")
    if not 0 <= count <= MAX_SAMPLE:
        raise InputError(f"count: 0 to {MAX_SAMPLE} incidents, got {count}")
    if not 1 <= years <= 50:
        raise InputError(f"years: 1 to 50, got {years}")
    end = utcnow() if end is None else end
    if end.tzinfo is None:
        raise InputError("end: a time with its time zone")
    if not 2000 + years <= end.year <= 2100:  # checked before anything is deleted
        raise InputError(f"end: a time from the year {2000 + years} to 2100, got {end:%Y-%m-%d}")
    store, code = svc.store, svc.district_code
    existing = store.count_incidents(code)
    if existing and not replace:
        raise Conflict(
            f"district {code} already has {existing} incidents; a sample history would mix "
            "with them: replace them (--replace deletes them first) or use another database"
        )
    version, loc = svc.current()
    catalogue = store.catalogue()
    if existing:
        _, photos = store.delete_incidents(code, actor=actor.name)
        svc.policy.photos().remove(photos)
    rows = generate(
        loc.district, catalogue, count=count, seed=seed, end=end, years=years,
        version_id=version.id, revisit_workdays=svc.policy.revisit_workdays,
    )  # fmt: skip
    detail = {"sample": True, "seed": seed, "end": end.isoformat(), "years": years}
    return store.insert_incidents(code, rows, actor=actor.name, detail=detail, progress=progress)


# ---------------------------------------------------------------------- helpers
def _id(value, what: str) -> int:
    """A record's number (NotFound for anything that cannot be one)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if not 0 < n < 2**31:  # the columns' 32 bits (PostgreSQL refuses a larger number)
        raise NotFound(f"no {what} {str(value)[:40]!r}")
    return n


def _visible(svc, actor: Actor, incident_id: int) -> Incident:
    inc = svc.store.incident(_id(incident_id, "incident"))
    if inc.district_code != svc.district_code:
        raise NotFound(f"no incident {incident_id}")
    actor.require_incident(inc)
    return inc


def _office_acts(actor: Actor, inc: Incident) -> None:
    """An office user acts on an incident only while it is escalated to their office (they
    keep reading the ones they handled)."""
    if actor.role == OFFICE and inc.state != wf.ESCALATED:
        raise Forbidden(
            f"{actor.name} acts on incident {inc.id} only while it is escalated to {actor.office}"
        )


def _open_target(svc, actor: Actor, into, not_: int | None = None) -> Incident:
    target = _visible(svc, actor, into)
    if target.id == not_:
        raise InputError("an incident cannot be merged into itself")
    if target.state not in wf.MERGEABLE:
        raise InputError(
            f"incident {target.id} is {target.state}: merge only into one not yet resolved "
            "(a problem back after that is reopened, or found at the return visit)"
        )
    return target


def _worker_of(svc, grid_code: str | None) -> str | None:
    _, loc = svc.current()
    return next((g.people.get("worker") for g in loc.grids if g.code == grid_code), None)


def _save_photos(svc, photos) -> list:
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise InputError(f"at most {MAX_PHOTOS} photos at a time")
    return svc.policy.photos().save_all(photos) if photos else []


#: Control characters kept out of texts (all but tab, line feed and carriage return).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value, name: str) -> str | None:
    """A text as kept: stripped, without control characters, at most :data:`MAX_TEXT`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name}: text expected")
    value = _CONTROL.sub("", value).strip()
    if len(value) > MAX_TEXT:
        raise InputError(f"{name}: at most {MAX_TEXT} characters")
    return value or None


def _url(value) -> str | None:
    """A link to a photo kept elsewhere: http(s) only, at most 500 characters."""
    value = _text(value, "media_url")
    if value is None:
        return None
    if (
        not value.lower().startswith(("http://", "https://"))
        or len(value) > 500
        or any(c.isspace() for c in value)
    ):
        raise InputError(
            f"media_url: an http(s) address of at most 500 characters, got {value[:80]!r}"
        )
    return value


def _workdays(value) -> int:
    from ..incidents.catalogue import MAX_WORKDAYS

    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_WORKDAYS:
        raise InputError(f"an office's deadline is 1 to {MAX_WORKDAYS} working days, got {value!r}")
    return n
