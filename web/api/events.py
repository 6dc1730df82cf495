"""Live incident events, ``GET /api/v1/events``: Server-Sent Events over
:mod:`geogrid.usecases.live` (where the role and scope are checked).

Served by ``geogrid serve``'s worker (:mod:`web.gunicorn_worker`), the open stream does not keep
a request thread: the worker offers ``environ["geogrid.live.detach"]`` and this view hands the
subscription to it once the caller is checked. Elsewhere (the development server, the test
client) the response streams from a generator, one thread per stream.
"""

from __future__ import annotations

from flask import Response, g, request

from geogrid.errors import InputError
from geogrid.usecases import live

from .. import params
from ..services import service
from . import bp

#: The environ key of the worker's hand-off (see :mod:`web.gunicorn_worker`).
DETACH = "geogrid.live.detach"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _last_id() -> int | None:
    """The id to resume after: the browser's ``Last-Event-ID`` header, else ``?after=``."""
    header = request.headers.get("Last-Event-ID", "").strip()
    if header:
        if not (header.isascii() and header.isdigit()) or len(header) > 12:
            raise InputError(f"Last-Event-ID must be an event id, got {header[:40]!r}")
        return int(header)
    return params.integer("after", None, 0, 2**53)


@bp.get("/events")
def events():
    """Live incident events (Server-Sent Events).
    ---
    get:
      tags: [incidents]
      summary: Stream incident events as they happen
      description: |
        A `text/event-stream` of the events of the incidents the caller may see (a grid worker:
        their grid's; a service office user: those escalated to their office; other roles: the
        district's). Each is `id: <event id>`, `event: incident`, `data:` a JSON object with
        `id`, `incident_id`, `action`, `from_state`, `to_state`, `grid_code`, `worker`, `at`,
        `actor`. To resume, send the last id seen as the `Last-Event-ID` header (browsers do)
        or `after`; if that id is unknown, ahead, or too far behind, the stream sends
        `event: reset` (reload the list) and goes on from the latest event. A comment line
        every 15 s keeps idle connections open.
      parameters:
        - {name: after, in: query, description: "Resume after this event id (0: from the first)", schema: {type: integer, minimum: 0}}
        - {name: Last-Event-ID, in: header, description: "Resume after this event id (wins over after)", schema: {type: integer}}
      responses:
        200:
          description: The event stream
          content:
            text/event-stream:
              schema:
                type: object
                description: "One event of the stream: `data` is the JSON described above (for `reset`, the latest id as `last`)"
                required: [data]
                properties:
                  id: {type: string}
                  event: {type: string, enum: [incident, reset]}
                  data: {type: string}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
    """
    sub = live.open_stream(service(), g.actor, _last_id())
    detach = request.environ.get(DETACH)
    if detach is not None:
        detach(sub)
        return Response(b"", mimetype="text/event-stream", headers=HEADERS)
    resp = Response(live.frames(sub), mimetype="text/event-stream", headers=HEADERS)
    resp.call_on_close(sub.close)  # also when the stream is closed before its first byte
    return resp
