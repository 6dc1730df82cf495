"""The HTTP API, ``/api/v1``: locate points, read grids, units and versions (JSON, GeoJSON, CSV).

Every endpoint answers JSON (GeoJSON, RFC 7946, for geometries) and needs an authenticated caller,
``Authorization: Bearer <token>`` or the session of a logged-in user (POSTs from a session send
the CSRF token in ``X-CSRFToken``); ``openapi.json`` is public and ``docs`` is a page for
logged-in users. Errors are ``{"error": {"status", "message"}}`` with a 4xx status.

One blueprint, ``api``, with its views in modules by feature: :mod:`.locating` (one point and
bulk uploads), :mod:`.grids` (grids and versions), :mod:`.units`, :mod:`.docs` (the OpenAPI
document and its page). Search (:mod:`.search`) has a blueprint of its own, ``search``. Each view
parses its parameters with :mod:`web.params`, calls one use case of :mod:`geogrid.usecases` and
writes the answer with :mod:`web.responses`.

The OpenAPI document (:mod:`web.openapi`) is generated from the YAML after ``---`` in each view's
docstring, so the documentation lives next to the code it describes.
"""

from __future__ import annotations

from flask import Blueprint, request

from ..auth import check_api_caller
from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # session POSTs are checked in check_api_caller; token POSTs need no CSRF token

#: Endpoints anyone may read: the OpenAPI document, and the docs page (which sends anonymous
#: visitors to the login page itself).
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return check_api_caller()


# the views, registered on bp in this order (the OpenAPI document lists them so)
from . import (  # noqa: E402, F401
    docs,
    drafts,
    events,
    exchange,
    figures,
    grids,
    incidents,
    locating,
    units,
    versions,
    warnings,
)

__all__ = ["PUBLIC_ENDPOINTS", "bp"]
