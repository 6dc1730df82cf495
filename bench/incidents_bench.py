"""The incident list at the sub-district's volume: ten years, 120,000 incidents, on SQLite and
PostGIS, each list query against the obvious alternatives in the same run.

Run from the repository root::

    .venv/bin/python bench/incidents_bench.py [--count N] [--postgres URL] [--json PATH]

For each backend it makes a fresh database (a temporary SQLite file; on PostgreSQL, when
``--postgres`` or ``$GEOGRID_TEST_POSTGRES_URL`` names a role that may create databases, a
throw-away database, dropped at the end), seeds the sample district, writes the sample history
with ``geogrid.usecases.incidents.sample_history`` (timed: the bulk load) and then times the
queries the list page makes through ``geogrid.usecases.incidents.search``: the first page, a
deep page, filters by state, community, category, overdue, text and time range, a grid
worker's own grid; each as one page of 50 alone and with the count of all matches (what the
list shows). Against:

* **un-indexed**: the same queries after the ``incidents`` table's indexes are dropped (the
  primary key stays), which is what the list costs without them;
* **load all + Python**: every incident of the district loaded and filtered, sorted and paged
  in Python, as a first version of a list might do on every request.

The three answers (the total and the page's ids) are compared; exit status 1 if any differs.
Times are the median of ``--repeats`` runs (the naive one: of ``--naive-repeats``); they move
with the load of the machine, so compare them within a run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from backends import on_both_backends  # bench/backends.py: this script's folder is on sys.path

from geogrid.access import Actor
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.incidents import Incident
from geogrid.incidents.policy import Policy
from geogrid.incidents.query import IncidentQuery
from geogrid.sample.incidents import DEFAULT_COUNT, DEFAULT_SEED
from geogrid.service import Service
from geogrid.usecases import incidents as U
from geogrid.workdays import BEIJING

ADMIN = Actor("bench", "admin")
#: The end of the history: fixed, so that every run makes the same one.
END = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def queries(count: int, grid: str) -> list[tuple[str, dict, Actor]]:
    """(what, list parameters, who asks) of each timed list query."""
    day = END.astimezone(BEIJING).date()
    deep = min(100_000, max(count - 100, 0) // 1000 * 1000)
    worker = Actor("wangge", "worker", frozenset({grid}))
    return [
        ("first page, newest first", {}, ADMIN),
        (f"deep page (offset {deep:,})", {"offset": str(deep)}, ADMIN),
        ("state: dispatched/handling/escalated", {"state": "dispatched,handling,escalated"}, ADMIN),
        ("state: closed, oldest first", {"state": "closed", "sort": "created_at"}, ADMIN),
        ("community 320113005003", {"community": "320113005003"}, ADMIN),
        ("category class 08 (园林绿化)", {"category": "08"}, ADMIN),
        ("category 0504, summer 2025", {"category": "0504", "since": "2025-06-01", "until": "2025-08-31"}, ADMIN),
        ("overdue", {"overdue": "true"}, ADMIN),
        ("text 井盖", {"q": "井盖"}, ADMIN),
        ("time range: a month", {"since": str(day - timedelta(days=60)), "until": str(day - timedelta(days=31))}, ADMIN),
        ("a grid worker's own grid", {}, worker),
    ]  # fmt: skip


def median_of(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        result = None
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# ----------------------------------------------------------------------------- the naive way
def load_all(store: Store, district: str) -> list[Incident]:
    cols = [c for c in t.incidents.columns if c.name != "geom"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).where(t.incidents.c.district_code == district))
        return [Incident(**r._asdict()) for r in rows]


def matches(inc: Incident, q: IncidentQuery, scope, now) -> bool:
    text = q.text.replace("%", "").replace("_", "") if q.text else None
    return (
        (scope is None or inc.grid_code in scope)
        and (not q.states or inc.state in q.states)
        and (not q.community or inc.grid1_code == q.community)
        and (not q.grid or inc.grid_code == q.grid)
        and (not q.category or inc.category.startswith(q.category))
        and (not q.channel or inc.channel == q.channel)
        and (not q.office or inc.office == q.office)
        and (not q.since or inc.created_at >= q.since)
        and (not q.until or inc.created_at < q.until)
        and (q.overdue is None or inc.overdue(now) == q.overdue)
        and (
            not text
            or any(text in (v or "") for v in (inc.description, inc.address, inc.reporter))
            or (q.text.lstrip("#").isdigit() and inc.id == int(q.text.lstrip("#")))
        )
    )


def naive_search(svc: Service, actor: Actor, q: IncidentQuery):
    everything = load_all(svc.store, svc.district_code)
    now = datetime.now(UTC)
    found = [i for i in everything if matches(i, q, actor.scope, now)]
    key = q.sort.lstrip("-")
    if q.sort.startswith("-"):
        found.sort(key=lambda i: (getattr(i, key), i.id), reverse=True)
    else:  # ascending, ties newest first (as in SQL): two stable sorts
        found.sort(key=lambda i: i.id, reverse=True)
        found.sort(key=lambda i: getattr(i, key))
    return len(found), found[q.offset : q.offset + q.limit]


# ----------------------------------------------------------------------------- one backend
def run_backend(name: str, url: str, args) -> dict:
    store = Store(url)
    svc = Service.bootstrap(store, policy=Policy(photo_dir=Path(tempfile.mkdtemp())))
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    n = U.sample_history(svc, ADMIN, count=args.count, seed=args.seed, end=END)
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    with store.engine.connect() as conn:
        events = conn.execute(
            sa.select(sa.func.count()).select_from(t.incident_events)
        ).scalar_one()
    grid = sorted(svc.current()[1].district.grids2["code"])[0]
    out = {"backend": name, "incidents": n, "events": events, "load_s": load_s,
           "load_cpu_s": load_cpu, "rows": []}  # fmt: skip
    qs = queries(n, grid)
    for what, params, actor in qs:
        q = IncidentQuery.parse(params)
        page_s, _ = median_of(lambda q=q, a=actor: U.search(svc, a, q, count=False), args.repeats)
        both_s, (total, page) = median_of(lambda q=q, a=actor: U.search(svc, a, q), args.repeats)
        naive_s, (n_total, n_page) = median_of(
            lambda q=q, a=actor: naive_search(svc, a, q), args.naive_repeats
        )
        out["rows"].append({
            "query": what, "params": params, "matches": total, "page_s": page_s,
            "page_count_s": both_s, "naive_s": naive_s,
            "same_as_naive": (total, [i.id for i in page]) == (n_total, [i.id for i in n_page]),
            "ids": [i.id for i in page],
        })  # fmt: skip
    with store.engine.begin() as conn:
        for ix in t.incidents.indexes:
            conn.execute(sa.text(f"DROP INDEX {ix.name}"))
        conn.execute(sa.text("ANALYZE"))
    for row, (_, params, actor) in zip(out["rows"], qs, strict=True):
        q = IncidentQuery.parse(params)
        s, (total, page) = median_of(
            lambda q=q, a=actor: U.search(svc, a, q), args.unindexed_repeats
        )
        row["unindexed_s"] = s
        row["same_unindexed"] = (total, [i.id for i in page]) == (row["matches"], row.pop("ids"))
    store.dispose()
    return out


def print_backend(fig: dict) -> None:
    print(
        f"\n{fig['backend']}: {fig['incidents']:,} incidents, {fig['events']:,} events, written "
        f"in {fig['load_s']:.1f} s ({fig['load_cpu_s']:.1f} s CPU in this process)"
    )
    head = f"  {'query':<38}{'matches':>9}{'page':>10}{'+ count':>10}{'no index':>11}{'load all':>11}{'speed-up':>10}"
    print(head)
    for r in fig["rows"]:
        ok = "" if r["same_as_naive"] and r["same_unindexed"] else "  DIFFERENT ANSWER"
        print(
            f"  {r['query']:<38}{r['matches']:>9,}{r['page_s'] * 1e3:>8.1f} ms{r['page_count_s'] * 1e3:>8.1f} ms"
            f"{r['unindexed_s'] * 1e3:>9.1f} ms{r['naive_s'] * 1e3:>9.0f} ms{r['naive_s'] / r['page_count_s']:>9.0f}×{ok}"
        )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--unindexed-repeats", type=int, default=3)
    ap.add_argument("--naive-repeats", type=int, default=1)
    ap.add_argument(
        "--postgres",
        default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
        help="PostgreSQL URL of a role that may create databases [default: $GEOGRID_TEST_POSTGRES_URL; none: SQLite only]",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Incident lists at {args.count:,} incidents (seed {args.seed}, history ending {END:%Y-%m-%d});"
          f" median of {args.repeats} runs (no index {args.unindexed_repeats}, load all"
          f" {args.naive_repeats}); {os.cpu_count()} CPUs, load average {load:.1f}")  # fmt: skip
    print("page: one page of 50 (count=False); + count: the page and the count of all matches, as"
          " the list shows them;\nno index: the same after dropping the incidents table's indexes;"
          " load all: every incident loaded, filtered and sorted in Python; speed-up: load all / + count")  # fmt: skip
    figures = on_both_backends(run_backend, print_backend, args)
    bad = [
        r for f in figures for r in f["rows"] if not (r["same_as_naive"] and r["same_unindexed"])
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
