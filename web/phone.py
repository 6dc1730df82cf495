"""The grid worker's phone page (``/m/``): a web app for a 390-px screen that can be added to the
home screen (its manifest, icons and service worker are here too).

The page is a thin client of ``/api/v1``: ``static/phone.js`` reads the worker's open incidents
(``GET /api/v1/incidents?near=…``: the distances are the core's, see
:func:`geogrid.usecases.incidents.views`), takes the workflow's steps through
``POST /api/v1/incidents/<id>/actions`` and ``…/photos``, and follows the live events
(``GET /api/v1/events``, Server-Sent Events; every 30 s polling while that answers 404). The
page embeds only the worker's grid outline (drawn without any map tiles) and its texts.

Who: a grid worker. Any other role is sent to the map (``/``) with a message saying the page is
the grid workers' (their work is on the map and the incident list).

Offline: the service worker (``/m/sw.js``, scope ``/m/``) keeps the page, its script, style,
Leaflet and the icons, so the page opens without a network; the last task list is kept by the
page (``localStorage``) and shown with the time it was fetched. A step taken offline, photos
included, is queued in the browser (IndexedDB) and sent in order when the connection is back;
each answer is shown (a refused one with the server's message). Logging out clears the queue
and the caches.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from shapely.geometry import mapping

from geogrid.access import WORKER
from geogrid.display import for_display
from geogrid.incidents import SATISFACTION
from geogrid.usecases import boundaries

from .auth import roles_required
from .services import service
from .text import STATE_LABELS, state_name

bp = Blueprint("phone", __name__, url_prefix="/m")

STATIC = Path(__file__).parent / "static"
#: The files of the page's shell the service worker keeps (besides the page itself).
SHELL_STATIC = (
    "dom.js",
    "live.js",
    "phone.js",
    "phone.css",
    "phone/icon-192.png",
    "phone/icon-512.png",
)
SHELL_VENDOR = (("leaflet", "leaflet.js"), ("leaflet", "leaflet.css"))
#: The position sources the page knows: the browser's (WGS-84) and an AMap-based shell's.
POSITION_CRS = ("wgs84", "gcj02")
THEME = "#0f2742"
#: Seconds between two reads of the task list while the live events are unavailable.
POLL_SECONDS = 30


def _strings() -> dict:
    """Every text phone.js shows, in the interface language."""
    return {
        "tabs": {
            "new": _("New"),
            "soon": _("Due soon"),
            "overdue": _("Overdue"),
            "revisit": _("Revisits"),
            "all": _("All open"),
        },
        "empty": {
            "new": _("No new tasks."),
            "soon": _("Nothing due in the next hours."),
            "overdue": _("Nothing overdue."),
            "revisit": _("No return visit due."),
            "all": _("No open task in your grid."),
        },
        "states": {k: state_name(k) for k in STATE_LABELS},
        "satisfaction": {
            "satisfied": _("Satisfied"),
            "fair": _("Fairly satisfied"),
            "dissatisfied": _("Dissatisfied"),
        },
        "actions": {
            "accept": _("Accept"),
            "resolve": _("Handled"),
            "escalate": _("Escalate"),
            "revisit": _("Return visit"),
            "photo": _("Add photos"),
        },
        "sheet_titles": {
            "resolve": _("Handled on the spot"),
            "escalate": _("Escalate for joint handling"),
            "revisit": _("Return visit"),
            "photo": _("Add photos"),
        },
        "deadline": _("Due %(when)s"),
        "overdue_by": _("Overdue since %(when)s"),
        "revisit_by": _("Return visit by %(when)s"),
        "distance_m": _("%(m)s m away"),
        "distance_km": _("%(km)s km away"),
        "no_position": _("Distance unknown: allow location access"),
        "locating": _("Finding your position…"),
        "server_refused": _("Not accepted by the server: %(message)s"),
        "call": _("Call %(who)s"),
        "reporter": _("Reporter"),
        "offline": _(
            "Offline: showing the tasks of %(when)s. Steps you take are kept and sent later."
        ),
        "reconnecting": _("Connection lost: reconnecting…"),
        "polling": _("Live updates unavailable: the list is refreshed every %(s)s s."),
        "expired": _("Your login has expired: log in again to send your steps."),
        "log_in": _("Log in"),
        "updated": _("Updated %(when)s"),
        "never": _("No tasks loaded yet: connect to the network."),
        "unsent_logout": _(
            "%(n)s steps are still waiting to be sent: connect to the network before logging out."
        ),
        "queued": _("Saved on the phone: it is sent when the connection is back."),
        "pending": _("Waiting to send: %(what)s"),
        "waiting": _("Waiting to send (%(n)s): %(steps)s"),
        "sending": _("Sending…"),
        "sent": _("Sent: #%(id)s %(what)s"),
        "refused": _("Refused: #%(id)s %(what)s: %(message)s"),
        "done": _("Done: #%(id)s %(what)s"),
        "network_error": _("The server could not be reached. Try again."),
        "new_task": _("New task: #%(id)s"),
        "dismiss": _("Dismiss"),
        "send": _("Send"),
        "cancel": _("Back"),
        "note": _("Note"),
        "resolve_note": _("What was done"),
        "resolve_placeholder": _("e.g. the manhole cover has been replaced"),
        "reason": _("Reason (required)"),
        "reason_placeholder": _("Why it needs joint handling"),
        "photos": _("Photos"),
        "take_photos": _("Take photos"),
        "photos_count": _("%(n)s photos"),
        "passed": _("Did the problem stay away?"),
        "passed_yes": _("Yes, solved"),
        "passed_no": _("No, it is back"),
        "satisfaction_q": _("The reporter's satisfaction"),
        "back_note": _("What came back (required)"),
        "need_note": _("Please write a note."),
        "need_reason": _("Please give the reason."),
        "need_satisfaction": _("Please choose the reporter's satisfaction."),
        "need_photos": _("Take at least one photo."),
        "incident": _("Incident #%(id)s"),
        "more": _("Showing the first %(n)s of %(total)s tasks."),
        "nearest": _("Nearest first"),
        "by_deadline": _("By deadline"),
    }


@bp.get("/")
@roles_required()
def index():
    if g.user.role != WORKER:
        flash(_("The phone page is for grid workers: your work is on the map and the incident list."), "info")  # fmt: skip
        return redirect(url_for("maps.index"))
    district = boundaries.version_data(service(), g.actor)[1]
    code = g.user.grid_code
    found = district.grids2[district.grids2["code"] == code]  # none without a grid set
    grid = {
        "code": code,
        "name": None if found.empty else str(found.iloc[0]["name"]),
        # the outline drawn under each task's point (WGS-84 GeoJSON; no tiles needed)
        "outline": None if found.empty else mapping(for_display(found.geometry.values)[0]),
    }
    crs = request.args.get("geo", "wgs84")
    config = {
        "user": g.user.username,
        "grid": grid,
        "lang": str(get_locale()),
        "geo_crs": crs if crs in POSITION_CRS else "wgs84",
        "poll_seconds": current_app.config.get("PHONE_POLL_SECONDS", POLL_SECONDS),
        "urls": {
            "incidents": url_for("api.incidents"),
            "incident": url_for("api.incidents") + "/",
            "events": "/api/v1/events",
            "state": url_for("phone.state"),
            "sw": url_for("phone.service_worker"),
            "login": url_for("auth.login", next=url_for("phone.index")),
            "desktop_incident": url_for("incidents.index") + "/",
        },
        "satisfaction": list(SATISFACTION),
        "strings": _strings(),
    }
    return render_template("phone.html", config=config, grid=grid, theme=THEME)


@bp.get("/state")
@roles_required()
def state():
    """Who is logged in and a fresh CSRF token: what the page asks before it sends the steps
    queued while offline (its own token may be older than the session)."""
    return jsonify(
        {"user": g.user.username, "grid_code": g.user.grid_code, "csrf_token": generate_csrf()}
    )


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest (public: browsers fetch it without cookies)."""
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": url_for("static", filename=f"phone/{name}"),
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }
    body = {
        "name": _("Grid worker tasks"),
        "short_name": _("Grid tasks"),
        "lang": str(get_locale()),
        "start_url": url_for("phone.index"),
        "scope": url_for("phone.index"),
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": "#f3f5f8",
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    resp = jsonify(body)
    resp.mimetype = "application/manifest+json"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@lru_cache(maxsize=4)
def _shell_version(stamp: tuple) -> str:
    return hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]


@bp.get("/sw.js")
def service_worker():
    """The service worker (public, scope ``/m/``): it keeps the page's shell for offline use.
    Its text names a version made of the shell files' sizes and times, so a new release
    replaces the cached shell."""
    shell = [url_for("phone.index")]
    shell += [url_for("static", filename=f) for f in SHELL_STATIC]
    shell += [url_for("vendor.vendor", package=p, filename=f) for p, f in SHELL_VENDOR]
    files = [STATIC / f for f in SHELL_STATIC] + [Path(__file__).parent / "templates/phone.html"]
    stamp = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    body = render_template("sw.js", version=_shell_version(stamp), shell=shell)
    resp = current_app.response_class(body, mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = url_for("phone.index")
    resp.headers["Cache-Control"] = "no-cache"
    return resp
