"""How soon other processes answer from a newly published version (the one-second target).

Run from the repository root::

    .venv/bin/python bench/switch_bench.py [--processes N] [--publishes K] [--db URL]

It seeds a database (a temporary SQLite file unless ``--db`` names an empty one), starts N
processes that each run a :class:`geogrid.service.Service` as the web service does (a watcher
thread checking every 0.1 s), then publishes K new versions from this process, alternately moving
a fixed point between two grids. After each commit it asks every process, from its own thread,
again and again, until that process answers from the new version; the time from the commit to that
answer is the switch lag. It prints the median and the maximum per publish and overall, and
whether every switch took less than a second. (The tests check that processes switch without a
restart and build one locator per version; the time is measured here, since timed assertions in
tests are flaky on a shared machine.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import shapely
import sqlalchemy as sa

from geogrid.db import Store
from geogrid.model import District, default_data_dir
from geogrid.service import Service

SERVER = textwrap.dedent(
    """
    import json, sys
    from geogrid.db import Store
    from geogrid.service import Service

    svc = Service(Store(sys.argv[1]), watch=True, check_interval=0.1)
    for line in sys.stdin:
        x, y = map(float, line.split())
        answer = svc.locate(x, y)
        print(json.dumps({"version": svc.current()[0].number, "code": answer.grid2.code}), flush=True)
    """
)
TARGET_S = 1.0


class Process:
    def __init__(self, script: Path, url: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(script), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, x: float, y: float) -> dict:
        self.proc.stdin.write(f"{x!r} {y!r}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def swapped(district: District, a: str, b: str) -> District:
    """The district with the codes (and names) of grids ``a`` and ``b`` swapped."""
    d = District(
        district.code,
        district.name,
        district.grids1,
        district.grids2.copy(),
        district.units,
        district.outline,
        district.meta,
    )
    g = d.grids2
    ia, ib = g.index[g["code"] == a][0], g.index[g["code"] == b][0]
    g.loc[[ia, ib], ["code", "name"]] = g.loc[[ib, ia], ["code", "name"]].to_numpy()
    d.units = district.units.assign(grid=district.units["grid"].replace({a: b, b: a}))
    d.units["code"] = d.units["grid"] + d.units["code"].str[15:]
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--publishes", type=int, default=6)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between publishes")
    ap.add_argument(
        "--db", default=None, help="an empty database (default: a temporary SQLite file)"
    )
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="geogrid-switch-"))
    url = args.db or f"sqlite:///{tmp / 'switch.sqlite3'}"
    store = Store(url)
    Service.bootstrap(store)
    district = District.load(default_data_dir())
    # a point well inside a grid that shares an edge with a sibling: swapping their codes moves it
    g = district.grids2
    a = g["code"].iloc[0]
    b = next(
        c
        for c in g["code"]
        if c != a
        and c[:12] == a[:12]
        and g.geometry[g["code"] == c].iloc[0].touches(g.geometry.iloc[0])
    )
    x, y = shapely.get_coordinates(g.geometry.iloc[0].representative_point())[0].tolist()
    script = tmp / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    procs = [Process(script, url) for _ in range(args.processes)]
    commits: list[float] = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(time.monotonic()))
    lags: list[list[float]] = []
    try:
        for p in procs:
            p.ask(x, y)  # each has built version 1
        versions = [swapped(district, a, b), district]
        for k in range(args.publishes):
            draft = store.create_version(versions[k % 2], actor="bench")
            time.sleep(args.pause)  # publishes are rare: let the last one's background work end
            commits.clear()
            published = store.publish(draft.id, actor="bench")
            committed = commits[0]
            seen = [0.0] * len(procs)

            def poll(i, p, number=published.number, seen=seen, committed=committed):
                while p.ask(x, y)["version"] != number:
                    time.sleep(0.005)
                seen[i] = time.monotonic() - committed

            threads = [threading.Thread(target=poll, args=(i, p)) for i, p in enumerate(procs)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            lags.append(seen)
            print(
                f"publish {k + 1} (version {published.number}): "
                + ", ".join(f"{s:.2f} s" for s in seen)
            )
    finally:
        for p in procs:
            p.close()
        store.dispose()
    flat = np.array(lags).ravel()
    ok = flat.max() < TARGET_S
    print(
        f"\n{args.processes} processes, {args.publishes} publishes: switch lag median {statistics.median(flat):.2f} s,"
        f" max {flat.max():.2f} s — {'PASS' if ok else 'FAIL'} (target < {TARGET_S:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
