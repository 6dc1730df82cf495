"""Reading a request's body within ``MAX_CONTENT_LENGTH``, with or without ``Content-Length``.

A body with a ``Content-Length`` over the limit is refused (413) by werkzeug before it is read.
A chunked one (``Transfer-Encoding: chunked``, no ``Content-Length``) is read through werkzeug's
limited stream, which stops at the limit *without an error* when the server sets
``wsgi.input_terminated`` (gunicorn does): ``request.get_data()`` then returns the first
``MAX_CONTENT_LENGTH`` bytes as if they were all, and a bulk upload was answered 200 with part of
its rows. :func:`request_body` checks for more after the limit and answers 413 instead. A leaf:
imports nothing from ``web``.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge


def request_body() -> bytes:
    """The whole body of the request (not kept for a second read), or 413 when it is larger
    than ``MAX_CONTENT_LENGTH``."""
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit:
        # werkzeug stopped at the limit: anything left in the server's stream is too much
        raw = request.environ.get("wsgi.input")
        if raw is not None and raw.read(1):
            raise RequestEntityTooLarge()
    return data
