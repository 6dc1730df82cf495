"""The gunicorn worker geogrid runs: gunicorn's threaded worker, answering gunicorn's own errors
as JSON.

Some requests never reach the app: gunicorn refuses them while parsing (a request line over
``limit_request_line``: 414; too many or too large headers: 431; a malformed request or chunk:
400) and writes an HTML page of its own. The API promises JSON for every error, so this worker
writes those refusals in the app's error format instead::

    {"error": {"status": 414, "message": "URI Too Long: Request Line is too large (…)"}}

Use it with ``-k web.gunicorn_worker.JSONErrorWorker`` (``geogrid serve`` does).
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, with the API's JSON error body."""
    message = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"error": {"status": status_int, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JSONErrorWorker(ThreadWorker):
    """``gthread`` with gunicorn's own error responses in JSON."""

    def init_process(self):
        # In the worker process only (after the fork): gunicorn's workers call util.write_error.
        util.write_error = write_json_error
        super().init_process()
