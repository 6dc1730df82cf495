"""Helpers shared by the storage tests: sample districts, modified copies, table snapshots."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path

import shapely
import sqlalchemy as sa

from geogrid.db import schema as t
from geogrid.db.types import Geometry
from geogrid.model import District, default_data_dir

#: A point in the sample district well inside second-level grid OWNER (东阳社区).
POINT = (118.93, 32.11)
OWNER = "320113005007007"
OWNER1 = "320113005007"
DISTRICT = "320113005"


@cache
def _sample() -> District:
    return District.load(default_data_dir())


def sample() -> District:
    """A fresh copy of the bundled sample district (callers may modify it)."""
    return copy_district(_sample())


def copy_district(d: District) -> District:
    return District(
        d.code,
        d.name,
        d.grids1.copy(),
        d.grids2.copy(),
        d.units.copy(),
        d.outline,
        dict(d.meta),
    )


def sibling(d: District, code: str = OWNER) -> str:
    """Another second-level grid with the same parent as ``code`` (the first by code)."""
    g2 = d.grids2
    parent = g2.loc[g2["code"] == code, "parent"].iloc[0]
    return sorted(c for c in g2.loc[g2["parent"] == parent, "code"] if c != code)[0]


def swap_grids(d: District, a: str = OWNER, b: str | None = None) -> District:
    """``d`` with the geometries of second-level grids ``a`` and ``b`` (siblings) exchanged, and
    the units of each re-assigned to the other: a valid district in which the owner of every
    point of ``a`` and ``b`` changes."""
    b = b or sibling(d, a)
    d = copy_district(d)
    g2 = d.grids2
    ia, ib = g2.index[g2["code"] == a][0], g2.index[g2["code"] == b][0]
    geoms = g2.geometry.copy()
    geoms.loc[ia], geoms.loc[ib] = g2.geometry.loc[ib], g2.geometry.loc[ia]
    d.grids2 = g2.set_geometry(geoms)
    u = d.units
    in_a, in_b = u["grid"] == a, u["grid"] == b
    u.loc[in_a, "grid"] = b
    u.loc[in_b, "grid"] = a
    return d


def with_worker(d: District, code: str, worker: str, phone: str | None) -> District:
    """``d`` with another worker named for second-level grid ``code``."""
    d = copy_district(d)
    i = d.grids2.index[d.grids2["code"] == code][0]
    d.grids2.loc[i, "worker"] = worker
    d.grids2.loc[i, "worker_phone"] = phone
    return d


def grid_value(d: District, code: str, column: str):
    g = d.grids2
    return g.loc[g["code"] == code, column].iloc[0]


# ---------------------------------------------------------------------- database snapshots
def report(svc, x, y, *, actor: str = "disp", **kw):
    """Report an incident through the use case, as a dispatcher called ``actor``."""
    from geogrid import usecases
    from geogrid.access import Actor

    return usecases.incidents.report(svc, Actor(actor, "dispatcher"), x, y, **kw)


def store_incident(store, version_id: int, *, actor: str = "disp", **kw):
    """An incident written straight into the store (what the use case would have decided)."""
    values = {
        "district_code": DISTRICT, "version_id": version_id, "lon": POINT[0], "lat": POINT[1],
        "grid_code": OWNER, "grid1_code": OWNER1, "category": "0101", "description": "",
        "channel": "phone", "state": "reported", "recurrences": 0, **kw,
    }  # fmt: skip
    return store.create_incident(values, actor=actor, note=values["description"])


def move(store, inc, state: str, *, action: str = "dispatch", actor: str = "disp", note=""):
    """Apply a step to ``inc`` in the store, moving it to ``state``."""
    return store.apply(inc, action, {"state": state}, actor=actor, note=note)


def plain(value, column):
    if value is not None and isinstance(column.type, Geometry):
        return shapely.to_wkb(value)
    return value


def table_rows(store, table: sa.Table) -> list[tuple]:
    """Every row of ``table`` in primary-key order, geometries as WKB."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(plain(v, c) for v, c in zip(r, table.columns, strict=True)) for r in rows]


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table."""
    return {table.name: table_rows(store, table) for table in t.TABLES}


def counts(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in t.TABLES
        }


# ---------------------------------------------------------------------- subprocesses
def python_env() -> dict:
    """The environment for child Python processes: this checkout importable, no stray URL."""
    env = dict(os.environ)
    env.pop("GEOGRID_DATABASE_URL", None)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Child:
    """A child Python process running ``script``, talking in lines over stdin/stdout."""

    def __init__(self, script: Path, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=python_env(),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = 60.0) -> str:
        """The next line the child prints; fails with its stderr if it dies or says nothing."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"child said nothing for {timeout} s") from None
        if line is None:
            self.lines.put(None)
            code = self.proc.wait(timeout=30)
            raise AssertionError(f"child exited ({code}): {self.proc.stderr.read()}")
        return line

    def ask(self, line: str, timeout: float = 60.0) -> str:
        self.send(line)
        return self.read(timeout)

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def close(self) -> None:
        """Kill the child if it still runs and release its pipes."""
        self.kill()
        self._reader.join(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(BrokenPipeError):
                pipe.close()
