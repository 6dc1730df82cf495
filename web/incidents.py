"""Incident pages: the list (filters, sort, paging, CSV and Excel export), one incident with its
timeline, photos, small map and the forms of the steps this user may take now, the intake form,
and the category catalogue for administrators.

Every rule is :mod:`geogrid.usecases.incidents`' (who may do what, a grid worker's grid, an
office's escalated incidents): a refusal is the 403 page; a step refused by the workflow, or bad
input on a form, comes back as a message on the page it was sent from.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from geogrid import incidents as wf
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, InputError, NotFound
from geogrid.incidents import Category
from geogrid.incidents.query import SORTS, IncidentQuery
from geogrid.usecases import boundaries, incidents, locating
from geogrid.usecases.locating import Point
from geogrid.workdays import BEIJING

from .auth import roles_required
from .services import service
from .text import N_, state_name

bp = Blueprint("incidents", __name__)

#: The nearest units offered on the intake form.
INTAKE_UNITS = 3

# English labels (msgids) of the workflow's words (the states': web.text.STATE_LABELS)
ACTION_LABELS = {
    "report": N_("Report"),
    "dispatch": N_("Dispatch"),
    "accept": N_("Accept"),
    "escalate": N_("Escalate"),
    "resolve": N_("Resolve"),
    "revisit": N_("Return visit"),
    "close": N_("Close"),
    "reopen": N_("Reopen"),
    "cancel": N_("Cancel"),
    "merge": N_("Merge"),
    "reassign": N_("Reassign"),
    "photo": N_("Add photos"),
    "reroute": N_("Re-routed"),
}
CHANNEL_LABELS = {
    "phone": N_("Phone / 12345"),
    "app": N_("Mobile app"),
    "patrol": N_("Patrol (grid worker or informant)"),
    "video": N_("Video patrol"),
    "referral": N_("Referral"),
    "open311": "Open311",
    "api": N_("API"),
}
INFORMANT_LABELS = {
    "grid_worker": N_("Grid worker"),
    "city_assistant": N_("City management assistant"),
    "greening": N_("Greening team"),
    "sanitation": N_("Sanitation worker"),
    "security": N_("Security patrol"),
    "safety": N_("Work safety inspector"),
    "property": N_("Property manager"),
    "building": N_("Building head"),
    "mediator": N_("People's mediator"),
    "volunteer": N_("Volunteer"),
}
SATISFACTION_LABELS = {
    "satisfied": N_("Satisfied"),
    "fair": N_("Fairly satisfied"),
    "dissatisfied": N_("Dissatisfied"),
}
#: Keys of an event's detail, as the timeline names them.
DETAIL_LABELS = {
    "worker": N_("Grid worker"),
    "office": N_("Joint-handling office"),
    "workdays": N_("Working days"),
    "passed": N_("Visit passed"),
    "satisfaction": N_("Satisfaction"),
    "recurrence": N_("Recurrence"),
    "into": N_("Merged into"),
    "incident": N_("Merged incident"),
    "reporter": N_("Reporter"),
    "channel": N_("Channel"),
    "from_grid": N_("From grid"),
    "to_grid": N_("To grid"),
    "from_worker": N_("From worker"),
    "to_worker": N_("To worker"),
    "version": N_("Boundary version"),
}
#: Attributes of grids and communities, as the diff and import tables name them
#: (geogrid.planning.impact.GRID_FIELDS and COMMUNITY_FIELDS).
FIELD_LABELS = {
    "name": N_("Name"),
    "parent": N_("Community"),
    "kind": N_("Kind"),
    "worker": N_("Grid worker"),
    "worker_phone": N_("Worker's phone"),
    "leader": N_("Leader"),
    "leader_title": N_("Leader's title"),
    "leader_phone": N_("Leader's phone"),
    "office": N_("Service office"),
    "office_phone": N_("Office phone"),
}
SORT_LABELS = {
    "created_at": N_("Reported at"),
    "updated_at": N_("Last change"),
    "due_at": N_("Deadline"),
    "id": N_("Number"),
    "grid_code": N_("Grid"),
    "category": N_("Category"),
    "state": N_("State"),
}
_LABELS = {
    "action": ACTION_LABELS,
    "channel": CHANNEL_LABELS,
    "informant": INFORMANT_LABELS,
    "satisfaction": SATISFACTION_LABELS,
    "detail": DETAIL_LABELS,
    "field": FIELD_LABELS,
    "sort": SORT_LABELS,
}


@bp.app_template_global()
def label(kind: str, key) -> str:
    """The translated label of a state, action, channel, ... (the key itself if unknown)."""
    if kind == "state":
        return state_name(key)
    text = _LABELS[kind].get(key)
    return _(text) if text else ("" if key is None else str(key))


@bp.app_template_filter("bj")
def beijing_time(moment: datetime | None) -> str:
    """A moment in Beijing time, to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.app_template_global()
def category_name(cat: Category | None, *, major: bool = False) -> str:
    """A category's name (or its major class's) in the interface language."""
    if cat is None:
        return ""
    zh = str(get_locale()) == "zh"
    if major:
        return cat.major if zh else cat.major_en
    return cat.minor if zh else cat.minor_en


def place_names():
    """(communities {code: name}, second-level grids {code: (name, parent)}) of the current
    version."""
    _, district = boundaries.version_data(service(), g.actor)
    communities = dict(zip(district.grids1["code"], district.grids1["name"], strict=True))
    grids = {
        c: (n, p)
        for c, n, p in zip(
            district.grids2["code"], district.grids2["name"], district.grids2["parent"], strict=True
        )
    }
    return communities, grids


# ---------------------------------------------------------------------- the list
def _list_args() -> dict[str, str]:
    """The query string as IncidentQuery reads it (several ``state`` values joined)."""
    args = request.args.to_dict()
    states = [s for v in request.args.getlist("state") for s in v.split(",") if s.strip()]
    if states:
        args["state"] = ",".join(states)
    return args


@bp.get("/incidents")
@roles_required()
def index():
    svc = service()
    status, error = 200, None
    try:
        query = IncidentQuery.parse(_list_args())
        total, rows = incidents.search(svc, g.actor, query)
    except InputError as exc:  # a filter that cannot be read: said on the page, nothing listed
        status, error = exc.http_status, exc.message
        query, total, rows = IncidentQuery(), 0, []
    communities, grids = place_names()
    if g.actor.scope is not None:  # only the grids this user may ask for
        grids = {c: v for c, v in grids.items() if c in g.actor.scope}
    catalogue = incidents.catalogue(svc, g.actor, inactive=True)
    now, within = utcnow(), svc.policy.due_soon
    offset, limit = query.offset, query.limit
    pages = {
        "prev": query.page(limit, max(0, offset - limit)).to_args() if offset > 0 else None,
        "next": query.page(limit, offset + limit).to_args() if offset + limit < total else None,
    }
    export_args = {k: v for k, v in query.to_args().items() if k not in ("limit", "offset")}
    return render_template(
        "incidents.html",
        rows=[(inc, inc.flags(now, within)) for inc in rows],
        total=total,
        query=query,
        args=request.args,
        error=error,
        pages=pages,
        export_args=export_args,
        communities=communities,
        grids=grids,
        categories={c.code: c for c in catalogue},
        majors=catalogue.majors(),
        states=list(wf.STATES),
        open_states=",".join(s for s in wf.STATES if s in wf.OPEN),
        channels=list(wf.CHANNELS),
        sorts=SORTS,
    ), status


@bp.get("/incidents/export.<fmt>")
@roles_required()
def export(fmt: str):
    query = IncidentQuery.parse(_list_args())
    data, mimetype, name = incidents.export(service(), g.actor, query, fmt, lang=str(get_locale()))
    resp = current_app.response_class(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# ---------------------------------------------------------------------- one incident
@bp.get("/incidents/<int:incident_id>")
@roles_required()
def show(incident_id: int):
    svc = service()
    inc = incidents.get(svc, g.actor, incident_id)
    catalogue = incidents.catalogue(svc, g.actor, inactive=True)
    try:
        cat = catalogue.get(inc.category)
    except InputError:
        cat = None
    communities, grids = place_names()
    offices = sorted({c.office for c in catalogue})
    private = g.actor.may("incident_contacts")
    photos_by_event: dict[int, list[dict]] = {}
    for p in inc.photos:
        photos_by_event.setdefault(p["event_id"], []).append(p)
    return render_template(
        "incident.html",
        inc=inc,
        cat=cat,
        flags=inc.flags(utcnow(), svc.policy.due_soon),
        private=private,
        hidden=set(wf.PRIVATE) if not private else set(),
        actions=incidents.actions_for(g.actor, inc),
        # the steps whose note the use case requires (reassigning too)
        needs_note={a for a, step in wf.ACTIONS.items() if step.needs_note} | {"reassign"},
        photos_by_event=photos_by_event,
        communities=communities,
        grids=grids,
        offices=offices,
        satisfactions=list(wf.SATISFACTION),
    )


def _photos() -> list[bytes]:
    return [f.read() for f in request.files.getlist("photos") if f.filename]


def _passed(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.post("/incidents/<int:incident_id>/act")
@roles_required()
def act(incident_id: int):
    """One step on an incident (the ``action`` field: a workflow action, ``reassign`` or
    ``photo``), then back to its page with what happened."""
    svc, f = service(), request.form
    action = f.get("action", "")
    note = f.get("note", "")
    try:
        if action == "reassign":
            incidents.reassign(
                svc, g.actor, incident_id, grid_code=f.get("grid_code") or None,
                worker=(f.get("worker") or "").strip() or None, note=note,
            )  # fmt: skip
        elif action == "photo":
            incidents.add_photos(svc, g.actor, incident_id, _photos(), note=note)
        else:
            incidents.act(
                svc, g.actor, incident_id, action, note=note,
                office=f.get("office") or None, workdays=f.get("workdays") or None,
                passed=_passed(f.get("passed")), satisfaction=f.get("satisfaction") or None,
                into=f.get("into") or None, photos=_photos(),
            )  # fmt: skip
    except (InputError, Conflict, NotFound) as exc:
        flash(exc.message, "error")
    else:
        flash(_("Done: %(action)s.", action=label("action", action)), "ok")
    return redirect(url_for(".show", incident_id=incident_id))


@bp.get("/incidents/photos/<int:photo_id>")
@roles_required()
def photo(photo_id: int):
    data, mimetype = incidents.photo(
        service(), g.actor, photo_id, thumb=request.args.get("thumb") == "1"
    )
    return current_app.response_class(data, mimetype=mimetype)


# ---------------------------------------------------------------------- intake
def _unit_point(code: str) -> Point:
    """A unit's point (WGS-84), for an intake started from the unit."""
    found = boundaries.units(service(), g.actor, q=code, limit=50)
    for rec, lon, lat in zip(found.records, found.lon, found.lat, strict=True):
        if rec["code"] == code:
            return Point.of(float(lon), float(lat))
    raise NotFound(f"no unit {code!r} in the current boundary version")


def _place(src) -> tuple[Point | None, str | None]:
    """The place an intake is about (from ``x``, ``y``, ``crs`` or ``unit``), and the unit it
    started from."""
    unit = (src.get("unit") or "").strip() or None
    if (src.get("x") or "").strip() or (src.get("y") or "").strip():
        return Point.parse(src.get("x"), src.get("y"), src.get("crs") or "wgs84"), unit
    if unit:
        return _unit_point(unit), unit
    return None, None


def _grid_choices(loc) -> list[tuple]:
    """(grid, metres away or None for the located one) of the grids an intake may be recorded
    in: the located one and the candidates near a boundary, or the nearest one outside."""
    out = [(loc.grid2, None)] if loc.grid2 else []
    out += [(c.grid, c.distance_m) for c in loc.candidates]
    if loc.grid2 is None and loc.nearest is not None:
        out.append((loc.nearest.grid, loc.nearest.distance_m))
    return out


def _intake(src, *, status: int = 200, duplicates=None, error: str | None = None, **extra):
    svc = service()
    point, answer, unit = None, None, None
    try:
        point, unit = _place(src)
        if point is not None:
            answer = locating.locate(svc, g.actor, point, units=INTAKE_UNITS)
    except (InputError, NotFound) as exc:
        error, status = exc.message, exc.http_status
    catalogue = incidents.catalogue(svc, g.actor)
    return render_template(
        "incident_new.html",
        form=src,
        point=point,
        answer=answer,
        unit=unit,
        error=error,
        duplicates=duplicates,
        majors=catalogue.majors(),
        channels=[c for c in wf.CHANNELS if c not in ("open311", "api")],
        informants=list(wf.INFORMANT_KINDS),
        choices=_grid_choices(answer.location) if answer else [],
        may_dispatch=g.actor.may("incident_dispatch"),
        **extra,
    ), status


@bp.get("/incidents/new")
@roles_required()
def new():
    g.actor.require("report_incident")  # the form is for those who may report
    return _intake(request.args)


@bp.post("/incidents/new")
@roles_required()
def create():
    g.actor.require("report_incident")
    svc, f = service(), request.form
    try:
        point, _unit = _place(f)
        if point is None:
            raise InputError(_("Give the place: coordinates, or a unit to start from."))
        category, photos = f.get("category", ""), _photos()
        if not f.get("checked"):  # possible duplicates are shown before anything is saved
            found = incidents.duplicates(svc, g.actor, point, category=category)
            if found:
                return _intake(f, duplicates=found, photos_dropped=bool(photos))
        inc = incidents.report(
            svc, g.actor, point, category=category, description=f.get("description", ""),
            channel=f.get("channel", "phone"), reporter=f.get("reporter") or None,
            reporter_contact=f.get("reporter_contact") or None,
            informant_kind=(f.get("informant_kind") or None) if f.get("channel") == "patrol" else None,
            informant_name=(f.get("informant_name") or None) if f.get("channel") == "patrol" else None,
            address=f.get("address") or None, unit_code=f.get("unit_code") or None,
            grid_code=f.get("grid_code") or None, photos=photos,
            dispatch=f.get("dispatch") == "1", merge_into=_number(f.get("merge_into")),
        )  # fmt: skip
    except (InputError, Conflict) as exc:
        return _intake(f, status=exc.http_status, error=exc.message)
    if inc.id != _number(f.get("merge_into")):
        flash(_("Incident %(id)s recorded.", id=inc.id), "ok")
    else:
        flash(_("Recorded and merged into incident %(id)s.", id=inc.id), "ok")
    return redirect(url_for(".show", incident_id=inc.id))


def _number(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"not an incident number: {value[:20]!r}") from None


# ---------------------------------------------------------------------- the catalogue
@bp.get("/admin/categories")
@roles_required()
def categories(form=None, status: int = 200):
    g.actor.require("categories")
    svc = service()
    every = incidents.catalogue(svc, g.actor, inactive=True)
    active = {c.code for c in incidents.catalogue(svc, g.actor)}
    edit = request.args.get("edit")
    if form is None and edit:
        try:
            c = every.get(edit)
            form = {**c.to_dict(), "active": "1" if c.code in active else ""}
        except InputError:
            form = None
    return render_template(
        "categories.html", categories=list(every), active=active, form=form
    ), status


@bp.post("/admin/categories")
@roles_required()
def save_category():
    f = request.form
    try:
        try:
            workdays = int(f.get("workdays", ""))
        except ValueError:
            raise InputError(_("The deadline is a whole number of working days.")) from None
        cat = Category(
            code=f.get("code", "").strip(), major=f.get("major", "").strip(),
            major_en=f.get("major_en", "").strip(), minor=f.get("minor", "").strip(),
            minor_en=f.get("minor_en", "").strip(), workdays=workdays,
            office=f.get("office", "").strip(),
        )  # fmt: skip
        incidents.save_category(service(), g.actor, cat, active=f.get("active") == "1")
    except InputError as exc:
        flash(exc.message, "error")
        return categories(form=f, status=exc.http_status)
    flash(_("Saved category %(code)s.", code=cat.code), "ok")
    return redirect(url_for(".categories"))
