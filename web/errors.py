"""Errors: JSON with a clear message under /api/, a readable page elsewhere; never a traceback.

geogrid's own errors carry their status (:mod:`geogrid.errors`: bad input 400, not found 404,
conflict 409, failed validation 422).
"""

from __future__ import annotations

import logging

from flask import Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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
        if exc.code is None:  # a routing redirect or a response carried by an exception
            return exc.get_response()
        message = exc.description or exc.name
        if exc.code == 413 and message == RequestEntityTooLarge.description:
            limit = app.config["MAX_CONTENT_LENGTH"] or 0
            message = f"request body too large (limit {limit // (1024 * 1024)} MB)"
        resp, status = _respond(exc.code, message)
        if not isinstance(resp, Response):
            resp = app.make_response(resp)
        for name, value in exc.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: log it, answer without internals
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(
            500, "internal error: the administrators have been notified through the log"
        )
