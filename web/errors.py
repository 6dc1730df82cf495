"""Errors: JSON with a clear message under /api/, a readable page elsewhere; never a traceback.

geogrid's own errors carry their status (:mod:`geogrid.errors`: bad input 400, not found 404,
conflict 409, failed validation 422).
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from geogrid.errors import GeogridError, ValidationFailed

log = logging.getLogger(__name__)


def json_error(status: int, message: str, **extra):
    """The API's error body: ``{"error": {"status", "message", ...}}``."""
    body = {"error": {"status": status, "message": message, **extra}}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _respond(status: int, message: str, **extra):
    if _wants_json():
        return json_error(status, message, **extra)
    return render_template("error.html", status=status, message=message), status


def register(app) -> None:
    @app.errorhandler(GeogridError)
    def geogrid_error(exc: GeogridError):
        extra = {}
        if isinstance(exc, ValidationFailed):
            extra["report"] = exc.report.to_dict()
        return _respond(exc.http_status, exc.message, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _respond(400, f"CSRF check failed: {exc.description}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description or exc.name
        if exc.code == 413:
            message = f"request body too large (limit {app.config['MAX_CONTENT_LENGTH'] // (1024 * 1024)} MB)"
        return _respond(exc.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: log it, answer without internals
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(
            500, "internal error: the administrators have been notified through the log"
        )
