"""The gunicorn worker geogrid runs: gunicorn's threaded worker, answering gunicorn's own errors
as JSON.

Some requests never reach the app: gunicorn refuses them while parsing (a request line over
``limit_request_line``: 414; too many or too large headers: 431; a malformed request or chunk:
400) and writes an HTML page of its own. The API promises JSON for every error, so this worker
writes those refusals in the app's error format instead::

    {"error": {"status": 414, "message": "URI Too Long: Request Line is too large (…)"}}

Its subclass :class:`LiveWorker` also holds open event streams without a thread each; ``geogrid
serve`` runs that one (``-k web.gunicorn_worker.LiveWorker``).
"""

from __future__ import annotations

import contextlib
import json
import threading

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


# ---------------------------------------------------------------------- live streams
#: The environ key of the hand-off offered to the app (see :mod:`web.api.events`).
DETACH = "geogrid.live.detach"
#: Headers the worker writes itself for a detached stream (the app's others are kept).
_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
#: A returned connection that the pump now owns (see :meth:`LiveWorker.handle`).
_DETACHED = object()


class _Detached(Exception):
    """Raised out of the app once a stream has been handed to the pump: gunicorn then writes
    nothing more on the request's socket."""


class _Conn:
    __slots__ = ("sock", "sub", "out")

    def __init__(self, sock, sub, first: bytes):
        self.sock = sock
        self.sub = sub
        self.out = bytearray(first)


class StreamPump:
    """One thread per worker process holding every open event stream: sockets in a selector,
    non-blocking sends from a buffer per connection, a keep-alive comment on each every
    ``heartbeat`` seconds, and drops of clients that closed or stopped reading (their buffer
    over ``max_buffer`` bytes); a dropped browser reconnects and resumes from its last id.

    Threads: :meth:`add` (a request thread) and :meth:`wake` (the hub's thread) only put on a
    queue and write a byte to a pipe; every socket and buffer is touched by the pump's thread
    alone."""

    def __init__(self, heartbeat: float | None = None, max_buffer: int | None = None):
        import os
        import queue
        import selectors

        from geogrid.usecases import live

        self.heartbeat = heartbeat or live.HEARTBEAT
        self.max_buffer = max_buffer or live.MAX_BUFFER
        self._sel = selectors.DefaultSelector()
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._conns: dict = {}  # subscription -> _Conn (the pump's thread only)
        self._sel.register(self._r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="geogrid-stream-pump", daemon=True)
        self._thread.start()

    @property
    def open_streams(self) -> int:
        return len(self._conns)

    def add(self, sock, first: bytes, sub) -> None:
        """Take over ``sock`` (a dup of the client's, response headers not written yet, to be
        sent first as part of ``first``) for ``sub``."""
        self._inbox.put((sock, first, sub))
        self._poke()

    def wake(self, sub) -> None:
        """``sub`` has bytes queued (called by the hub's thread)."""
        self._inbox.put((None, None, sub))
        self._poke()

    def _poke(self) -> None:
        import os

        with contextlib.suppress(BlockingIOError):  # the pipe is full: the pump is awake anyway
            os.write(self._w, b"\0")

    def _run(self) -> None:
        import time

        next_beat = time.monotonic() + self.heartbeat
        while True:
            timeout = max(next_beat - time.monotonic(), 0.0)
            for key, mask in self._sel.select(timeout):
                if key.data is None:
                    self._drain_pipe()
                else:
                    self._ready(key.data, mask)
            self._take_inbox()
            if time.monotonic() >= next_beat:
                from geogrid.usecases.live import KEEPALIVE

                for conn in list(self._conns.values()):
                    conn.out += KEEPALIVE
                    self._flush(conn)
                next_beat = time.monotonic() + self.heartbeat

    def _drain_pipe(self) -> None:
        import os

        try:
            while os.read(self._r, 4096):
                pass
        except BlockingIOError:
            pass

    def _take_inbox(self) -> None:
        import queue

        while True:
            try:
                sock, first, sub = self._inbox.get_nowait()
            except queue.Empty:
                return
            if sock is not None:
                conn = _Conn(sock, sub, first)
                self._conns[sub] = conn
                self._register(conn)
                sub.attach(self.wake)  # from now on the hub wakes the pump
            conn = self._conns.get(sub)
            if conn is None:
                continue  # already dropped
            if sub.overflowed:
                self._drop(conn)
                continue
            data = sub.take()
            if data:
                conn.out += data
            self._flush(conn)

    def _register(self, conn, writing: bool = False) -> None:
        import selectors

        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0)
        try:
            self._sel.modify(conn.sock, events, conn)
        except KeyError:
            self._sel.register(conn.sock, events, conn)

    def _ready(self, conn, mask) -> None:
        import selectors

        if mask & selectors.EVENT_READ:
            try:
                data = conn.sock.recv(4096)
            except BlockingIOError:
                data = b"..."
            except OSError:
                data = b""
            if not data:  # the client went away
                self._drop(conn)
                return
        if mask & selectors.EVENT_WRITE:
            self._flush(conn)

    def _flush(self, conn) -> None:
        if conn.sub not in self._conns:
            return
        if len(conn.out) > self.max_buffer:
            self._drop(conn)  # a client that stopped reading
            return
        try:
            while conn.out:
                n = conn.sock.send(conn.out)
                del conn.out[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._drop(conn)
            return
        self._register(conn, writing=bool(conn.out))

    def _drop(self, conn) -> None:
        self._conns.pop(conn.sub, None)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(conn.sock)
        with contextlib.suppress(OSError):
            conn.sock.close()
        conn.sub.close()


class LiveWorker(JSONErrorWorker):
    """:class:`JSONErrorWorker` that holds open event streams without a thread each.

    gthread gives every request one of its ``threads`` until the response ends, so a few open
    pages would starve the worker. This worker offers the app ``environ["geogrid.live.detach"]``
    (plain HTTP/1.x only: not over TLS nor HTTP/2, where the app streams as usual): the events
    view calls it with its subscription after the caller is checked and returns an empty
    ``200 text/event-stream``. The worker then writes the response headers itself (with
    ``Connection: close``: the body lasts as long as the connection), ``dup()``\\s the client's
    socket and gives it to the process's :class:`StreamPump`, and releases the request thread;
    gthread then closes its own descriptor without shutting the connection down (which would
    end the stream on the duplicate too).

    Use it with ``-k web.gunicorn_worker.LiveWorker`` (``geogrid serve`` does).
    """

    def init_process(self):
        self._local = threading.local()
        self.pump = StreamPump()
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = self._offer_detach(self.wsgi)

    def _offer_detach(self, app):
        def wsgi(environ, start_response):
            if self.cfg.is_ssl or environ.get("HTTP_VERSION") == "2":
                return app(environ, start_response)
            asked = []
            environ[DETACH] = asked.append
            answer = {}

            def capture(status, headers, exc_info=None):
                if asked:
                    answer.update(status=status, headers=headers)
                    return lambda data: None
                return start_response(status, headers, exc_info)

            result = app(environ, capture)
            if not asked:
                return result
            sub = asked[0]
            if hasattr(result, "close"):
                result.close()
            if not answer.get("status", "").startswith("200"):  # the app changed its mind
                sub.close()
                start_response(answer["status"], answer["headers"])
                return [b""]
            head = [f"HTTP/1.1 {answer['status']}"]
            head += [f"{k}: {v}" for k, v in answer["headers"] if k.lower() not in _HOP]
            head.append("Connection: close")
            first = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + sub.take()
            dup = environ["gunicorn.socket"].dup()
            dup.setblocking(False)
            self.pump.add(dup, first, sub)
            self._local.detached = True
            self.log.info("%s GET %s: event stream held by the pump", environ.get("REMOTE_ADDR"), environ.get("RAW_URI"))  # fmt: skip
            raise _Detached

        return wsgi

    def handle_request(self, req, conn):
        try:
            return super().handle_request(req, conn)
        except _Detached:
            return False

    def handle(self, conn):
        self._local.detached = False
        result = super().handle(conn)
        if self._local.detached:
            self._local.detached = False
            return _DETACHED
        return result

    def finish_request(self, conn, fs):
        if not fs.cancelled() and fs.exception() is None and fs.result() is _DETACHED:
            self.nr_conns -= 1
            util.close(conn.sock)  # our descriptor only: the pump's duplicate stays open
            return
        super().finish_request(conn, fs)
