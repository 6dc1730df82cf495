"""The dispatcher's map (``/``): grids, units, click-to-locate, coordinates and search.

The map itself is built with folium and embedded in our own page (``map.html``): folium renders
the Leaflet map, the district outline and both levels of grids (simplified for display, shared
edges kept shared, see :func:`geogrid.display.for_display`), an empty marker-cluster layer for
the units, the base layers and the layer control. ``static/map.js`` then loads the units from
the API, answers clicks, coordinates and searches through the API, and swaps the overlays to
GCJ-02 when AMap's tiles are the base layer.

Everything loads from the app: folium's default links to CDNs (Leaflet, jQuery, Bootstrap,
awesome-markers, Font Awesome) are replaced by the copies under ``/vendor/`` (installed by
``npm ci``), and only the Leaflet and marker-cluster files are used. The default base layer is
"none", a plain background: the grids draw without any tile server, which an isolated
government network may not reach.

Data from the database never reaches HTML unescaped: folium's tooltips build HTML from feature
properties, so those properties are HTML-escaped here; ``map.js`` writes with ``textContent``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from urllib.parse import quote

import folium
import folium.plugins
import shapely
from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import escape
from shapely.ops import polylabel

from geogrid import crs as _crs
from geogrid.display import nested_layers
from geogrid.incidents import OPEN, STATES
from geogrid.service import in_background

from .auth import roles_required
from .services import service
from .text import N_, STATE_LABELS

bp = Blueprint("maps", __name__)
log = logging.getLogger(__name__)

#: Display simplification of the embedded grids, metres (a pixel at zoom 16 is about 2 m here).
SIMPLIFY_M = 2.0
#: Decimal places of embedded coordinates (6: about 0.1 m).
DECIMALS = 6
#: Rendered map parts kept per (version, language, settings).
CACHE_SIZE = 8

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
AMAP_TILES = (
    "https://webrd0{s}.is.autonavi.com/appmaptile"
    "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
)
TIANDITU_TILES = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)

#: Where the base maps' tiles come from (the Content-Security-Policy's image sources).
TILE_SOURCES = (
    "https://tile.openstreetmap.org",
    "https://*.is.autonavi.com",
    "https://*.tianditu.gov.cn",
)

#: Unit categories (as the data names them) → English label (translated) and colour.
CATEGORIES = {
    "高校": (N_("University"), "#6a3d9a"),
    "住宅小区": (N_("Residential compound"), "#1f78b4"),
    "商业街区": (N_("Commercial block"), "#e6550d"),
    "中小学幼儿园": (N_("School or kindergarten"), "#31a354"),
    "医疗机构": (N_("Medical institution"), "#d62728"),
    "机关事业单位": (N_("Public institution"), "#3f4d63"),
    "企业": (N_("Company"), "#8c564b"),
    "商铺": (N_("Shop"), "#d4a000"),
    "宾馆酒店": (N_("Hotel"), "#c2185b"),
    "社会组织": (N_("Social organisation"), "#0f9d9a"),
}
OTHER_COLOUR = "#7b8794"

GRID2_STYLE = {
    "color": "#4a6a8a",
    "weight": 1,
    "opacity": 0.75,
    "fillColor": "#9fb3c8",
    "fillOpacity": 0.06,
}
GRID1_STYLE = {"color": "#0f2742", "weight": 2.4, "opacity": 0.9, "fill": False}
OUTLINE_STYLE = {"color": "#b3261e", "weight": 3, "opacity": 0.85, "fill": False}


def _vendor(package: str, filename: str) -> str:
    return url_for("vendor.vendor", package=package, filename=filename)


def _strings() -> dict:
    """Every text map.js shows, in the interface language."""
    return {
        "locating": _("Locating…"),
        "switching": _("Loading the layers for this base map…"),
        "locate_failed": _("Could not locate this point"),
        "network_error": _("The server could not be reached. Try again."),
        "grid2": _("Second-level grid"),
        "grid1": _("First-level grid (community)"),
        "kind": _("Type"),
        "worker": _("Grid worker"),
        "leader": _("Leader"),
        "office": _("Service office"),
        "nearest_units": _("Nearest units"),
        "no_units": _("No units nearby."),
        "confirm_title": _("Near a grid boundary: please confirm"),
        "confirm_text": _(
            "The point is within %(m)s m of another grid. Check the address with the caller."
        ),
        "candidates": _("Other candidate grids"),
        "outside_title": _("Outside the district"),
        "outside_text": _("This point is not in any grid of the district."),
        "nearest_grid": _("Nearest grid"),
        "distance": _("%(m)s m away"),
        "boundary_distance": _("To the boundary"),
        "metres": _("%(m)s m"),
        "match_interior": _("Inside the grid"),
        "match_edge": _("On a grid edge"),
        "match_vertex": _("On a grid corner"),
        "point": _("Point (WGS-84)"),
        "version": _("Boundary version %(n)s"),
        "coord_empty": _("Enter longitude and latitude, e.g. 118.93, 32.11"),
        "coord_format": _("Write two numbers: longitude, then latitude (e.g. 118.93, 32.11)."),
        "coord_swapped": _(
            "Longitude comes first: did you mean %(lon)s, %(lat)s? Please swap the numbers."
        ),
        "coord_range": _("Longitude must be between -180 and 180, latitude between -90 and 90."),
        "search_none": _("Nothing found."),
        "search_failed": _("Search failed"),
        "kinds": {
            "grid1": _("Community"),
            "grid2": _("Grid"),
            "road": _("Road"),
            "unit": _("Unit"),
            "address": _("Address"),
        },
        "unit": _("Unit"),
        "category": _("Category"),
        "address": _("Address"),
        "head": _("Contact"),
        "units_loading": _("Loading units…"),
        "units_failed": _("Units could not be loaded."),
        "units_count": _("%(n)s units"),
        "legend": _("Units"),
        "incidents_legend": _("Open incidents"),
        "incidents_count": _("%(n)s open · %(o)s overdue"),
        "incidents_failed": _("Incidents could not be loaded."),
        "live": _("Live"),
        "live_offline": _("Disconnected, reconnecting…"),
        "incident_overdue": _("Overdue"),
        "incident_due_soon": _("Due soon"),
        "incident_deadline": _("Deadline"),
        "incident_open": _("Open the incident"),
        "new_incident": _("New incident here"),
        "road_units": _("Road with units along it"),
    }


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(fid: str, props: dict, geom) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "properties": props,
        "geometry": shapely.geometry.mapping(geom),
    }


def _label_point(geom) -> tuple[float, float] | None:
    """A point well inside a polygon for a label (pole of inaccessibility, ~1 m); None for an
    empty geometry (a community without grids)."""
    if geom.is_empty:
        return None
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    p = polylabel(geom, tolerance=1e-5)
    return (round(p.x, DECIMALS), round(p.y, DECIMALS))


def _both(points: list[tuple[float, float] | None]) -> dict:
    """Points as [lat, lon] pairs in WGS-84 and in GCJ-02 (for AMap); None stays None."""
    out = {"wgs84": [], "gcj02": []}
    for p in points:
        if p is None:
            out["wgs84"].append(None)
            out["gcj02"].append(None)
            continue
        glon, glat = _crs.from_wgs84(p[0], p[1], "gcj02")
        out["wgs84"].append([round(p[1], DECIMALS), round(p[0], DECIMALS)])
        out["gcj02"].append([round(glat, DECIMALS), round(glon, DECIMALS)])
    return out


def _grid_features(district, g2_geoms, g1_geoms) -> tuple[list[dict], list[dict]]:
    """GeoJSON features of both grid levels as the page embeds them: the code as the feature id,
    and the tooltip's values (code ``c``, name ``n``, community ``p``) HTML-escaped, because
    folium's tooltips insert them as HTML."""
    g1_names = dict(zip(district.grids1["code"], district.grids1["name"], strict=True))
    g2_features = [
        _feature(
            rec["code"],
            {
                "c": str(escape(rec["code"])),
                "n": str(escape(rec["name"] or "")),
                "p": str(escape(g1_names.get(rec["parent"], rec["parent"]) or "")),
            },
            geom,
        )
        for rec, geom in zip(
            district.grids2[["code", "name", "parent"]].to_dict("records"), g2_geoms, strict=True
        )
    ]
    g1_features = [
        _feature(
            rec["code"],
            {"c": str(escape(rec["code"])), "n": str(escape(rec["name"] or ""))},
            geom,
        )
        for rec, geom in zip(
            district.grids1[["code", "name"]].to_dict("records"), g1_geoms, strict=True
        )
    ]
    return g2_features, g1_features


def build_map(district, *, tianditu_key: str = "") -> dict:
    """Render the folium map of ``district``: its header, body and script parts, the JavaScript
    names of its layers, and the label points map.js places."""
    outline, g1_geoms, g2_geoms = nested_layers(district, "wgs84", SIMPLIFY_M, DECIMALS)
    minx, miny, maxx, maxy = shapely.bounds(outline)

    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=False,  # map.js adds a metric-only scale
        prefer_canvas=False,
        zoom_snap=0.25,
        zoom_delta=0.5,
        wheel_px_per_zoom_level=90,
    )
    # instead of folium's CDN links to Leaflet, jQuery, Bootstrap and awesome-markers (instance
    # attributes: folium's add_js_link would change the class-wide lists)
    m.default_js = [("leaflet", _vendor("leaflet", "leaflet.js"))]
    m.default_css = [("leaflet_css", _vendor("leaflet", "leaflet.css"))]
    m.options.update(maxZoom=19, minZoom=10)  # folium passes these to its default tiles only
    # the district in view before any layer is drawn (not animated: drawn once, at this zoom);
    # map.js then moves it beside the layer control, a pan unless that needs a smaller zoom
    fit = folium.map.FitBounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    fit.options["animate"] = False
    m.add_child(fit)

    # base layers: "none" first (the default: no tile server needed), then the tile maps
    bases = {}
    bases["none"] = folium.FeatureGroup(name=_("No base map"), overlay=False, show=True)
    bases["none"].add_to(m)
    bases["osm"] = folium.TileLayer(
        OSM_TILES,
        name=_("OpenStreetMap"),
        attr=OSM_ATTR,
        overlay=False,
        show=False,
        max_zoom=19,
    )
    bases["osm"].add_to(m)
    if tianditu_key:
        tdt = folium.FeatureGroup(name=_("Tianditu"), overlay=False, show=False)
        for layer in ("vec", "cva"):
            folium.TileLayer(
                TIANDITU_TILES.format(layer=layer, key=quote(tianditu_key, safe="")),
                attr=_("&copy; Tianditu"),
                subdomains="01234567",
                max_zoom=18,
                control=False,
            ).add_to(tdt)
        tdt.add_to(m)
        bases["tianditu"] = tdt
    bases["amap"] = folium.TileLayer(
        AMAP_TILES,
        name=_("AMap (GCJ-02)"),
        attr=_("&copy; AMap"),
        subdomains="1234",
        overlay=False,
        show=False,
        max_zoom=18,
    )
    bases["amap"].add_to(m)

    g2_features, g1_features = _grid_features(district, g2_geoms, g1_geoms)
    grid2 = folium.GeoJson(
        _fc(g2_features),
        name=_("Second-level grids"),
        style_function=lambda f: GRID2_STYLE,
        tooltip=folium.GeoJsonTooltip(
            fields=["c", "n", "p"],
            aliases=[str(escape(_("Code"))), str(escape(_("Grid"))), str(escape(_("Community")))],
            sticky=True,
            class_name="grid-tip",
        ),
        smooth_factor=0.5,
    )
    grid2.add_to(m)
    grid1 = folium.GeoJson(
        _fc(g1_features),
        name=_("First-level grids (communities)"),
        style_function=lambda f: GRID1_STYLE,
        tooltip=folium.GeoJsonTooltip(
            fields=["c", "n"],
            aliases=[str(escape(_("Code"))), str(escape(_("Community")))],
            sticky=True,
            class_name="grid-tip",
        ),
        smooth_factor=0.5,
    )
    grid1.add_to(m)
    outline_layer = folium.GeoJson(
        _fc([_feature(district.code or "district", {}, outline)]),
        name=_("District boundary"),
        style_function=lambda f: OUTLINE_STYLE,
        interactive=False,
        smooth_factor=0.5,
    )
    outline_layer.add_to(m)
    units = folium.plugins.MarkerCluster(
        name=_("Units"),
        options={
            "showCoverageOnHover": False,
            "maxClusterRadius": 80,
            "disableClusteringAtZoom": 18,
            "spiderfyOnMaxZoom": False,
            "chunkedLoading": True,
        },
    )
    units.default_js = [("markerclusterjs", _vendor("markercluster", "leaflet.markercluster.js"))]
    units.default_css = [("markerclustercss", _vendor("markercluster", "MarkerCluster.css"))]
    units.add_to(m)
    incidents = folium.plugins.MarkerCluster(
        name=_("Open incidents"),
        options={
            "showCoverageOnHover": False,
            "maxClusterRadius": 50,
            "disableClusteringAtZoom": 17,
            "spiderfyOnMaxZoom": False,
            "chunkedLoading": True,
        },
    )
    incidents.default_js = units.default_js
    incidents.default_css = units.default_css
    incidents.add_to(m)
    control = folium.LayerControl(position="topright", collapsed=False)
    control.add_to(m)

    root = m.get_root()
    root.render()
    names = {
        "map": m.get_name(),
        "grid2": grid2.get_name(),
        "grid1": grid1.get_name(),
        "outline": outline_layer.get_name(),
        "units": units.get_name(),
        "incidents": incidents.get_name(),
        "control": control.get_name(),
        "bases": {k: v.get_name() for k, v in bases.items()},
    }
    return {
        "header": root.header.render(),
        "html": root.html.render(),
        "script": root.script.render(),
        "names": names,
        "labels": {
            "grid1": {
                "codes": list(district.grids1["code"]),
                "names": [str(n or "") for n in district.grids1["name"]],
                **_both([_label_point(g) for g in g1_geoms]),
            },
        },
        "bounds": [[miny, minx], [maxy, maxx]],
    }


def _names_script(names: dict) -> str:
    """``window.geogridLayers``: folium's layer variables by role (folium names are hex
    identifiers; the layer control is declared with ``let``, so it is not on ``window``)."""
    for value in [*names.values(), *names["bases"].values()]:
        if isinstance(value, str) and not value.replace("_", "").isalnum():
            raise ValueError(f"unexpected folium name {value!r}")
    bases = ", ".join(f"{k}: {v}" for k, v in names["bases"].items())
    roles = ", ".join(f"{k}: {v}" for k, v in names.items() if k != "bases")
    return f"window.geogridLayers = {{{roles}, bases: {{{bases}}}}};"


_lock = threading.Lock()


def _warm_search(svc) -> None:
    try:
        svc.search_index()
    except Exception:  # the first search will build it (and report the error) instead
        log.warning("could not build the search index ahead", exc_info=True)


def map_parts() -> tuple[object, dict]:
    """The current version and its rendered map (cached per version, language and settings)."""
    svc = service()
    version, loc = svc.current()
    key = (
        version.id,
        str(get_locale()),
        current_app.config.get("TIANDITU_KEY") or "",
        request.script_root,
    )
    cache = current_app.extensions.setdefault("geogrid.map_parts", OrderedDict())
    with _lock:
        parts = cache.get(key)
        if parts is not None:
            cache.move_to_end(key)
            return version, parts
    # a new version (or language): have the search index ready before the dispatcher types
    in_background(_warm_search, svc, name="geogrid-search")
    parts = build_map(loc.district, tianditu_key=key[2])
    parts["names_script"] = _names_script(parts["names"])
    with _lock:
        cache[key] = parts
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return version, parts


@bp.get("/")
@roles_required()
def index():
    """The dispatcher's map."""
    version, parts = map_parts()
    config = {
        "names": parts["names"],
        "labels": parts["labels"],
        "bounds": parts["bounds"],
        "version": version.number,
        "simplify": SIMPLIFY_M,
        "api": {
            "locate": url_for("api.locate"),
            "grids": url_for("api.grids"),
            "grid": url_for("api.grid", code="CODE"),
            "units": url_for("api.units"),
            "search": url_for("search.search"),
            "incidents": url_for("api.incidents"),
            "events": url_for("api.events"),
        },
        "pages": {
            "incident": request.script_root + "/incidents/",
            "new_incident": request.script_root + "/incidents/new",
        },
        "may_report": g.actor.may("report_incident"),
        "open_states": [s for s in STATES if s in OPEN],
        "states": {
            state: {"label": _(label), "colour": colour}
            for state, (label, colour) in STATE_LABELS.items()
        },
        "categories": {
            cat: {"label": _(label), "colour": colour}
            for cat, (label, colour) in CATEGORIES.items()
        },
        "other_colour": OTHER_COLOUR,
        "styles": {"grid2": GRID2_STYLE, "grid1": GRID1_STYLE, "outline": OUTLINE_STYLE},
        "strings": _strings(),
        "lang": str(get_locale()),
    }
    html = render_template("map.html", parts=parts, config=config, version=version)
    return _page(html)


def _page(html: str):
    """The page (never cached: web/security.py; it carries the user's session and CSRF
    token)."""
    resp = current_app.response_class(html, mimetype="text/html")
    resp.vary.add("Cookie")
    return resp
