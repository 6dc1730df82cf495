"""gzip for the app's text responses (JSON, GeoJSON, HTML, CSV) when the client accepts it.

The map's data calls shrink about eight times (the sample's units: 649 KB → about 85 KB). A
reverse proxy may compress instead; a response that already has a ``Content-Encoding`` is left
alone.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, request

bp = Blueprint("compress", __name__)

TYPES = {
    "application/json",
    "application/geo+json",
    "text/html",
    "text/csv",
    "text/css",
    "application/javascript",
    "text/javascript",
}
MIN_BYTES = 1400  # one packet: not worth it below


@bp.after_app_request
def compress(response):
    if (
        response.status_code < 200
        or response.status_code in (204, 304)
        or response.direct_passthrough  # files sent from disk (static, vendor): streamed as they are
        or response.mimetype not in TYPES
        or "Content-Encoding" in response.headers
        or "gzip" not in request.accept_encodings
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
