"""Errors: JSON with a clear message under /api/, a readable page elsewhere; never a traceback.

geogrid's own errors carry their status (:mod:`geogrid.errors`: bad input 400, not found 404,
conflict 409, failed validation 422).
"""

from __future__ import annotations

import logging

from flask import Response, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from geogrid.errors import Forbidden, GeogridError, ValidationFailed

from . import ogc, open311
from .responses import error_page, json_error, wants_json
from .text import standard_page_text

log = logging.getLogger(__name__)


def respond(status: int, message: str, *, page_message: str | None = None, **extra):
    """JSON for the API (:func:`web.responses.wants_json`), else the error page; a page shows
    ``page_message``, or the translated standard text for the status (the detailed ``message``
    is for machines); under Open311's root, the spec's error list."""
    if open311.answers(request.path):
        return open311.error(status, message)
    if ogc.answers(request.path):
        return ogc.error(status, message)
    if wants_json():
        return json_error(status, message, **extra)
    return error_page(status, page_message or standard_page_text(status, message))


def register(app) -> None:
    @app.errorhandler(GeogridError)
    def geogrid_error(exc: GeogridError):
        extra = {}
        if isinstance(exc, ValidationFailed):
            extra["report"] = exc.report.to_dict()
        # a refusal's page says so in the interface language; other errors' messages are the
        # user's to read as they are
        shown = None if isinstance(exc, Forbidden) else exc.message
        return respond(exc.http_status, exc.message, page_message=shown, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return respond(
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
        resp, status = respond(exc.code, message)
        if not isinstance(resp, Response):
            resp = app.make_response(resp)
        for name, value in exc.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: log it, answer without internals
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(500, "internal error: the administrators have been notified through the log")
