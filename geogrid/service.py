"""The service: the data layer plus always-current locators, as every process needs them.

One :class:`Service` per process and district. It answers from the current boundary version and
the duty roster as they are in the database; when another process publishes a version or changes
the roster, this one switches without a restart. It polls one small row (``store.state()``): with
``watch=True`` (the web service) a background thread does it every ``check_interval`` seconds and
builds the new version's locator ahead of any request, while requests keep being answered from
the previous one; without it, the first request after ``check_interval`` checks. A locator is
built once per version (under a second for the sample district) and shared by all threads; a
roster change only swaps the people the answers carry.

>>> from geogrid.db import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> svc = Service.bootstrap(store)      # seeds the bundled sample district as version 1
>>> svc.locate(118.93, 32.11).grid2.code
'320113005007007'
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
import weakref
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from .db import Store, VersionInfo
from .errors import NotFound
from .incidents.policy import Policy
from .locate import Located, Location, Locator
from .model import District, default_data_dir
from .search import Hit, SearchIndex

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.25
#: Locators of past versions kept in memory for "as of" lookups.
KEEP_VERSIONS = 4
#: "As of" locators kept, one per (version, people on duty): most lookups of a day share one.
KEEP_ROSTERS = 16
#: Guards building a search index (one at a time per process).
_SEARCH_LOCK = threading.Lock()
#: Set when the process exits: background work stops at its next checkpoint.
EXITING = threading.Event()
_BACKGROUND: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def in_background(target, *args, name: str) -> threading.Thread:
    """Run ``target(*args)`` in a daemon thread that the process waits for when it exits.

    A daemon thread still inside NumPy, shapely or GEOS while the interpreter shuts down can
    crash it (a segmentation fault after a command has done its work). At exit :data:`EXITING`
    is set, so loops can stop early, and these threads are joined first.
    """
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    _BACKGROUND.add(thread)
    thread.start()
    return thread


@atexit.register
def _join_background(patience: float = 10.0) -> None:
    EXITING.set()
    deadline = time.monotonic() + patience  # a thread stuck in a database call: give up
    for thread in list(_BACKGROUND):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


class Service:
    """Locate, report and look things up against the database's current state."""

    def __init__(
        self,
        store: Store,
        district_code: str | None = None,
        *,
        check_interval: float = CHECK_INTERVAL,
        watch: bool = False,
        policy: Policy | None = None,
    ):
        self.store = store
        #: The incident workflow's settings (return visits, due soon, duplicates, photos).
        self.policy = policy or Policy.from_settings()
        if district_code is None:
            known = store.districts()
            if len(known) != 1:
                raise NotFound(
                    "no district in the database: run `geogrid init-db`"
                    if not known
                    else f"several districts in the database ({', '.join(d['code'] for d in known)}): choose one"
                )
            district_code = known[0]["code"]
        self.district_code = district_code
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._state: tuple[int | None, int] | None = None
        self._current: tuple[VersionInfo, Locator] | None = None
        self._by_version: OrderedDict[int, Locator] = OrderedDict()
        self._by_roster: OrderedDict[tuple, Locator] = OrderedDict()
        self._watch = watch
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def bootstrap(cls, store: Store, data_dir: str | Path | None = None, **kw) -> Service:
        """Upgrade the schema and, on an empty database, seed it with the district in
        ``data_dir`` (default: the bundled sample) as its first published version."""
        store.upgrade()
        known = store.districts()
        # also when a first import was interrupted (a draft, nothing published): seed again
        if all(d["current_version_id"] is None for d in known):
            seed(store, District.load(data_dir or default_data_dir()))
        return cls(store, **kw)

    # ------------------------------------------------------------------ locators
    def current(self) -> tuple[VersionInfo, Locator]:
        """The current version and its locator, refreshed if the database changed."""
        if self._current is not None:
            if self._watch:
                self._start_watcher()
                return self._current
            if time.monotonic() - self._checked < self.check_interval:
                return self._current
        with self._lock:
            if self._current is None or time.monotonic() - self._checked >= self.check_interval:
                self._refresh()
            return self._current

    def refresh(self) -> tuple[VersionInfo, Locator]:
        """:meth:`current` checked against the database now (after this process published)."""
        with self._lock:
            self._refresh()
            return self._current

    def _refresh(self) -> None:
        """Check the database's state; on a change, switch (call with the lock held)."""
        state = self.store.state(self.district_code)
        if state != self._state or self._current is None:
            vid = state[0]
            if vid is None:
                raise NotFound(f"district {self.district_code} has no published version")
            base = self._by_version.get(vid)
            if base is None:
                # answer at once; the distance lists fill in behind (a block at a time on demand)
                district = self.store.load_district(vid)  # with the roster as it is now
                loc = self._remember(vid, Locator(district).prepare(lists=False))
                self._fill_later(loc)
            else:  # a roster change (or a version seen before): only the people are read
                loc = base.with_people(self.store.with_roster(base.district))
            self._current = (self.store.version(vid), loc)
            self._state = state
        self._checked = time.monotonic()

    def _fill_later(self, locator: Locator) -> None:
        """Build all of a new locator's distance lists in the background."""
        in_background(functools.partial(locator.prepare, stop=EXITING), name="geogrid-prepare")

    def _remember(self, version_id: int, locator: Locator) -> Locator:
        self._by_version[version_id] = locator
        self._by_version.move_to_end(version_id)
        while len(self._by_version) > KEEP_VERSIONS:
            self._by_version.popitem(last=False)
        return locator

    def _start_watcher(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            with self._lock:
                if self._watcher is None or not self._watcher.is_alive():
                    self._stop.clear()
                    self._watcher = in_background(self._watch_loop, name="geogrid-watch")

    def _watch_loop(self) -> None:
        failures = 0
        while not self._stop.wait(self.check_interval) and not EXITING.is_set():
            try:
                with self._lock:
                    self._refresh()
                failures = 0
            except Exception:  # the database away for a moment: keep serving, retry
                failures += 1
                if failures == 1:
                    log.warning("cannot check the database for changes", exc_info=True)
                if failures >= 600:  # a minute at 0.1 s: give up; requests check again
                    return

    def close(self) -> None:
        """Stop the background watcher (if any)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def locator_at(self, when: datetime) -> tuple[VersionInfo, Locator]:
        """The version current at ``when`` and a locator answering with who was on duty then.

        Locators are kept per version and per set of people on duty (the roster rows and what
        they say), so a lookup whose answer is already in memory costs two small queries."""
        v = self.store.version_at(self.district_code, when)
        if v is None:
            raise NotFound(
                f"district {self.district_code} had no published version at {when.isoformat()}"
            )
        duties = self.store.duties_at(self.district_code, when)
        key = (
            v.id,
            frozenset(
                (d.id, d.grid_code, d.role, d.name, d.phone, d.title)  # not the validity dates
                for roles in duties.values()
                for d in roles.values()
            ),
        )
        with self._lock:
            loc = self._by_roster.get(key)
            if loc is not None:
                self._by_roster.move_to_end(key)
                return v, loc
            base = self._by_version.get(v.id)
            if base is not None:
                self._by_version.move_to_end(v.id)
        district = self.store.load_district(v.id, people_at=when)  # outside the lock
        if base is not None:
            loc = base.with_people(district)
        else:  # the version's first locator, answering with the people of ``when``
            loc = Locator(district).prepare(lists=False)
            self._fill_later(loc)
        with self._lock:
            if base is None:
                self._remember(v.id, loc)
            self._by_roster[key] = loc
            while len(self._by_roster) > KEEP_ROSTERS:
                self._by_roster.popitem(last=False)
        return v, loc

    # ------------------------------------------------------------------ answers
    def locate(self, x, y, crs: str = "wgs84", *, at: datetime | None = None) -> Location:
        """Who owns a place (and who handles it), now or as it was at ``at``."""
        _, loc = self.current() if at is None else self.locator_at(at)
        return loc.locate(x, y, crs)

    def locate_many(self, xs, ys, crs: str = "wgs84") -> Located:
        return self.current()[1].locate_many(xs, ys, crs)

    def search_index(self) -> SearchIndex:
        """The search index of the current version, built on first use (about half a second for
        the sample district) and kept until another version is published."""
        version, loc = self.current()
        cached = self.__dict__.get("_search")
        if cached is not None and cached[0] == version.id:
            return cached[1]
        with _SEARCH_LOCK:
            cached = self.__dict__.get("_search")
            if cached is None or cached[0] != version.id:
                cached = (version.id, SearchIndex.from_district(loc.district))
                self.__dict__["_search"] = cached
        return cached[1]

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Units, grids, roads and addresses matching ``query`` (see :mod:`geogrid.search`)."""
        return self.search_index().search(query, limit)


def seed(store: Store, district: District, *, actor: str = "init-db") -> VersionInfo:
    """Store ``district`` as a new version and publish it (its people enter the roster)."""
    draft = store.create_version(district, actor=actor, note="initial import")
    return store.publish(draft.id, actor=actor)


__all__ = ["Service", "seed", "CHECK_INTERVAL"]
