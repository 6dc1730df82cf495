"""Early warnings at the sub-district's volume: ten years, 120,000 incidents, on SQLite and
PostGIS, against the naive way in the same run.

Run from the repository root::

    .venv/bin/python bench/warnings_bench.py [--count N] [--postgres URL] [--json PATH]

For each backend it makes a fresh database (as ``bench/incidents_bench.py`` does: a temporary
SQLite file; on PostgreSQL a throw-away database, dropped at the end), writes the sample history
(``geogrid.usecases.incidents.sample_history``, ending 2026-12-01 08:00 UTC) and times, at that
moment:

* **the list**: ``geogrid.usecases.warnings.warnings`` as the page and the API call it (read
  the inputs, evaluate the four rules, match the acknowledgements), and its two halves:
  ``store.warning_inputs`` (only the recent window, the recurrence candidates, the open
  incidents and the baseline's spans) and ``evaluate``;
* **the nav badge**: ``active_count`` as every page calls it, from the cache (within
  ``GEOGRID_WARN_CACHE_S``) and without it (the cache expired: one evaluation);
* **the naive way**: every incident and every event of the district loaded into Python, the
  same inputs filtered there, clusters found by comparing every pair of reports, and each
  grid's usual level counted incident by incident and day by day in Python;
* **clusters alone over 30 days** (about 1,000 reports): the spatial index (shapely's STRtree,
  ``dwithin`` in EPSG:4549) against every pair.

The answers (each warning's key and incidents) are compared; exit status 1 if they differ.
Times are medians of ``--repeats`` runs (the naive way: one); they move with the machine's load.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from backends import on_both_backends  # bench/backends.py: this script's folder is on sys.path
from incidents_bench import END, load_all

from geogrid.access import Actor
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.incidents import CLOSED, OPEN, REVISITED
from geogrid.incidents import warnings as W
from geogrid.incidents.policy import Policy
from geogrid.sample.incidents import DEFAULT_COUNT, DEFAULT_SEED
from geogrid.service import Service
from geogrid.usecases import incidents as U
from geogrid.usecases import warnings as UW

ADMIN = Actor("bench", "admin")


def median_of(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def answer(found) -> list[tuple[str, tuple[int, ...]]]:
    return sorted((w.key, w.incidents) for w in found)


# ----------------------------------------------------------------------------- the naive way
def naive_pairs(xy: np.ndarray, radius: float):
    """Every pair of points compared in Python."""
    i, j = [], []
    pts = xy.tolist()
    for a, (xa, ya) in enumerate(pts):
        for b, (xb, yb) in enumerate(pts):
            if a != b and math.hypot(xa - xb, ya - yb) <= radius:
                i.append(a)
                j.append(b)
    return np.array(i, dtype=int), np.array(j, dtype=int)


def naive_levels(spans, times, grids):
    """Each grid's open and overdue counts, incident by incident and moment by moment."""
    index = {g: k for k, g in enumerate(grids)}
    opened = np.zeros((len(grids), len(times)), int)
    late = np.zeros((len(grids), len(times)), int)
    for s in spans:
        k = index.get(s.grid_code)
        if k is None:
            continue
        for c, moment in enumerate(times):
            if s.start <= moment and (s.end is None or moment < s.end):
                opened[k, c] += 1
                if (
                    s.late_from is not None
                    and s.late_from <= moment
                    and (s.late_end is None or moment < s.late_end)
                ):
                    late[k, c] += 1
    return opened, late


def naive_inputs(svc, now, s: W.WarningSettings) -> W.Inputs:
    """Every incident and event loaded, the rules' inputs filtered in Python."""
    everything = load_all(svc.store, svc.district_code)
    with svc.store.engine.connect() as conn:
        e = t.incident_events.c
        events = conn.execute(
            sa.select(e.incident_id, e.action, e.from_state, e.at, e.detail).order_by(e.id)
        ).all()
    since = now - s.lookback
    reports = [
        W.Report(i.id, i.grid_code, i.grid1_code, i.category, i.lon, i.lat, i.state, i.created_at)
        for i in everything
        if since <= i.created_at <= now
    ]
    recur_since = now - timedelta(days=s.recur_days)
    by_id = {i.id: i for i in everything}
    revisits = [
        W.Revisit(i.id, i.grid_code, i.grid1_code, i.category, i.lon, i.lat, i.revisited_at)
        for i in everything
        if i.revisited_at
        and recur_since <= i.revisited_at <= now
        and i.state in (REVISITED, CLOSED)
    ]
    passed: dict[int, object] = {}
    for ev in events:
        if ev.at < recur_since or ev.at > now:
            continue
        if ev.action == "revisit" and (ev.detail or {}).get("passed"):
            passed[ev.incident_id] = ev.at
        elif (
            ev.action == "reopen"
            and ev.from_state in (REVISITED, CLOSED)
            and ev.incident_id in passed
        ):
            i = by_id[ev.incident_id]
            if i.recurrences > 0 and i.dispatched_at and i.dispatched_at >= recur_since:
                revisits.append(W.Revisit(i.id, i.grid_code, i.grid1_code, i.category, i.lon, i.lat,
                                          passed.pop(ev.incident_id), ev.at))  # fmt: skip
    open_now = [
        W.OpenIncident(i.id, i.grid_code, i.grid1_code, i.lon, i.lat, i.overdue(now))
        for i in everything
        if i.state in OPEN and i.created_at <= now
    ]
    last = now - timedelta(days=1)
    spans = [
        W.span_of(i.grid_code, i.state, i.created_at, i.closed_at, i.updated_at, i.due_at,
                  i.office_due_at, i.resolved_at)
        for i in everything
        if i.grid_code and i.created_at <= last
    ]  # fmt: skip
    return W.Inputs(now, reports, revisits, open_now, spans)


def naive_warnings(svc, now, s):
    fast_pairs, fast_levels = W._pairs_within, W.levels
    W._pairs_within, W.levels = naive_pairs, naive_levels
    try:
        return W.evaluate(naive_inputs(svc, now, s), s)
    finally:
        W._pairs_within, W.levels = fast_pairs, fast_levels


# ----------------------------------------------------------------------------- one backend
def run_backend(name: str, url: str, args) -> dict:
    store = Store(url)
    svc = Service.bootstrap(store, policy=Policy(photo_dir=Path(tempfile.mkdtemp())))
    t0 = time.perf_counter()
    n = U.sample_history(svc, ADMIN, count=args.count, seed=args.seed, end=END)
    load_s = time.perf_counter() - t0
    s = svc.policy.warnings
    out = {"backend": name, "incidents": n, "load_s": load_s}
    list_s, found = median_of(lambda: UW.warnings(svc, ADMIN, view="all", now=END), args.repeats)
    inputs_s, inputs = median_of(
        lambda: store.warning_inputs(svc.district_code, END, s), args.repeats
    )
    rules_s, raised = median_of(lambda: W.evaluate(inputs, s), args.repeats)
    out.update(list_s=list_s, inputs_s=inputs_s, rules_s=rules_s, warnings=len(found))
    out["by_rule"] = {r: sum(w.rule == r for w in found) for r in W.RULES}
    out["rows_read"] = {"reports": len(inputs.reports), "revisits": len(inputs.revisits),
                        "open_now": len(inputs.open_now), "spans": len(inputs.spans)}  # fmt: skip
    # the nav badge: cached (the usual case) and cold (the cache expired)
    UW.raised(svc)
    hits = []
    for _ in range(2000):
        t1 = time.perf_counter()
        UW.active_count(svc, ADMIN)
        hits.append(time.perf_counter() - t1)
    out["badge_cached_us"] = statistics.median(hits) * 1e6
    policy = svc.policy
    svc.policy = replace(policy, warnings=replace(s, cache_seconds=0))
    try:
        out["badge_cold_s"], _ = median_of(lambda: UW.active_count(svc, ADMIN), args.repeats)
    finally:
        svc.policy = policy
    # the naive way
    naive_s, naive = median_of(lambda: naive_warnings(svc, END, s), args.naive_repeats)
    out["naive_s"] = naive_s
    out["same_as_naive"] = answer(naive) == answer(raised) == answer(found)
    # clusters alone over 30 days
    wide = replace(s, cluster_hours=24 * 30)
    out["cluster30_reports"] = sum(1 for r in inputs.reports if r.state not in W.NOT_COUNTED)
    c_s, c_fast = median_of(lambda: W.clusters(inputs.reports, END, wide), args.repeats)
    fast_pairs = W._pairs_within
    W._pairs_within = naive_pairs
    try:
        c_naive_s, c_naive = median_of(lambda: W.clusters(inputs.reports, END, wide), 1)
    finally:
        W._pairs_within = fast_pairs
    out.update(cluster30_s=c_s, cluster30_naive_s=c_naive_s, cluster30_found=len(c_fast),
               cluster30_same=answer(c_fast) == answer(c_naive))  # fmt: skip
    store.dispose()
    return out


def print_backend(f: dict) -> None:
    ok = "same answers" if f["same_as_naive"] and f["cluster30_same"] else "DIFFERENT ANSWERS"
    print(f"\n{f['backend']}: {f['incidents']:,} incidents (written in {f['load_s']:.1f} s); "
          f"{f['warnings']} warnings {f['by_rule']}; {ok}")  # fmt: skip
    print(f"  rows read: {f['rows_read']}")
    print(f"  the list (use case, all rules):   {f['list_s'] * 1e3:8.1f} ms")
    print(f"    reading the inputs:             {f['inputs_s'] * 1e3:8.1f} ms")
    print(f"    the four rules:                 {f['rules_s'] * 1e3:8.1f} ms")
    print(f"  nav badge, cached:                {f['badge_cached_us']:8.1f} µs")
    print(f"  nav badge, cache expired:         {f['badge_cold_s'] * 1e3:8.1f} ms")
    print(
        f"  naive (load all, Python):         {f['naive_s'] * 1e3:8.0f} ms  ({f['naive_s'] / f['list_s']:.0f}× the list)"
    )
    print(f"  clusters over 30 days ({f['cluster30_reports']} reports, {f['cluster30_found']} found): "
          f"STRtree {f['cluster30_s'] * 1e3:.1f} ms, every pair {f['cluster30_naive_s'] * 1e3:.0f} ms "
          f"({f['cluster30_naive_s'] / f['cluster30_s']:.0f}×)")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--naive-repeats", type=int, default=1)
    ap.add_argument("--postgres", default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
                    help="PostgreSQL URL of a role that may create databases [default: $GEOGRID_TEST_POSTGRES_URL; none: SQLite only]")  # fmt: skip
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Early warnings at {args.count:,} incidents (seed {args.seed}, now = {END:%Y-%m-%d %H:%M} UTC);"
          f" median of {args.repeats} runs (naive {args.naive_repeats}); {os.cpu_count()} CPUs, load average {load:.1f}")  # fmt: skip
    figures = on_both_backends(run_backend, print_backend, args)
    return 0 if all(f["same_as_naive"] and f["cluster30_same"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
