"""The incident figures read from the database: sums per group and month computed by SQL, kept
per month in the process, and refreshed only for the months a change touched.

For one grouping (and category filter and scope), one query per run of consecutive months
asked for: ``incidents`` ``GROUP BY`` (key, month), left-joined to their ``revisit`` steps added
up per incident, gives every count and the sum of handling hours
(:class:`geogrid.incidents.figures.Sums`) and the handling hours themselves as one text list per
(key, month), kept as an array for the 90th percentile.

What a month gave is kept in the process (:class:`FigureReader`, one per store). Before each
answer a change marker is read (the largest ``incident_events`` id and the number of the
district's incidents: two index look-ups): every change of an incident writes a step to its log,
so the months of the incidents whose log grew since the last answer are the only ones read again.
On PostgreSQL an id may become visible after a larger one (transactions commit out of order),
so the steps among the last :data:`SLACK` ids before the marker are remembered, and one that
appears there later still counts as a change.
Fewer incidents than before (a history replaced) forgets everything.

On SQLite the sums also go to a file beside the database (:func:`cache_file_of`) after an
answer that read a year or more of months: a process started later takes them over when the
file was made from the same database (the step at its marker is still there, at the same time)
and reads only the months changed since, so the first answer of a new process is as quick as a
warm one. (A server database would need a table for that.)
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from ..incidents import figures as F
from ..incidents.rules import CLOSED, REVISITED
from . import schema as t

I = t.incidents.c  # noqa: E741
E = t.incident_events.c
#: How many step ids before the marker are remembered (steps committed late on PostgreSQL).
SLACK = 200
#: More new steps than this since the last answer: everything is read again.
RESET_AFTER = 20_000
#: Cache entries (grouping × category × scope) kept per process, least recently used dropped
#: (a district-wide grouping over ten years holds about 3 MB; a filtered one much less).
MAX_ENTRIES = 48
#: An answer that read this many months from the database writes the cache file.
SAVE_AFTER = 12
_CACHE_VERSION = 1

_SUMS = ["count", "counted", "closed", "resolved", "on_time", "recurrent", "hours_sum", "hours_n"]
_VISITS = ["visits", "passed", "rated", "satisfied"]


def month_expr(col, dialect: str):
    """SQL: the Beijing-time month (``YYYY-MM``) of a UTC time column."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("Asia/Shanghai", col), "YYYY-MM")
    return sa.func.strftime("%Y-%m", col, "+8 hours")


def hours_expr(dialect: str):
    """SQL: calendar hours from dispatch to resolution."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", I.resolved_at - I.dispatched_at), sa.Float) / 3600.0
    return (sa.func.julianday(I.resolved_at) - sa.func.julianday(I.dispatched_at)) * 24.0


def _key_expr(by: str, month):
    column = F.GROUPINGS[by]  # read as plain text: no per-row conversion of the results
    return month if column is None else sa.type_coerce(I[column], sa.String())


def _filters(district_code, category, grids, office) -> list:
    w = [I.district_code == district_code]
    if category:
        w.append(I.category == category if len(category) == 4 else I.category.startswith(category))
    if grids is not None:
        w.append(I.grid_code.in_(sorted(grids)))
    if office is not None:
        w += [I.office == office, I.escalated_at.is_not(None)]
    return w


def _runs(months: list[str]) -> list[tuple[str, str]]:
    """Sorted months as runs of consecutive ones: [(first, last)]."""
    out: list[list[str]] = []
    for m in sorted(months):
        if out and F.next_month(out[-1][1]) == m:
            out[-1][1] = m
        else:
            out.append([m, m])
    return [(a, b) for a, b in out]


#: The sums' order in a month's matrix.
_COLUMNS = _SUMS + _VISITS
_HOURS_SUM = _COLUMNS.index("hours_sum")


class _Month:
    """What one month gave for one cache entry: its keys, their sums (one row per key, the
    columns of :data:`_COLUMNS`) and the handling hours with the row each belongs to."""

    __slots__ = ("hour_rows", "hours", "keys", "sums")

    def __init__(self, keys: list, sums: np.ndarray, hour_rows: np.ndarray, hours: np.ndarray):
        self.keys, self.sums, self.hour_rows, self.hours = keys, sums, hour_rows, hours


def read_months(conn, district_code: str, by: str, months: list[str], *, category=None,
                grids=None, office=None) -> dict[str, _Month]:  # fmt: skip
    """The sums of ``months``, one query per run of consecutive months: the incidents
    ``GROUP BY`` (key, month) with their return visits (the ``revisit`` steps of their logs,
    added up per incident and joined) and their handling hours as one text list per group
    (for the percentile)."""
    dialect = conn.dialect.name
    month = month_expr(I.created_at, dialect)
    key = _key_expr(by, month)
    where = _filters(district_code, category, grids, office)
    counted = I.state.not_in(sorted(F.EXCLUDED))
    resolved = sa.and_(counted, I.resolved_at.is_not(None))
    handled = sa.and_(resolved, I.dispatched_at.is_not(None))
    hours = hours_expr(dialect)
    limit = sa.func.coalesce(I.office_due_at, I.due_at)
    sat = E.detail["satisfaction"].as_string()
    hours_text = sa.case((handled, sa.cast(hours, sa.Text)), else_=None)
    if dialect == "postgresql":
        hours_list = sa.func.string_agg(hours_text, sa.literal_column("','"))
    else:
        hours_list = sa.func.group_concat(hours_text, ",")

    def n(cond):
        return sa.func.sum(sa.case((cond, 1), else_=0))

    rows = []
    for first, last in _runs(months):
        period = [
            I.created_at >= F.month_start(first),
            I.created_at < F.month_start(F.next_month(last)),
        ]
        ev = (
            sa.select(
                E.incident_id, sa.func.count().label("v"), n(E.to_state == REVISITED).label("p"),
                n(sat.is_not(None)).label("r"), n(sat.in_(sorted(F.SATISFIED))).label("s"),
            )
            .where(E.action == "revisit", E.incident_id.in_(sa.select(I.id).where(*where, *period)))
            .group_by(E.incident_id)
            .subquery()
        )  # fmt: skip

        def visits(col):
            return sa.func.sum(sa.case((counted, sa.func.coalesce(col, 0)), else_=0))

        q = (
            sa.select(
                key, month, sa.func.count(), n(counted),
                n(sa.and_(counted, I.state == CLOSED)), n(resolved),
                n(sa.and_(resolved, I.resolved_at <= limit)),
                n(sa.and_(counted, I.recurrences > 0)),
                sa.func.sum(sa.case((handled, hours), else_=None)), n(handled),
                visits(ev.c.v), visits(ev.c.p), visits(ev.c.r), visits(ev.c.s), hours_list,
            )
            .select_from(t.incidents.outerjoin(ev, ev.c.incident_id == I.id))
            .where(*where, *period)
            .group_by(key, month)
        )  # fmt: skip
        rows += conn.execute(q).all()

    per_month: dict = {m: [] for m in months}
    for r in rows:
        per_month[r[1]].append(r)
    out = {}
    n_at = 2 + _COLUMNS.index("hours_n")
    for m in months:
        got = per_month[m]
        keys = [r[0] for r in got]
        sums = np.array([r[2:-1] for r in got], dtype=float).reshape(len(got), len(_COLUMNS))
        text = ",".join(r[-1] for r in got if r[-1])
        values = np.array(text.split(","), dtype=float) if text else np.zeros(0)
        counts = np.array([r[n_at] for r in got], dtype=np.int64)
        out[m] = _Month(keys, np.nan_to_num(sums), np.repeat(np.arange(len(got)), counts), values)
    return out


def _sums(row) -> F.Sums:
    s = F.Sums(**{c: int(x) for c, x in zip(_COLUMNS, row, strict=True)})
    s.hours_sum = float(row[_HOURS_SUM])
    return s


def _p90(values: np.ndarray):
    if not len(values):
        return None
    k = F.nearest_rank(len(values)) - 1
    return float(np.partition(values, k)[k])


def assemble(data: dict[str, _Month], months: list[str]) -> dict:
    """The answer of :func:`geogrid.incidents.figures.compute` from the months' sums."""
    present = [data[m] for m in months if data[m].keys]
    gid: dict = {}
    rows, hour_rows, hours, by_month = [], [], [], {}
    for m, d in zip([m for m in months if data[m].keys], present, strict=True):
        ids = np.array([gid.setdefault(k, len(gid)) for k in d.keys], dtype=np.int64)
        rows.append(ids)
        hour_rows.append(ids[d.hour_rows] if len(d.hour_rows) else d.hour_rows)
        hours.append(d.hours)
        by_month[m] = _sums(d.sums.sum(axis=0)).figures(None) | {"handling_p90_h": _p90(d.hours)}
    if not present:
        return {"total": F.Sums().figures(None), "groups": {}, "months": {}}
    ids = np.concatenate(rows)
    sums = np.concatenate([d.sums for d in present])
    per_group = np.zeros((len(gid), sums.shape[1]))
    np.add.at(per_group, ids, sums)
    h_ids, h = np.concatenate(hour_rows), np.concatenate(hours)
    # the nearest-rank percentile of every group at once: sort by (group, hours)
    order = np.lexsort((h, h_ids))
    h_ids, h = h_ids[order], h[order]
    counts = np.bincount(h_ids, minlength=len(gid))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    keys = list(gid)
    groups = {}
    for i, k in enumerate(keys):
        c = int(counts[i])
        p90 = float(h[starts[i] + F.nearest_rank(c) - 1]) if c else None
        groups[k] = _sums(per_group[i]).figures(None) | {"handling_p90_h": p90}
    return {
        "total": _sums(per_group.sum(axis=0)).figures(None) | {"handling_p90_h": _p90(h)},
        "groups": groups,
        "months": by_month,
    }


class FigureReader:
    """The figures of one store, with the per-month sums kept between answers (thread-safe)."""

    def __init__(self, store, cache_file: Path | None = None):
        self.store = store
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()
        self._marker: tuple[int, int] | None = None
        self._seen: set[int] = set()  # the steps of the last SLACK ids already accounted for
        #: What the last answer read from the database: months recomputed (for the benchmark).
        self.last_read: list[str] = []
        #: Where the sums outlive the process (see :func:`cache_file_of`); None: nowhere.
        self.cache_file = cache_file
        self._loaded = False

    def figures(self, district_code: str, by: str, first: str, last: str, *, category=None,
                grids=None, office=None) -> dict:  # fmt: skip
        """``compute``'s answer for incidents of ``district_code`` reported from ``first`` to
        ``last`` (months), grouped ``by``; within ``category`` (a code or a class's two
        digits), ``grids`` (a worker's) or ``office`` (escalated to it) when given."""
        months = F.months_between(first, last)
        ekey = (district_code, by, category or None, frozenset(grids) if grids is not None else None, office)  # fmt: skip
        with self._lock, self.store.engine.connect() as conn:
            if not self._loaded:
                self._loaded = True
                self._load(conn)
            self._sync(conn, district_code)
            entry = self._entries.get(ekey)
            if entry is None:
                entry = self._entries[ekey] = {}
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(ekey)
            missing = [m for m in months if m not in entry]
            if missing:
                entry.update(
                    read_months(
                        conn,
                        district_code,
                        by,
                        missing,
                        category=category,
                        grids=grids,
                        office=office,
                    )  # fmt: skip
                )
            self.last_read = missing
            if len(missing) >= SAVE_AFTER:
                self._save(conn)
            return assemble(entry, months)

    # ------------------------------------------------------------------ kept on disk
    def _identity(self, conn, top: int):
        """The step at the marker (id and time): the same database as the file was made from."""
        at = conn.execute(sa.select(E.at).where(E.id == top)).scalar()
        return top, at.isoformat() if at else None

    def _save(self, conn) -> None:
        """Write what is kept to :attr:`cache_file` (atomically: a new file renamed over)."""
        if self.cache_file is None or self._marker is None:
            return
        state = {
            "version": _CACHE_VERSION, "marker": self._marker, "seen": self._seen,
            "identity": self._identity(conn, self._marker[0]),
            # the district-wide groupings only: a category's or a worker's are quick to read
            "entries": {k: v for k, v in self._entries.items() if k[2:] == (None, None, None)},
        }  # fmt: skip
        tmp = self.cache_file.with_name(f"{self.cache_file.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.cache_file)
        except OSError:  # a read-only folder: kept in this process only
            tmp.unlink(missing_ok=True)

    def _load(self, conn) -> None:
        """Take over what an earlier process kept, if it was made from this database; the
        next :meth:`_sync` then drops the months changed since."""
        if self.cache_file is None or not self.cache_file.exists():
            return
        try:
            with open(self.cache_file, "rb") as f:
                state = pickle.load(f)  # written by this program, beside the database file
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return
        if not isinstance(state, dict) or state.get("version") != _CACHE_VERSION:
            return
        if state["identity"] != self._identity(conn, state["marker"][0]):
            return
        self._marker, self._seen = tuple(state["marker"]), set(state["seen"])
        self._entries = OrderedDict(state["entries"])

    def oldest(self, district_code: str):
        """When the district's first incident was reported (None: it has none)."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.min(I.created_at)).where(I.district_code == district_code)
            ).scalar_one()

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._marker = None

    def _sync(self, conn, district_code: str) -> None:
        """Drop the months whose incidents changed since the last answer."""
        top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(E.id), 0))).scalar_one()
        n = conn.execute(
            sa.select(sa.func.count()).select_from(t.incidents).where(I.district_code == district_code)
        ).scalar_one()  # fmt: skip
        marker = (top, n)
        old = self._marker
        if old == marker:
            return
        self._marker = marker
        if old is None or n < old[1] or top < old[0] or top - old[0] > RESET_AFTER:
            self._entries.clear()
            self._seen = {i for i, _ in self._recent(conn, district_code, top - SLACK)}
            return
        recent = self._recent(conn, district_code, old[0] - SLACK)
        changed = {m for i, m in recent if i not in self._seen}
        self._seen = {i for i, _ in recent}
        for entry in self._entries.values():
            for m in changed:
                entry.pop(m, None)

    @staticmethod
    def _recent(conn, district_code: str, after: int) -> list[tuple[int, str]]:
        """(step id, month of its incident) of the steps logged after step ``after``."""
        month = month_expr(I.created_at, conn.dialect.name)
        return conn.execute(
            sa.select(E.id, month)
            .select_from(t.incident_events.join(t.incidents, I.id == E.incident_id))
            .where(E.id > after, I.district_code == district_code)
        ).all()


_readers_lock = threading.Lock()


def cache_file_of(store) -> Path | None:
    """Where the sums of an SQLite database outlive the process: a file beside the database
    (``<name>.figures-<hash of its full path>``), so that a new process answers
    at once and reads only the months changed since; None for an in-memory database or
    PostgreSQL (there every process starts from the database)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database).resolve()
    tag = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return path.with_name(f"{path.name}.figures-{tag}")


def reader(store) -> FigureReader:
    """The :class:`FigureReader` of ``store`` (one per store object in the process)."""
    r = getattr(store, "_figure_reader", None)
    if r is None:
        with _readers_lock:
            r = getattr(store, "_figure_reader", None)
            if r is None:
                r = FigureReader(store, cache_file_of(store))
                store._figure_reader = r
    return r


__all__ = ["FigureReader", "assemble", "month_expr", "read_months", "reader"]
