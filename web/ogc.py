"""OGC API – Features at ``/ogc``: the layers where GIS tools (QGIS, GDAL's ``OAPIF`` driver,
ArcGIS) read them directly.

Part 1 Core with GeoJSON and HTML, Part 2 (CRS by reference: CRS84, EPSG:4326, EPSG:4490 and
EPSG:4549 through ``crs`` and ``bbox-crs``), and the queryables with their query parameters.
Collections ``district``, ``grids1``, ``grids2``, ``units`` (each of any boundary version with
``version=N``, the current one by default) and ``incidents`` (today's open ones). The views are
thin: :mod:`geogrid.usecases.features` chooses the features and checks who may read them.

The landing page, the conformance declaration and the OpenAPI document are public; the
collections need a caller, as ``/api/v1`` does: ``Authorization: Bearer <token>`` or a
logged-in session. Each answer is JSON (``f=json``, GeoJSON for features) or a page
(``f=html``); without ``f`` a browser (``Accept: text/html``) gets the page. Errors are OGC's
exception document, ``{"code": "InvalidParameterValue", "description": "…"}``, with a 4xx
status (or the error page, for a page).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from geogrid.errors import InputError
from geogrid.features.crs import CRS84, URIS
from geogrid.features.query import COMMON, MAX_LIMIT, FeatureQuery
from geogrid.usecases import features

from .auth import api_user, check_api_caller
from .extensions import csrf
from .responses import json_response
from .services import service
from .text import N_

ROOT = "/ogc"
bp = Blueprint("ogc", __name__, url_prefix=ROOT)
csrf.exempt(bp)

#: Endpoints anyone may read.
PUBLIC_ENDPOINTS = {"ogc.landing", "ogc.conformance", "ogc.openapi"}

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
TITLES = {
    "district": (N_("District outline"), N_("The outline of the sub-district.")),
    "grids1": (
        N_("First-level grids"),
        N_("The communities: one first-level grid each, with its leader and service office."),
    ),
    "grids2": (
        N_("Second-level grids"),
        N_("The second-level grids, which tile the district, each with its grid worker."),
    ),
    "units": (
        N_("Units"),
        N_(
            "The units stationed in the grids (third-level grids): companies, schools, shops, compounds."
        ),
    ),
    "incidents": (
        N_("Open incidents"),
        N_("Incidents not yet closed, where they were reported, with their state and deadline."),
    ),
}
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
#: Exception codes by status (OGC API – Common's exception document).
CODES = {
    400: "InvalidParameterValue",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    429: "TooManyRequests",
}


# ---------------------------------------------------------------------- format and errors
def wants_html() -> bool:
    """The answer is a page: ``f=html``, or no ``f`` and a browser preferring HTML."""
    f = request.args.get("f")
    if f is not None:
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON, "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
    )


def _check_format() -> None:
    f = request.args.get("f")
    if f is not None and f not in ("json", "html"):
        raise InputError(f"f: json or html, got {f[:20]!r}")


def answers(path: str) -> bool:
    """Whether ``path`` is under this API's root (its errors are :func:`error`'s)."""
    return path == ROOT or path.startswith(ROOT + "/")


def error(status: int, message: str):
    """OGC's exception document (or the error page, for a page)."""
    if wants_html():
        return render_template("error.html", status=status, message=message), status
    body = {
        "code": CODES.get(status, "ServerError" if status >= 500 else "Error"),
        "description": message,
    }
    return json_response(body, status), status


@bp.before_request
def _authenticate():
    _check_format()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if api_user() is None:
        if wants_html():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        resp, status = error(
            401, "authentication required: send Authorization: Bearer <token>, or log in"
        )
        resp.headers["WWW-Authenticate"] = 'Bearer realm="geogrid"'
        return resp, status
    return check_api_caller()


# ---------------------------------------------------------------------- links
def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _self_links(endpoint: str, title: str, json_type: str = "application/json", **values):
    """``self`` and ``alternate`` links of a document in both formats."""
    here = "html" if wants_html() else "json"
    out = []
    for f, media in (("json", json_type), ("html", "text/html")):
        out.append(
            {
                "href": _url(endpoint, **values, f=f),
                "rel": "self" if f == here else "alternate",
                "type": media,
                "title": title,
            }
        )
    return out


def _version_arg() -> dict:
    v = request.args.get("version")
    return {"version": v} if v is not None else {}


def _answer(doc: dict, template: str, media: str = "application/json", headers=None, **page):
    if wants_html():
        return render_template(template, doc=doc, **page)
    return json_response(doc, mimetype=media, headers=headers)


# ---------------------------------------------------------------------- the documents
@bp.get("/")
def landing():
    """The landing page: what this service is and where its parts are."""
    doc = {
        "title": _("geogrid: grids of %(name)s", name=service().current()[1].district.name),
        "description": _("The grid layers of the sub-district as OGC API – Features."),
        "links": [
            *_self_links("ogc.landing", _("This document")),
            {
                "href": _url("ogc.openapi"),
                "rel": "service-desc",
                "type": OPENAPI,
                "title": _("The API definition"),
            },
            {
                "href": _url("ogc.openapi", f="html"),
                "rel": "service-doc",
                "type": "text/html",
                "title": _("The API documentation"),
            },
            {
                "href": _url("ogc.conformance"),
                "rel": "conformance",
                "type": "application/json",
                "title": _("Conformance classes"),
            },
            {
                "href": _url("ogc.collections"),
                "rel": "data",
                "type": "application/json",
                "title": _("The collections"),
            },
        ],
    }
    return _answer(doc, "ogc.html", kind="landing")


@bp.get("/conformance")
def conformance():
    """The conformance classes this service implements."""
    return _answer({"conformsTo": CONFORMANCE}, "ogc.html", kind="conformance")


@bp.get("/api")
def openapi():
    """The OpenAPI 3.0 definition of this API (``f=html``: the interactive documentation)."""
    if wants_html():
        return render_template("api_docs.html", spec_url=url_for("ogc.openapi", f="json"))
    return json_response(_openapi(), mimetype=OPENAPI)


def _collection_doc(info: features.CollectionInfo) -> dict:
    title, description = TITLES[info.id]
    values = {"version": info.version} if request.args.get("version") else {}
    items = "ogc.items"
    extent = {"spatial": {"bbox": [list(info.bbox)], "crs": CRS84}}
    if info.temporal:
        start = info.interval[0]
        extent["temporal"] = {
            "interval": [[_rfc3339(start) if start else None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return {
        "id": info.id,
        "title": _(title),
        "description": _(description),
        "itemType": "feature",
        "extent": extent,
        "crs": list(URIS.values()),
        "storageCrs": CRS84,
        **({"version": info.version} if info.version is not None else {}),
        "links": [
            *_self_links("ogc.collection", _(title), collection=info.id, **values),
            {
                "href": _url(items, collection=info.id, f="json", **values),
                "rel": "items",
                "type": GEOJSON,
                "title": _("The features"),
            },
            {
                "href": _url(items, collection=info.id, f="html", **values),
                "rel": "items",
                "type": "text/html",
                "title": _("The features"),
            },
            {
                "href": _url("ogc.queryables", collection=info.id),
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": _("What the features may be filtered on"),
            },
        ],
    }


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@bp.get("/collections")
def collections():
    """The collections this caller may read."""
    svc, version = service(), _version_param()
    docs = [
        _collection_doc(
            features.collection(svc, g.actor, c, version=None if c == "incidents" else version)
        )
        for c in features.readable(g.actor)
    ]
    doc = {
        "links": _self_links("ogc.collections", _("The collections"), **_version_arg()),
        "collections": docs,
    }
    return _answer(doc, "ogc.html", kind="collections")


def _version_param() -> int | None:
    v = request.args.get("version")
    return FeatureQuery.parse({"version": v}, versioned=True).version if v is not None else None


@bp.get("/collections/<collection>")
def collection(collection: str):
    """One collection: what it holds, its extent and its CRSs."""
    info = features.collection(service(), g.actor, collection, version=_version_param())
    return _answer(_collection_doc(info), "ogc.html", kind="collection")


@bp.get("/collections/<collection>/queryables")
def queryables(collection: str):
    """The properties the features may be filtered on, as a JSON Schema."""
    names = features.queryables(collection, g.actor)
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url("ogc.queryables", collection=collection),
        "type": "object",
        "title": _(TITLES[collection][0]),
        "properties": {n: {"title": n, "type": "string"} for n in names},
        "additionalProperties": False,
    }
    return _answer(doc, "ogc.html", "application/schema+json", kind="queryables")


@bp.get("/collections/<collection>/items")
def items(collection: str):
    """A page of the collection's features (GeoJSON), with links to the next and previous."""
    query = features.parse_query(collection, _query_args())
    page = features.items(service(), g.actor, collection, query)
    links = _page_links(collection, page)
    if wants_html():
        return _items_page(collection, page, links)
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": page.returned,
        "timeStamp": _rfc3339(datetime.now(UTC)),
        "links": links,
    }
    body = json_response(head).get_data()[:-1] + b',"features":[' + b",".join(page.features) + b"]}"
    return _features_response(body, query.crs)


@bp.get("/collections/<collection>/items/<fid>")
def item(collection: str, fid: str):
    """One feature."""
    args = _query_args()
    query = features.parse_query(collection, args, one=True)
    page = features.item(service(), g.actor, collection, fid, version=query.version, crs=query.crs)
    values = {k: args[k] for k in ("crs", "version") if k in args}
    links = [
        *_self_links("ogc.item", fid, GEOJSON, collection=collection, fid=fid, **values),
        {
            "href": _url("ogc.collection", collection=collection),
            "rel": "collection",
            "type": "application/json",
            "title": _(TITLES[collection][0]),
        },
    ]
    if wants_html():
        return _items_page(collection, page, links, one=fid)
    body = page.features[0][:-1] + b',"links":' + json_response(links).get_data() + b"}"
    return _features_response(body, query.crs)


def _query_args() -> dict:
    """The query string, one value per name (a repeated parameter is refused)."""
    out = {}
    for name in request.args:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise InputError(f"{name[:40]}: given {len(values)} times; give it once")
        out[name] = values[0]
    return out


def _page_links(collection: str, page: features.FeaturePage) -> list[dict]:
    args = {k: v for k, v in _query_args().items() if k != "f"}
    title = _(TITLES[collection][0])
    links = _self_links("ogc.items", title, GEOJSON, collection=collection, **args)
    q = page.query

    def at(offset: int, rel: str, label: str):
        moved = {**args, "offset": str(offset), "limit": str(q.limit)}
        for f, media in (("json", GEOJSON), ("html", "text/html")):
            links.append(
                {
                    "href": _url("ogc.items", collection=collection, **moved, f=f),
                    "rel": rel,
                    "type": media,
                    "title": label,
                }
            )

    if page.has_next:
        at(q.offset + q.limit, "next", _("Next page"))
    if q.offset > 0:
        at(max(q.offset - q.limit, 0), "prev", _("Previous page"))
    links.append(
        {
            "href": _url("ogc.collection", collection=collection),
            "rel": "collection",
            "type": "application/json",
            "title": title,
        }
    )
    return links


def _features_response(body: bytes, crs: str):
    resp = json_response(None, mimetype=GEOJSON)
    resp.set_data(body)
    resp.headers["Content-Crs"] = f"<{URIS[crs]}>"
    return resp


def _items_page(collection: str, page: features.FeaturePage, links, one: str | None = None):
    feats = [orjson.loads(f) for f in page.features]
    return render_template(
        "ogc.html",
        kind="item" if one else "items",
        doc={"links": links},
        collection=collection,
        title=_(TITLES[collection][0]),
        features=feats,
        page=page,
        columns=list(feats[0]["properties"]) if feats else [],
        crs=page.query.crs,
    )


# ---------------------------------------------------------------------- OpenAPI
def _param(name: str, description: str, schema: dict, *, where: str = "query", **extra) -> dict:
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": where == "path",
        "schema": schema,
        **extra,
    }


def _openapi() -> dict:
    """The OpenAPI 3.0 definition: the standard's paths, and each collection's items with the
    parameters it takes."""
    crs_enum = {"type": "string", "format": "uri", "enum": list(URIS.values())}
    common = {
        "f": _param("f", "The format of the answer", {"type": "string", "enum": ["json", "html"]}),
        "limit": _param(
            "limit",
            f"How many features in a page (at most {MAX_LIMIT})",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
        ),
        "offset": _param(
            "offset", "How many features to skip", {"type": "integer", "minimum": 0, "default": 0}
        ),
        "bbox": _param(
            "bbox",
            "Lower and upper corner, in bbox-crs (default CRS84 lon/lat)",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            style="form",
            explode=False,
        ),
        "bbox-crs": _param("bbox-crs", "The CRS of bbox", crs_enum),
        "crs": _param("crs", "The CRS of the geometries in the answer", crs_enum),
        "version": _param(
            "version",
            "The boundary version (default: the current one)",
            {"type": "integer", "minimum": 1},
        ),
        "datetime": _param(
            "datetime",
            "An instant or interval of the report time (RFC 3339, .. for an open end)",
            {"type": "string"},
        ),
    }
    errors = {
        "400": {"description": "A parameter is wrong (OGC's exception document)"},
        "401": {"description": "No caller: send Authorization: Bearer <token>"},
        "403": {"description": "The caller's role or grid may not read it"},
        "404": {"description": "No such collection, feature or version"},
    }

    def ok(description: str, media: str) -> dict:
        content = {
            media: {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        }
        return {"200": {"description": description, "content": content}, **errors}

    ok_json = ok("OK", "application/json")
    ok_schema = ok("A JSON Schema of the queryables", "application/schema+json")
    ok_geo = ok("The features", GEOJSON)
    paths = {
        "/": {
            "get": {
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "tags": ["Capabilities"],
                "parameters": [common["f"]],
                "responses": ok_json,
                "security": [],
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformance",
                "tags": ["Capabilities"],
                "parameters": [common["f"]],
                "responses": ok_json,
                "security": [],
            }
        },
        "/api": {
            "get": {
                "summary": "This API definition",
                "operationId": "getAPI",
                "tags": ["Capabilities"],
                "responses": ok_json,
                "security": [],
            }
        },
        "/collections": {
            "get": {
                "summary": "The collections",
                "operationId": "getCollections",
                "tags": ["Capabilities"],
                "parameters": [common["f"], common["version"]],
                "responses": ok_json,
            }
        },
    }
    for c in features.COLLECTIONS:
        title = TITLES[c][0]
        versioned = c != "incidents"
        params = [common[n] for n in COMMON] + [common["version" if versioned else "datetime"]]
        params += [
            _param(q, f"Features whose {q} is this value", {"type": "string"})
            for q in features.queryables(c)
        ]
        tag = [title]
        paths[f"/collections/{c}"] = {
            "get": {
                "summary": f"{title}: the collection",
                "operationId": f"describe_{c}",
                "tags": tag,
                "parameters": [common["f"]] + ([common["version"]] if versioned else []),
                "responses": ok_json,
            }
        }
        paths[f"/collections/{c}/queryables"] = {
            "get": {
                "summary": f"{title}: queryables",
                "operationId": f"queryables_{c}",
                "tags": tag,
                "parameters": [common["f"]],
                "responses": ok_schema,
            }
        }
        paths[f"/collections/{c}/items"] = {
            "get": {
                "summary": f"{title}: the features",
                "operationId": f"items_{c}",
                "tags": tag,
                "parameters": params,
                "responses": ok_geo,
            }
        }
        fid = _param(
            "featureId",
            "The feature's id (a grid's or unit's code, an incident's number)",
            {"type": "string"},
            where="path",
        )
        one = [fid, common["f"], common["crs"]] + ([common["version"]] if versioned else [])
        paths[f"/collections/{c}/items/{{featureId}}"] = {
            "get": {
                "summary": f"{title}: one feature",
                "operationId": f"item_{c}",
                "tags": tag,
                "parameters": one,
                "responses": ok_geo,
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "geogrid OGC API – Features",
            "version": "1.0",
            "description": "The grid layers of the sub-district. Send Authorization: Bearer <token> "
            "(an API token of your account) for the collections.",
        },
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "tags": [{"name": "Capabilities"}] + [{"name": TITLES[c][0]} for c in features.COLLECTIONS],
    }


__all__ = ["CONFORMANCE", "ROOT", "answers", "bp", "error"]
