"""The figures page and API on the ten-year sample history (120,000 incidents), SQLite and
PostGIS: cold in a freshly started process, warm, right after a report this month and after a
change in a month years back; against the naive computation (every incident and its return
visits loaded into Python and grouped there: geogrid.incidents.figures.compute).

Run from the repository root::

    .venv/bin/python bench/figures_bench.py [--count N] [--postgres URL] [--json PATH]

For each backend it makes a fresh database (a temporary SQLite file; a throw-away PostgreSQL
database when ``--postgres`` or ``$GEOGRID_TEST_POSTGRES_URL`` is given), writes the sample
history with ``geogrid.usecases.incidents.sample_history`` and an administrator, then starts one
new Python process per measured request (``--child``): it builds the app (``web.create_app``),
makes one unrelated request (the Service starts), then times through the Flask test client

* **cold**: the first figures request of the process (nothing cached; on SQLite the sums kept
  beside the database file by an earlier process are deleted first);
* **restart** (SQLite): the same in a process started after that one and its two changes: the
  sums kept beside the file are taken over and the changed months read again;
* **warm**: the same again (median of ``--repeats``);
* **after a report**: an incident reported this month (the use case, in the same process),
  then the request;
* **after an old change**: an incident of 2019 reopened, then the request;
* **naive**: every incident with its ``revisit`` steps loaded and grouped in Python;

and checks that the last answer equals the naive one (exit status 1 if not). Requests: the API
(``/api/v1/figures``) and the page (``/figures``, which also computes the grids' figures for the
map when grouped otherwise), for the default period (the last 12 months) and the whole history.
Times move with the load of the machine: compare them within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from backends import on_both_backends  # bench/backends.py: this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
END = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
USER, PASSWORD = "bench-admin", "bench-secret-password-1"
#: (what, path) of each measured request.
REQUESTS = [
    ("API, last 12 months, by grid", "/api/v1/figures?by=grid"),
    ("page, last 12 months, by grid", "/figures"),
    ("API, whole history, by month", "/api/v1/figures?by=month&period=all"),
    ("page, whole history, by category", "/figures?by=category&period=all"),
]


# ----------------------------------------------------------------------------- parent
def fill(url: str, count: int, seed: int) -> dict:
    from geogrid.access import Actor
    from geogrid.db import Store
    from geogrid.incidents.policy import Policy
    from geogrid.service import Service
    from geogrid.usecases import incidents as U

    store = Store(url)
    svc = Service.bootstrap(store, policy=Policy(photo_dir=Path(tempfile.mkdtemp())))
    t0 = time.perf_counter()
    n = U.sample_history(svc, Actor("bench", "admin"), count=count, seed=seed, end=END)
    load = time.perf_counter() - t0
    store.create_user(USER, PASSWORD, "admin", display_name="bench", actor="bench")
    store.dispose()
    return {"incidents": n, "load_s": load}


def run_backend(name: str, url: str, args) -> dict:
    out = {"backend": name, **fill(url, args.count, args.seed), "rows": []}
    db_file = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    for what, path in REQUESTS:
        if db_file is not None:  # the first process ever: no sums kept beside the file yet
            for f in db_file.parent.glob(f"{db_file.name}.figures-*"):
                f.unlink()
        row = {"request": what, "path": path, **_child(url, path, args)}
        # a process started after that one (and its two changes): the sums kept beside an
        # SQLite file are taken over, the changed months read again
        row["restart_s"] = _child(url, path, args)["cold_s"] if db_file is not None else None
        out["rows"].append(row)
    return out


def _child(url: str, path: str, args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, __file__, "--child", url, path, "--repeats", str(args.repeats)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if res.returncode != 0:
        raise SystemExit(f"child failed for {path}:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.splitlines()[-1])


def print_backend(fig: dict) -> None:
    print(
        f"\n{fig['backend']}: {fig['incidents']:,} incidents (history written in {fig['load_s']:.1f} s)"
    )
    print(
        f"  {'request':<36}{'cold':>10}{'restart':>10}{'warm':>10}{'+report':>10}{'+old':>10}{'naive':>10}{'speed-up':>10}"
    )
    for r in fig["rows"]:
        ok = "" if r["same_as_naive"] else "  DIFFERENT ANSWER"
        print(
            f"  {r['request']:<36}{r['cold_s'] * 1e3:>7.0f} ms"
            + (f"{r['restart_s'] * 1e3:>7.0f} ms" if r["restart_s"] is not None else f"{'—':>10}")
            + f"{r['warm_s'] * 1e3:>7.0f} ms"
            f"{r['after_report_s'] * 1e3:>7.0f} ms{r['after_old_change_s'] * 1e3:>7.0f} ms"
            f"{r['naive_s'] * 1e3:>7.0f} ms{r['naive_s'] / r['cold_s']:>9.1f}×{ok}"
        )


# ----------------------------------------------------------------------------- child
def child(url: str, path: str, repeats: int) -> dict:
    """One freshly started process: the app, one request before the figures, then the timings."""
    import sqlalchemy as sa

    from geogrid.access import Actor
    from geogrid.db import schema as t
    from geogrid.incidents import Incident
    from geogrid.incidents import figures as F
    from geogrid.usecases import incidents as U
    from web import create_app

    app = create_app({
        "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40, "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "PROPAGATE_EXCEPTIONS": True,
    })  # fmt: skip
    client = app.test_client()
    resp = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    assert client.get("/api/v1/grids?level=1").status_code == 200  # the Service is up

    def timed() -> tuple[float, object]:
        t0 = time.perf_counter()
        r = client.get(path)
        dt = time.perf_counter() - t0
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        return dt, r

    cold, _ = timed()
    warm = statistics.median(timed()[0] for _ in range(repeats))
    with app.app_context():
        from web.services import service

        svc = service()
    admin = Actor("bench", "admin")
    U.report(svc, admin, 118.93, 32.11, category="0601", description="井盖缺失", dispatch=True)
    after_report, _ = timed()
    I = t.incidents.c  # noqa: E741
    with svc.store.engine.connect() as conn:
        old = conn.execute(
            sa.select(I.id).where(I.state == "closed", I.created_at < datetime(2019, 6, 1, tzinfo=UTC))
            .order_by(I.id).limit(1)
        ).scalar_one()  # fmt: skip
    U.act(svc, admin, old, "reopen", note="又坏了")
    after_old, last = timed()
    # the naive way: everything loaded and grouped in Python
    t0 = time.perf_counter()
    cols = [c for c in t.incidents.columns if c.name not in ("geom",)]
    E = t.incident_events.c
    with svc.store.engine.connect() as conn:
        incs = [Incident(**r._asdict()) for r in conn.execute(sa.select(*cols))]
        events: dict = {}
        for iid, action, to_state, detail in conn.execute(
            sa.select(E.incident_id, E.action, E.to_state, E.detail).where(E.action == "revisit")
        ):
            events.setdefault(iid, []).append({"action": action, "to_state": to_state, "detail": detail})  # fmt: skip
    if path.startswith("/api/"):
        body = last.get_json()
    else:  # the page's numbers: ask the API for the same (warm, it shares the cache)
        body = client.get("/api/v1/figures?" + path.split("?", 1)[1] if "?" in path else "/api/v1/figures").get_json()  # fmt: skip
    naive = F.compute(incs, body["by"], body["from"], body["to"], events=events)
    naive_s = time.perf_counter() - t0
    same = _same(body["total"], naive["total"]) and all(
        _same(g, naive["groups"][g["key"]]) for g in body["groups"]
    ) and len(body["groups"]) == len(naive["groups"])  # fmt: skip
    return {
        "cold_s": cold, "warm_s": warm, "after_report_s": after_report,
        "after_old_change_s": after_old, "naive_s": naive_s, "same_as_naive": bool(same),
        "groups": len(body["groups"]), "months": len(body["months"]),
    }  # fmt: skip


def _same(a: dict, b: dict) -> bool:
    for k, v in b.items():
        w = a.get(k)
        if isinstance(v, float) or isinstance(w, float):
            if v is None or w is None or abs(v - w) > 1e-6 * max(1.0, abs(v)):
                return False
        elif v != w:
            return False
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=120_000)
    ap.add_argument("--seed", type=int, default=20161207)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--postgres", default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
                    help="PostgreSQL URL of a role that may create databases [default: $GEOGRID_TEST_POSTGRES_URL; none: SQLite only]")  # fmt: skip
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    ap.add_argument("--child", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.repeats)))
        return 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Figures at {args.count:,} incidents (seed {args.seed}, history ending {END:%Y-%m-%d});"
          f" warm: median of {args.repeats}; {os.cpu_count()} CPUs, load average {load:.1f}")  # fmt: skip
    print("cold: the first figures request of a new process, nothing kept; restart: a new process"
          " after that one and its changes (SQLite: the sums kept beside the file);\n+report: after"
          " an incident reported this month; +old: after an incident of 2019 reopened; naive:"
          " everything loaded and grouped in Python; speed-up: naive / cold")  # fmt: skip
    figures = on_both_backends(run_backend, print_backend, args)
    return 0 if all(r["same_as_naive"] for f in figures for r in f["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
