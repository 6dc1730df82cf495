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
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "geogrid" / "db"))
from geogrid_db_support import POINT, Child, sample, swap_grids  # noqa: E402

from geogrid.db import Store  # noqa: E402
from geogrid.service import Service  # noqa: E402

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
    district = sample()
    x, y = POINT  # swapping its grid's geometry with a sibling's moves its owner
    script = tmp / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    procs = [Child(script, url) for _ in range(args.processes)]
    commits: list[float] = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(time.monotonic()))
    lags: list[list[float]] = []
    try:
        for p in procs:
            p.ask(f"{x!r} {y!r}")  # each has built version 1
        versions = [swap_grids(district), district]
        for k in range(args.publishes):
            draft = store.create_version(versions[k % 2], actor="bench")
            time.sleep(args.pause)  # publishes are rare: let the last one's background work end
            commits.clear()
            published = store.publish(draft.id, actor="bench")
            committed = commits[0]
            seen = [0.0] * len(procs)

            def poll(i, p, number=published.number, seen=seen, committed=committed):
                while json.loads(p.ask(f"{x!r} {y!r}"))["version"] != number:
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
