"""Errors: JSON with a clear message under /api/, a readable page elsewhere; never a traceback.

geogrid's own errors carry their status (:mod:`geogrid.errors`: bad input 400, not found 404,
conflict 409, failed validation 422).
"""

from __future__ import annotations

import logging

from flask import Response, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from geogrid.errors import GeogridError, ValidationFailed

from .i18n import N_

log = logging.getLogger(__name__)


def json_error(status: int, message: str, **extra):
    """The API's error body: ``{"error": {"status", "message", ...}}``."""
    body = {"error": {"status": status, "message": message, **extra}}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


#: What a page (not the API) says for common statuses, in the interface language.
PAGE_MESSAGES = {
    400: N_("The request could not be understood. Go back and try again."),
    403: N_("Your account may not see this page."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used that way."),
    413: N_("What you sent is too large."),
    429: N_("Too many failed attempts from this address. Wait a few minutes and try again."),
    500: N_("Something went wrong on our side; it has been logged."),
}


def _respond(status: int, message: str, *, page_message: str | None = None, **extra):
    """JSON under /api/, else the error page; a page shows ``page_message``, or the translated
    standard text for the status (the detailed ``message`` is for machines)."""
    if _wants_json():
        return json_error(status, message, **extra)
    text = page_message or (gettext(PAGE_MESSAGES[status]) if status in PAGE_MESSAGES else message)
    return render_template("error.html", status=status, message=text), status


def register(app) -> None:
    @app.errorhandler(GeogridError)
    def geogrid_error(exc: GeogridError):
        extra = {}
        if isinstance(exc, ValidationFailed):
            extra["report"] = exc.report.to_dict()
        return _respond(exc.http_status, exc.message, page_message=exc.message, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _respond(
            400,
            f"CSRF check failed: {exc.description}",
            page_message=gettext("The form has expired. Reload the page and try again."),
        )

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
