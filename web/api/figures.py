"""The incident figures (:mod:`geogrid.usecases.figures`): counts and rates per grid, community,
worker, office, category or month, as JSON, CSV or Excel."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, g, request
from flask_babel import get_locale

from geogrid.errors import InputError
from geogrid.incidents import figures as F
from geogrid.usecases import figures as uc

from .. import params
from ..openapi import register_schema
from ..responses import json_response
from ..services import service
from . import bp

_PARAMS = {"by", "from", "to", "period", "category", "grid", "format", "lang"}

_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_HOURS = {"type": ["number", "null"]}
_FIGURES = {
    "type": "object",
    "description": "The figures of a group, a month or the total (rates as shares 0..1, null with nothing to divide by)",
    "properties": {
        **{k: {"type": "integer"} for k in ("count", "counted", "closed", "resolved", "on_time", "visits", "visits_passed", "recurrent", "rated", "satisfied", "handled")},
        **{k: _RATE for k in ("closure_rate", "on_time_rate", "revisit_pass_rate", "recurrence_rate", "satisfaction_rate")},
        "handling_mean_h": _HOURS,
        "handling_p90_h": _HOURS,
    },
}  # fmt: skip
register_schema(
    "Figures",
    {
        "type": "object",
        "required": ["by", "from", "to", "total", "groups", "months"],
        "properties": {
            "by": {"type": "string", "enum": list(F.GROUPINGS)},
            "from": {"type": "string", "example": "2026-01"},
            "to": {"type": "string", "example": "2026-12"},
            "category": {"type": ["string", "null"]},
            "grid": {"type": ["string", "null"]},
            "scope": {"type": "object", "description": "A grid worker's grids or an office user's office; empty: the whole district"},
            "total": _FIGURES,
            "groups": {"type": "array", "items": {"allOf": [_FIGURES, {"type": "object", "properties": {"key": {"type": ["string", "null"]}, "name": {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}}}]}},
            "months": {"type": "array", "items": {"allOf": [_FIGURES, {"type": "object", "properties": {"month": {"type": "string"}}}]}},
            "definitions": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "zh": {"type": "string"}, "en": {"type": "string"}}}},
        },
    },
)  # fmt: skip


def figure_args() -> dict:
    """The use case's arguments from the query string (400 for a parameter it does not know)."""
    unknown = sorted(set(request.args) - _PARAMS)
    if unknown:
        raise InputError(
            f"unknown parameter {unknown[0][:40]!r} (known: {', '.join(sorted(_PARAMS))})"
        )
    period = params.text("period")
    if period not in (None, "all"):
        raise InputError(f"period: 'all' (the whole history) or none, got {period[:40]!r}")
    return {
        "by": params.text("by") or "grid",
        "first": params.text("from"),
        "last": params.text("to"),
        "category": params.text("category"),
        "grid": params.text("grid"),
        "whole": period == "all",
    }


def definitions() -> list[dict]:
    return [{"key": k, "zh": zh, "en": en} for k, zh, en in F.DEFINITIONS]


@bp.get("/figures")
def figures():
    """Incident figures per group and month.
    ---
    get:
      tags: [incidents]
      summary: Incident figures (counts, closure and on-time rates, visits, satisfaction, handling time)
      description: |
        The incidents reported in a period of months (Beijing time), grouped by grid, community,
        worker, office, category or month: counts, 结案率, 按期结案率, return-visit pass rate,
        recurrence rate, 满意率, mean and 90th percentile (nearest rank) handling time in calendar
        hours, with the figures of every month (for trend charts) and the total. Cancelled and
        merged incidents are counted but left out of every rate. A grid worker sees their own
        grid's incidents, a service office user those escalated to their office.
        `format=csv` (UTF-8 with a byte-order mark) or `xlsx` answers the groups as a file.
      parameters:
        - {name: by, in: query, schema: {type: string, enum: [grid, community, worker, office, category, month], default: grid}}
        - {name: from, in: query, description: "First month (YYYY-MM); default: 11 months before `to`", schema: {type: string, pattern: "^[0-9]{4}-[0-9]{2}$"}, example: "2026-01"}
        - {name: to, in: query, description: "Last month (YYYY-MM); default: this month", schema: {type: string, pattern: "^[0-9]{4}-[0-9]{2}$"}, example: "2026-12"}
        - {name: period, in: query, description: "`all`: from the first incident's month to this one", schema: {type: string, enum: [all]}}
        - {name: category, in: query, description: "A category's 4-digit code or its class's 2 digits", schema: {type: string, pattern: "^([0-9]{2}|[0-9]{4})$"}}
        - {name: grid, in: query, description: "Only this second-level grid's incidents (a grid worker: their own)", schema: {type: string}}
        - {name: format, in: query, schema: {type: string, enum: [json, csv, xlsx], default: json}}
        - {name: lang, in: query, description: "A file's headers and names in zh or en (default: the interface language)", schema: {type: string, enum: [zh, en]}}
      responses:
        200:
          description: The figures
          content:
            application/json:
              schema: Figures
            text/csv: {schema: {type: string}}
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {schema: {type: string, format: binary}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    args = figure_args()
    fmt = params.text("format") or "json"
    if fmt not in uc.FORMATS:
        raise InputError(f"format: json, csv or xlsx, got {fmt[:40]!r}")
    lang = params.text("lang") or str(get_locale() or "zh")
    if lang not in ("zh", "en"):
        raise InputError(f"lang: zh or en, got {lang[:40]!r}")
    if fmt == "json":
        report = uc.figures(service(), g.actor, **args)
        return json_response({**report, "definitions": definitions()})
    data, mimetype, name = uc.export(service(), g.actor, fmt, lang=lang, **args)
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return current_app.response_class(
        data, mimetype=mimetype, headers={"Content-Disposition": disposition}
    )
