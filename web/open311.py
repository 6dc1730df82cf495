"""Open311 GeoReport v2 at ``/open311/v2``: municipal apps list the categories and report and
follow incidents in the spec's shapes (https://wiki.open311.org/GeoReport_v2), XML or JSON.

* ``GET services.{xml|json}``: the category catalogue (``service_code`` is a category's code,
  ``group`` its major class); ``GET services/{code}.{fmt}``: a service definition (no extra
  attributes: every service has ``metadata`` false).
* ``POST requests.{fmt}`` (form-encoded): a new incident, channel ``open311``, through
  :func:`geogrid.usecases.incidents.report`. ``api_key`` is an API token of this site whose
  role may report; ``lat`` and ``long`` (WGS-84) are required: an ``address_string`` alone
  cannot be located. The answer carries the ``service_request_id`` at once (``type`` realtime).
* ``GET requests.{fmt}`` (``service_request_id``, ``service_code``, ``status``, ``start_date``,
  ``end_date``; the last 90 days and at most 1000 requests by default), ``GET
  requests/{id}.{fmt}``, ``GET tokens/{token}.{fmt}`` (a token is the request's id).

Reads return public fields only, never who reported or how to reach them. Whether they need an
``api_key`` is the setting ``OPEN311_READ_NEEDS_KEY``; without one the caller is
:data:`geogrid.access.PUBLIC_READER`, with one the key's owner, scoped as everywhere else (a
grid worker's key sees their grid's requests). ``jurisdiction_id`` is optional and, when given,
must be ``OPEN311_JURISDICTION`` (default: the district's code).

Errors are the spec's error list with the HTTP status (:func:`error`, which
:func:`web.errors.respond` uses for every path under the root, routing errors included): 400
bad input, 403 a missing or wrong key or a role that may not, 404 an unknown service, request
or jurisdiction. Times are W3C datetimes in Beijing time (``+08:00``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from flask import Blueprint, current_app, g, request, url_for
from flask_babel import get_locale

from geogrid.access import PUBLIC_READER, Actor
from geogrid.crs import parse_coordinate
from geogrid.db.types import utcnow
from geogrid.errors import Forbidden, InputError, NotFound
from geogrid.incidents import DONE, STATES, Catalogue, Category, Incident
from geogrid.incidents.query import IncidentQuery, moment
from geogrid.usecases import incidents
from geogrid.usecases.locating import Point
from geogrid.workdays import BEIJING

from .extensions import csrf
from .responses import json_response
from .services import service, store

ROOT = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix=ROOT)
csrf.exempt(bp)  # callers authenticate with api_key, never with a session cookie

#: The formats and their media types; XML is the spec's required one (and that of errors on
#: a path without a known format).
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
#: Most requests one list returns, and the longest time a list may span (the spec's limits).
MAX_REQUESTS = 1000
WINDOW = timedelta(days=90)

_TEXT = {
    "zh": {
        "description": "{major}：{minor}。{workdays}个工作日内处置；需会办时由{office}办理。",
        "notice": "{workdays}个工作日内处置",
    },
    "en": {
        "description": "{major}: {minor}. Handled within {workdays} working days; joint "
        "handling by {office}.",
        "notice": "to be handled within {workdays} working days",
    },
}


# ---------------------------------------------------------------------- services
@bp.get("/services.<fmt>")
def services(fmt: str):
    fmt = _begin(fmt)
    catalogue = incidents.catalogue(service(), _reader())
    return _answer(fmt, "services", "service", [_service(c) for c in catalogue])


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    fmt = _begin(fmt)
    if _category(incidents.catalogue(service(), _reader()), code) is None:
        raise NotFound(_unknown(code))
    return _answer(fmt, "service_definition", None, {"service_code": code, "attributes": []})


# ---------------------------------------------------------------------- requests
@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    fmt = _begin(fmt)
    actor = _caller(required=True)
    svc = service()
    code = _value("service_code")
    if code is None:
        raise InputError("service_code is required (one of GET services)")
    category = _category(incidents.catalogue(svc, actor), code)
    if category is None:
        raise NotFound(_unknown(code))
    lat, lon = _value("lat"), _value("long")
    if lat is None or lon is None:
        also = _value("address_string") or _value("address_id")
        raise InputError(
            "lat and long (WGS-84) are required"
            + (": an address_string or address_id alone cannot be located here" if also else "")
        )
    point = Point.of(_coordinate(lon, "long", 180.0), _coordinate(lat, "lat", 90.0))
    inc = incidents.report(
        svc,
        actor,
        point,
        category=category.code,
        description=_value("description") or "",
        channel="open311",
        reporter=_person(_value("first_name"), _value("last_name")),
        reporter_contact=", ".join(c for c in (_value("phone"), _value("email")) if c) or None,
        address=_value("address_string"),
        media_url=_value("media_url"),
    )
    answer = {
        "service_request_id": inc.id,
        "service_notice": _notice(category),
        "account_id": _value("account_id"),
    }
    return _answer(fmt, "service_requests", "request", [answer], status=201)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    fmt = _begin(fmt)
    actor = _reader()
    svc = service()
    catalogue = incidents.catalogue(svc, actor, inactive=True)
    ids = _ids(_values("service_request_id"))
    if ids:  # the spec: this overrides every other argument
        queries = [IncidentQuery(ids=ids, limit=MAX_REQUESTS)]
    else:
        states = _states(_values("status"))
        since, until = _window(_value("start_date"), _value("end_date"))
        codes = _values("service_code")
        for code in codes:
            if _category(catalogue, code) is None:
                raise InputError(_unknown(code))
        queries = [
            IncidentQuery(
                category=code, states=states, since=since, until=until, limit=MAX_REQUESTS
            )
            for code in sorted(set(codes)) or [None]
        ]
    found: list[Incident] = []
    for query in queries:
        found += incidents.search(svc, actor, query, count=False, details=True)[1]
    found = sorted(found, key=lambda i: (i.created_at, i.id), reverse=True)[:MAX_REQUESTS]
    return _requests(fmt, found, catalogue)


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    fmt = _begin(fmt)
    actor = _reader()
    svc = service()
    inc = incidents.get(svc, actor, _id(request_id))
    return _requests(fmt, [inc], incidents.catalogue(svc, actor, inactive=True))


@bp.get("/tokens/<token>.<fmt>")
def token(token: str, fmt: str):
    """Requests are created at once, so a token is the request's id (the spec's answer)."""
    fmt = _begin(fmt)
    inc = incidents.get(service(), _reader(), _id(token, "token"))
    return _answer(
        fmt, "service_requests", "request", [{"service_request_id": inc.id, "token": token}]
    )


@bp.get("/photos/<int:photo_id>")
def photo(photo_id: int):
    """A request's photo (its ``media_url`` when the app did not give one), read like it."""
    _jurisdiction()
    data, mimetype = incidents.photo(service(), _reader(), photo_id)
    return current_app.response_class(data, mimetype=mimetype)


# ---------------------------------------------------------------------- callers
def api_key() -> str | None:
    """The request's ``api_key`` (the form's for a POST, else the query string's)."""
    return _value("api_key")


def _caller(*, required: bool) -> Actor:
    """The owner of the request's ``api_key`` (403 for a wrong one; counted by
    :mod:`web.limits`); without a key, 403 when ``required``, else the anonymous reader."""
    key = api_key()
    if key is None:
        if required:
            raise Forbidden("api_key is required: an API token of this site (its tokens page)")
        return PUBLIC_READER
    user = store().user_for_token(key)
    if user is None:
        g.wrong_api_key = True
        raise Forbidden("invalid api_key: unknown, revoked, or its account is disabled")
    return Actor.of(user)


def _reader() -> Actor:
    return _caller(required=current_app.config["OPEN311_READ_NEEDS_KEY"])


# ---------------------------------------------------------------------- parameters
def _begin(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"unknown format .{fmt[:20]}: use .xml or .json")
    _jurisdiction()
    return fmt


def _jurisdiction() -> None:
    given = _value("jurisdiction_id")
    served = jurisdiction()
    if given is not None and given.lower() != served.lower():
        raise NotFound(f"jurisdiction_id {given[:80]!r} not found: this endpoint serves {served}")


def jurisdiction() -> str:
    """The jurisdiction served: ``OPEN311_JURISDICTION``, else the district's code."""
    return current_app.config["OPEN311_JURISDICTION"] or service().district_code


def _value(name: str) -> str | None:
    """A parameter of the form (POST) or query string, stripped; blank is absent (the spec's
    optional arguments)."""
    value = request.values.get(name)
    return value.strip() if value and value.strip() else None


def _values(name: str) -> list[str]:
    """A parameter given several times and/or comma-separated."""
    return [v.strip() for raw in request.values.getlist(name) for v in raw.split(",") if v.strip()]


def _coordinate(value: str, name: str, limit: float) -> float:
    number = parse_coordinate(value, name)
    if not -limit <= number <= limit:
        raise InputError(f"{name} must be between {-limit:g} and {limit:g} (WGS-84), got {value}")
    return number


def _category(catalogue: Catalogue, code: str) -> Category | None:
    return next((c for c in catalogue if c.code == code), None)


def _unknown(code: str) -> str:
    return f"service_code {code[:40]!r} not found (GET services lists them)"


def _person(first: str | None, last: str | None) -> str | None:
    """The reporter's name: given and family name (a Chinese name family name first)."""
    if first and last and all("\u4e00" <= ch <= "\u9fff" or ch == "·" for ch in first + last):
        return last + first
    return " ".join(n for n in (first, last) if n) or None


def _id(value: str, name: str = "service_request_id") -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound(f"no request with {name} {value[:40]!r}")
    return int(value)


def _ids(values: list[str]) -> tuple[int, ...]:
    if len(values) > MAX_REQUESTS or not all(
        v.isascii() and v.isdigit() and len(v) <= 18 for v in values
    ):
        raise InputError(
            f"service_request_id: up to {MAX_REQUESTS} request ids separated by commas"
        )
    return tuple(int(v) for v in values)


def _states(values: list[str]) -> tuple[str, ...]:
    wanted = set(values)
    if wanted - {"open", "closed"}:
        raise InputError(f"status: open or closed, got {','.join(sorted(wanted))[:80]!r}")
    if len(wanted) != 1:
        return ()
    done = "closed" in wanted
    return tuple(s for s in STATES if (s in DONE) == done)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime | None]:
    """The reporting times asked for, at most :data:`WINDOW` long (the last 90 days by
    default); ``end_date`` is included."""
    since = _moment(start, "start_date")
    until = _moment(end, "end_date", end=True)
    if since is None and until is None:
        return utcnow() - WINDOW, None
    if since is None:
        return until - WINDOW, until
    if until is None:
        return since, since + WINDOW
    if until < since:
        raise InputError("end_date is before start_date")
    if until - since > WINDOW + timedelta(microseconds=1):
        raise InputError("start_date to end_date may not span more than 90 days")
    return since, until


def _moment(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A W3C datetime (``2010-01-01T00:00:00Z``; a date alone is that whole day in Beijing;
    no offset means Beijing time), read as the incident lists read times. An ``end`` moment
    is returned just after itself (the end is included)."""
    if value is None:
        return None
    if "T" in value:  # an offset's + sent unencoded in a query string arrives as a space
        value = value.replace(" ", "+")
    try:
        found = moment(value, name, end=end)
    except InputError:
        raise InputError(
            f"{name}: a W3C datetime such as 2026-12-06T08:00:00+08:00 (years 1900 to 2200), "
            f"got {value[:40]!r}"
        ) from None
    return found + timedelta(microseconds=1) if end and len(value) != 10 else found


# ---------------------------------------------------------------------- answers
def _lang() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


def _names(c: Category) -> tuple[str, str]:
    """(major class, minor class) in the interface language."""
    if _lang() == "en":
        return c.major_en or c.major, c.minor_en or c.minor
    return c.major, c.minor


def _service(c: Category) -> dict:
    major, minor = _names(c)
    words = dict.fromkeys(w for w in (c.minor, c.minor_en, c.major, c.major_en) if w)
    return {
        "service_code": c.code,
        "service_name": minor,
        "description": _TEXT[_lang()]["description"].format(
            major=major, minor=minor, workdays=c.workdays, office=c.office
        ),
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(words),
        "group": major,
    }


def _notice(c: Category | None) -> str | None:
    return _TEXT[_lang()]["notice"].format(workdays=c.workdays) if c else None


def _requests(fmt: str, found: list[Incident], catalogue: Catalogue):
    _, loc = service().current()
    names = dict(zip(loc.district.grids1["code"], loc.district.grids1["name"], strict=True))
    names.update((grid.code, grid.name) for grid in loc.grids)
    cats = {c.code: c for c in catalogue}
    rows = [_request(inc, cats.get(inc.category), names) for inc in found]
    return _answer(fmt, "service_requests", "request", rows)


def _request(inc: Incident, cat: Category | None, names: dict) -> dict:
    """An incident's public fields, as the spec names them."""
    closing = inc.closing_step()
    community = names.get(inc.grid1_code or "", inc.grid1_code)
    place = ", ".join(n for n in (names.get(inc.grid_code or ""), community) if n)
    photo_url = (
        url_for("open311.photo", photo_id=inc.photos[0]["id"], _external=True)
        if inc.photos
        else None
    )
    return {
        "service_request_id": inc.id,
        "status": "closed" if inc.state in DONE else "open",
        "status_notes": (closing["note"] or None) if closing else None,
        "service_name": _names(cat)[1] if cat else inc.category,
        "service_code": inc.category,
        "description": inc.description or None,
        "agency_responsible": inc.office if inc.escalated_at and inc.office else community,
        "service_notice": _notice(cat),
        "requested_datetime": _w3c(inc.created_at),
        "updated_datetime": _w3c(closing["at"] if closing else inc.updated_at),
        "expected_datetime": _w3c(inc.deadline() or inc.due_at),
        "address": inc.address or place or None,
        "lat": inc.lat,
        "long": inc.lon,
        "media_url": inc.media_url or photo_url,
    }


def _w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment else None


def error(status: int, message: str):
    """The spec's error answer, in the format the path asks for (XML unless ``.json``)."""
    last = request.path.rsplit("/", 1)[-1]
    fmt = "json" if last.endswith(".json") else "xml"
    return _answer(fmt, "errors", "error", [{"code": status, "description": message}], status)


def answers(path: str) -> bool:
    """Whether ``path`` is Open311's (its errors are :func:`error`'s)."""
    return path == ROOT or path.startswith(ROOT + "/")


def _answer(fmt: str, root: str, item: str | None, body, status: int = 200):
    """``body`` (a list of ``item`` mappings, or one mapping) as JSON, or as XML under
    ``root``; returns (response, status)."""
    if fmt == "json":
        resp = json_response(body, status)
    else:
        top = ET.Element(root)
        for row in body if item else [body]:
            _fill(ET.SubElement(top, item) if item else top, row)
        xml = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode")
        resp = current_app.response_class(xml.encode("utf-8"), status=status)
    resp.headers["Content-Type"] = FORMATS[fmt]
    return resp, status


#: Characters XML 1.0 cannot carry (control characters other than tab and newlines).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fill(element: ET.Element, row: dict) -> None:
    for key, value in row.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):  # the definition's attributes (none here)
            for sub in value:
                _fill(ET.SubElement(child, key.removesuffix("s")), sub)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = _NOT_XML.sub("", str(value))
