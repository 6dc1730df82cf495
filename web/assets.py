"""Front-end libraries (Leaflet and its plugins, Leaflet-Geoman, Apache ECharts, Swagger UI) served by the app itself.

They are installed from the npm registry at set-up time (``npm ci``, pinned in
``package-lock.json``) into ``node_modules/``; nothing is loaded from a CDN, since government
networks are often isolated. Only the files below are served.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app

from .compress import send_file_gzipped

bp = Blueprint("vendor", __name__)

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
#: URL prefix under /vendor/ → directory inside node_modules.
PACKAGES = {
    "leaflet": "leaflet/dist",
    "markercluster": "leaflet.markercluster/dist",
    "swagger-ui": "swagger-ui-dist",
    "geoman": "@geoman-io/leaflet-geoman-free/dist",
    "echarts": "echarts/dist",
}


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    sub = PACKAGES.get(package)
    if sub is None:
        abort(404)
    root = NODE_MODULES / sub
    if not root.is_dir():  # pragma: no cover - a set-up error, reported clearly
        abort(503, f"front-end libraries missing: run `npm ci` (looked in {root})")
    return send_file_gzipped(root, filename, max_age=7 * 24 * 3600)


def static_file(filename: str):
    """The app's own ``/static/`` files, gzipped like the libraries (replaces Flask's view)."""
    return send_file_gzipped(current_app.static_folder, filename)
