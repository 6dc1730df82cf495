"""Responses: JSON (and GeoJSON) bodies, the API's error body, the error page, and the one rule
choosing JSON or a page for a request. A leaf: imports nothing from ``web``."""

from __future__ import annotations

import json
import math

import numpy as np
import orjson
import pandas as pd
from flask import current_app, jsonify, render_template, request


def wants_json() -> bool:
    """Whether this request is answered in JSON (the API and the health check) or with pages."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, message: str, **extra):
    """The API's error body: ``{"error": {"status", "message", ...}}``."""
    body = {"error": {"status": status, "message": message, **extra}}
    return jsonify(body), status


def error_page(status: int, message: str):
    """The error page (``message`` already in the interface language)."""
    return render_template("error.html", status=status, message=message), status


def _default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_response(obj, status: int = 200, mimetype: str = "application/json", headers=None):
    """A JSON response (UTF-8, compact; NaN and infinities become null)."""
    try:
        body = orjson.dumps(obj, default=_default, option=_JSON_OPTIONS)
    except TypeError:
        # an echoed upload holding an integer beyond 64 bits: the standard library keeps it
        # exact (and writes back any NaN the client sent where it sent it)
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_default)
    return current_app.response_class(body, status=status, mimetype=mimetype, headers=headers)


def geojson_response(obj, headers=None):
    return json_response(obj, mimetype="application/geo+json", headers=headers)


def record(rec: dict) -> dict:
    """Attributes as JSON values (pandas' missing values become null)."""
    out = {}
    for k, v in rec.items():
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v)):
            v = None
        out[k] = v
    return out
