"""Live push: the incidents' event log (:mod:`geogrid.db.feed`) delivered to open pages as
Server-Sent Events, each caller seeing only their scope.

One :class:`Hub` per process and database, with one background thread: on PostgreSQL it
``LISTEN``\\s on a connection of its own (the writers ``NOTIFY`` at commit, from any process or
machine) and re-reads on a slow timer as a safety net; on SQLite it polls the last event id every
:data:`SQLITE_POLL` seconds. Either way it reads the new rows once and offers them to every
:class:`Subscription`, which keeps those in its caller's scope as ready-to-send bytes.

Resuming: a client gives the last id it saw (``Last-Event-ID``); :func:`open_stream` replays what
came after it from the database, or answers ``event: reset`` (the client reloads its list) when
that id is unknown, ahead of the feed, or more than :data:`MAX_REPLAY` events behind.

Threads: a subscription's queue is touched under its own lock by the hub's thread (offering
rows) and by whoever sends its bytes (the request's generator, or the gunicorn worker's stream
pump); the hub's set of subscriptions is guarded by the hub's lock; nothing else is shared.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from ..access import OFFICE, Actor
from ..db import feed

log = logging.getLogger(__name__)

#: Seconds between the keep-alive comments on an idle stream (proxies close silent ones).
HEARTBEAT = 15.0
#: Seconds between two looks at the last event id on SQLite.
SQLITE_POLL = 0.25
#: Seconds between two reads on PostgreSQL when no notification came (the safety net).
PG_SAFETY = 5.0
#: At most this many missed events are replayed on a resume; beyond, ``reset``.
MAX_REPLAY = 500
#: A subscription whose unsent bytes exceed this (a client that stopped reading) is dropped;
#: the browser reconnects and resumes from its last id.
MAX_BUFFER = 1 << 20
#: Rows read per query by the hub.
BATCH = 1000
#: How long a hub's thread lives on without any subscription.
IDLE_EXIT = 30.0
#: Sent first: the browser reconnects this many milliseconds after a drop.
RETRY = b"retry: 1500\n\n"
KEEPALIVE = b": keep-alive\n\n"


def event_data(row: dict) -> dict:
    """What a client gets of an event (no reporter, no contact, no note)."""
    at = row["at"]
    return {
        "id": row["id"],
        "incident_id": row["incident_id"],
        "action": row["action"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "grid_code": row["grid_code"],
        "worker": row["worker"],
        "at": at.isoformat() if hasattr(at, "isoformat") else at,
        "actor": row["actor"],
    }


def frame(row: dict) -> bytes:
    data = json.dumps(event_data(row), ensure_ascii=False, separators=(",", ":"))
    return f"id: {row['id']}\nevent: incident\ndata: {data}\n\n".encode()


def reset_frame(last: int) -> bytes:
    return f'id: {last}\nevent: reset\ndata: {{"last": {last}}}\n\n'.encode()


class Subscription:
    """One open stream: its caller's scope, the last id it holds, and the bytes not sent yet."""

    def __init__(self, hub: Hub, grids: frozenset[str] | None, office: str | None, last: int):
        self.hub = hub
        self.grids = grids
        self.office = office
        self.last = last
        self.overflowed = False
        self.closed = False
        self._lock = threading.Lock()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._ready = False  # until the replay is queued, the hub's rows wait in _held
        self._held: list[dict] = []
        self._event = threading.Event()
        self._wake: Callable[[Subscription], None] | None = None

    def matches(self, row: dict) -> bool:
        if self.grids is not None and row["grid_code"] not in self.grids:
            return False
        return self.office is None or row["office"] == self.office

    def _queue(self, rows) -> bool:  # under the lock
        added = False
        for r in rows:
            if r["id"] > self.last and self.matches(r):
                b = frame(r)
                self._chunks.append(b)
                self._size += len(b)
                self.last = r["id"]
                added = True
        if self._size > MAX_BUFFER:
            self.overflowed = True
        return added

    def offer(self, rows: list[dict]) -> None:
        """New rows of the district, oldest first (the hub's thread)."""
        with self._lock:
            if not self._ready:
                self._held.extend(rows)
                if len(self._held) > 10 * BATCH:
                    self.overflowed = True
                    self._held.clear()
                return
            added = self._queue(rows)
        if added or self.overflowed:
            self._notify()

    def start(self, first: bytes, rows: list[dict], last: int) -> None:
        """Queue ``first``, the replayed ``rows`` and then what the hub offered meanwhile."""
        with self._lock:
            self.last = last
            self._chunks.append(first)
            self._size += len(first)
            self._queue(rows)
            self._queue(self._held)
            self._held = []
            self._ready = True
        self._notify()

    def _notify(self) -> None:
        wake = self._wake
        if wake is not None:
            wake(self)
        else:
            self._event.set()

    def attach(self, wake: Callable[[Subscription], None]) -> None:
        """Have ``wake(self)`` called (from the hub's thread) whenever bytes are queued, instead
        of waking :meth:`wait` (the stream pump)."""
        self._wake = wake
        wake(self)

    def take(self) -> bytes:
        """The bytes queued so far (and forget them)."""
        with self._lock:
            data = b"".join(self._chunks)
            self._chunks.clear()
            self._size = 0
        return data

    def wait(self, timeout: float) -> bytes:
        """The bytes queued, waiting up to ``timeout`` seconds for some."""
        self._event.wait(timeout)
        self._event.clear()
        return self.take()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub.remove(self)


class Hub:
    """The process's reader of one district's feed (see the module's text)."""

    def __init__(self, store, district_code: str):
        self.store = store
        self.district_code = district_code
        self.pid = os.getpid()
        self.last = store.feed_last(district_code)
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.reads = 0  # how many times the feed was read (for the benchmark)

    def add(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.add(sub)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"geogrid-live-{self.district_code}", daemon=True
                )
                self._thread.start()

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscriptions(self) -> int:
        with self._lock:
            return len(self._subs)

    def read(self) -> int:
        """Read the rows after the last one seen and offer them (the hub's thread)."""
        n = 0
        while True:
            rows = self.store.feed_after(self.district_code, self.last, limit=BATCH)
            self.reads += 1
            if not rows:
                return n
            self.last = rows[-1]["id"]
            with self._lock:
                subs = list(self._subs)
            for s in subs:
                s.offer(rows)
            n += len(rows)
            if len(rows) < BATCH:
                return n

    def _idle(self, since: float) -> bool:
        """Whether the thread may end (no subscription for a while); decided under the lock so
        that :meth:`add` starts a new thread if this one ends."""
        with self._lock:
            if self._subs:
                return False
            if time.monotonic() - since > IDLE_EXIT:
                self._thread = None
                return True
        return False

    def _run(self) -> None:
        try:
            if self.store.dialect == "postgresql":
                self._listen()
            else:
                self._poll()
        except Exception:  # never let the thread die silently: the next add() restarts it
            log.exception("live feed reader stopped")
            with self._lock:
                self._thread = None

    def _poll(self) -> None:
        quiet = time.monotonic()
        while not self._idle(quiet):
            try:
                if self.store.feed_last(self.district_code) > self.last:
                    self.read()
            except Exception as exc:
                log.warning("live feed: reading failed (%s), retrying", exc)
                time.sleep(1.0)
            if self.subscriptions:
                quiet = time.monotonic()
            time.sleep(SQLITE_POLL)

    def _listen(self) -> None:
        import psycopg

        url = self.store.engine.url.set(drivername="postgresql")
        quiet = time.monotonic()
        while not self._idle(quiet):
            try:
                with psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True
                ) as conn:
                    conn.execute(f"LISTEN {feed.CHANNEL}")
                    self.read()  # whatever came while not listening
                    while not self._idle(quiet):
                        # any notification (or none for PG_SAFETY seconds): read
                        for _ in conn.notifies(timeout=PG_SAFETY, stop_after=1):
                            pass
                        self.read()
                        if self.subscriptions:
                            quiet = time.monotonic()
            except Exception as exc:
                log.warning("live feed: listening failed (%s), reconnecting", exc)
                time.sleep(1.0)


_hubs_lock = threading.Lock()


def hub_of(svc) -> Hub:
    """The process's hub for the service's store and district (made on first use, in the
    process that uses it: a forked worker makes its own)."""
    store = svc.store
    with _hubs_lock:
        hub = getattr(store, "_geogrid_live_hub", None)
        if hub is None or hub.pid != os.getpid() or hub.district_code != svc.district_code:
            hub = Hub(store, svc.district_code)
            store._geogrid_live_hub = hub
    return hub


def open_stream(svc, actor: Actor, last_id: int | None) -> Subscription:
    """A subscription to the caller's live events after ``last_id`` (None: from now on), its
    first bytes queued: the reconnect delay, then the missed events or a ``reset``.

    Scope (access rule ``live_events``): a grid worker gets their grid(s)' events, a service
    office user those of incidents escalated to their office, every other role the district's."""
    actor.require("live_events")
    grids = actor.scope
    office = (actor.office or "") if actor.role == OFFICE else None
    store, district = svc.store, svc.district_code
    hub = hub_of(svc)
    sub = Subscription(hub, grids, office, last_id or 0)
    hub.add(sub)  # first, so that nothing committed during the replay is missed
    try:
        latest = store.feed_last(district)
        first, rows = RETRY, []
        if last_id is None:
            last = latest
        elif last_id > latest or (last_id > 0 and not store.feed_has(district, last_id)):
            first, last = RETRY + reset_frame(latest), latest
        else:
            rows = store.feed_after(
                district, last_id, grids=grids, office=office, limit=MAX_REPLAY + 1
            )
            last = last_id
            if len(rows) > MAX_REPLAY:
                first, rows, last = RETRY + reset_frame(latest), [], latest
        sub.start(first, rows, last)
    except BaseException:
        sub.close()
        raise
    return sub


def frames(sub: Subscription) -> Iterator[bytes]:
    """The stream's bytes, for a server that gives each stream a thread (the development
    server, the test client): waits on the subscription, a keep-alive comment when idle
    (every :data:`HEARTBEAT` seconds)."""
    try:
        while not sub.overflowed:
            yield sub.wait(HEARTBEAT) or KEEPALIVE
    finally:
        sub.close()


__all__ = [
    "HEARTBEAT",
    "MAX_REPLAY",
    "Hub",
    "Subscription",
    "event_data",
    "frames",
    "hub_of",
    "open_stream",
]
