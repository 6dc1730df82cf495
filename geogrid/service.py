"""The service: the data layer plus always-current locators, as every process needs them.

One :class:`Service` per process and district. It answers from the current boundary version and
the duty roster as they are in the database; when another process publishes a version or changes
the roster, this one notices at its next request (it polls one small row at most every
``check_interval`` seconds, 0.25 s by default) and switches without a restart. A locator is built
once per version (about a second for the sample district) and shared by all threads; a roster
change only swaps the people the answers carry.

>>> from geogrid.db import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> svc = Service.bootstrap(store)      # seeds the bundled sample district as version 1
>>> svc.locate(118.93, 32.11).grid2.code
'320113005007007'
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from .db import Store, VersionInfo
from .db.store import Incident
from .errors import NotFound
from .locate import Located, Location, Locator
from .model import District, default_data_dir
from .search import Hit, SearchIndex

CHECK_INTERVAL = 0.25
#: Locators of past versions kept in memory for "as of" lookups.
KEEP_VERSIONS = 4
#: Guards building a search index (one at a time per process).
_SEARCH_LOCK = threading.Lock()


class Service:
    """Locate, report and look things up against the database's current state."""

    def __init__(
        self,
        store: Store,
        district_code: str | None = None,
        *,
        check_interval: float = CHECK_INTERVAL,
    ):
        self.store = store
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

    @classmethod
    def bootstrap(cls, store: Store, data_dir: str | Path | None = None, **kw) -> Service:
        """Upgrade the schema and, on an empty database, seed it with the district in
        ``data_dir`` (default: the bundled sample) as its first published version."""
        store.upgrade()
        if not store.districts():
            seed(store, District.load(data_dir or default_data_dir()))
        return cls(store, **kw)

    # ------------------------------------------------------------------ locators
    def _geometry_locator(self, version_id: int) -> Locator:
        loc = self._by_version.get(version_id)
        if loc is None:
            loc = Locator(self.store.load_district(version_id)).prepare()
            self._by_version[version_id] = loc
            while len(self._by_version) > KEEP_VERSIONS:
                self._by_version.popitem(last=False)
        else:
            self._by_version.move_to_end(version_id)
        return loc

    def current(self) -> tuple[VersionInfo, Locator]:
        """The current version and its locator, refreshed if the database changed."""
        now = time.monotonic()
        if self._current is not None and now - self._checked < self.check_interval:
            return self._current
        with self._lock:
            if self._current is not None and time.monotonic() - self._checked < self.check_interval:
                return self._current
            state = self.store.state(self.district_code)
            if state != self._state or self._current is None:
                vid = state[0]
                if vid is None:
                    raise NotFound(f"district {self.district_code} has no published version")
                base = self._geometry_locator(vid)
                # people as the roster has them now (the version's own attributes may be older)
                loc = base.with_people(self.store.load_district(vid))
                self._current = (self.store.version(vid), loc)
                self._state = state
            self._checked = time.monotonic()
            return self._current

    def locator_at(self, when: datetime) -> tuple[VersionInfo, Locator]:
        """The version current at ``when`` and a locator answering with who was on duty then."""
        v = self.store.version_at(self.district_code, when)
        if v is None:
            raise NotFound(
                f"district {self.district_code} had no published version at {when.isoformat()}"
            )
        with self._lock:
            base = self._geometry_locator(v.id)
        return v, base.with_people(self.store.load_district(v.id, people_at=when))

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

    def report_incident(
        self,
        x,
        y,
        *,
        crs: str = "wgs84",
        category: str,
        actor: str,
        description: str = "",
        channel: str = "phone",
        **extra,
    ) -> Incident:
        """Locate a reported problem and record it against the grid that owns the place."""
        version, loc = self.current()
        where = loc.locate(x, y, crs)
        given = (
            {"x": where.input[0], "y": where.input[1], "crs": where.input[2]}
            if where.input
            else None
        )
        return self.store.create_incident(
            district_code=self.district_code,
            version_id=version.id,
            lon=where.lon,
            lat=where.lat,
            grid_code=where.grid2.code if where.grid2 else None,
            grid1_code=where.grid1.code if where.grid1 else None,
            category=category,
            description=description,
            channel=channel,
            input=given,
            actor=actor,
            **extra,
        )


def seed(store: Store, district: District, *, actor: str = "init-db") -> VersionInfo:
    """Store ``district`` as a new version and publish it (its people enter the roster)."""
    draft = store.create_version(district, actor=actor, note="initial import")
    return store.publish(draft.id, actor=actor)


__all__ = ["Service", "seed", "CHECK_INTERVAL"]
