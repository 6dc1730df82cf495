"""The figures read from the database (geogrid.db.figures) on SQLite and PostGIS: the same as
counted by hand and as the pure computation, per grouping, scoped, filtered; the per-month
cache answering the same after a change in an old month and in the current one, re-reading
only those months; and a larger generated history against the pure computation."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from geogrid.access import Actor
from geogrid.cli import main
from geogrid.db.figures import FigureReader, cache_file_of, reader
from geogrid.db.types import utcnow
from geogrid.errors import Forbidden
from geogrid.incidents import figures as F
from geogrid.incidents.policy import Policy
from geogrid.incidents.query import IncidentQuery
from geogrid.sample.incidents import generate
from geogrid.service import Service
from geogrid.usecases import figures as UF
from geogrid.usecases import incidents as U
from tests.geogrid.figures_history import (
    BY,
    CATEGORY,
    DISTRICT,
    FIRST,
    GRID,
    LAST,
    O1,
    OFFICE,
    POINT,
    TOTAL,
    A,
    records,
)

ADMIN = Actor("admin", "admin")


def same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        close = isinstance(v, float) or k.endswith("_h")  # hours: SQLite's julianday arithmetic
        assert got[k] == (pytest.approx(v, abs=1e-6) if close and v is not None else v), k


@pytest.fixture
def svc(seeded, tmp_path):
    store, v1 = seeded
    store.insert_incidents(DISTRICT, records(v1.id), actor="test")
    return Service(store, policy=Policy(photo_dir=tmp_path / "photos"))


def everything(svc):
    q = IncidentQuery.parse({"sort": "id", "limit": "1000"})
    return svc.store.search_incidents(DISTRICT, q, details=True)[1]


@pytest.mark.parametrize("by", list(BY))
def test_reader_gives_the_hand_counted_figures(svc, by):
    got = FigureReader(svc.store).figures(DISTRICT, by, FIRST, LAST)
    same(got["total"], TOTAL)
    assert set(got["groups"]) == set(BY[by])
    for key, want in BY[by].items():
        same(got["groups"][key], want)
    pure = F.compute(everything(svc), by, FIRST, LAST)
    for month, want in pure["months"].items():
        same(got["months"][month], want)


def test_category_and_scope_filters(svc):
    r = FigureReader(svc.store)
    same(r.figures(DISTRICT, "grid", FIRST, LAST, category="0504")["total"], CATEGORY["0504"])
    same(r.figures(DISTRICT, "grid", FIRST, LAST, category="06")["total"], CATEGORY["0601"])
    same(r.figures(DISTRICT, "month", FIRST, LAST, grids={A})["total"], GRID[A])
    same(r.figures(DISTRICT, "grid", FIRST, LAST, office=O1)["total"], OFFICE[O1])


def test_use_case_scopes_a_worker_to_their_grid_and_an_office_to_its_incidents(svc):
    worker = Actor("zhou", "worker", frozenset({A}))
    got = UF.figures(svc, worker, by="grid", first=FIRST, last=LAST)
    assert [g["key"] for g in got["groups"]] == [A] and got["scope"] == {"grids": [A]}
    same(got["total"], GRID[A])
    office = Actor("cg", "office", office=O1)
    same(UF.figures(svc, office, by="month", first=FIRST, last=LAST)["total"], OFFICE[O1])
    nowhere = Actor("new", "worker", frozenset())
    assert UF.figures(svc, nowhere, by="grid", first=FIRST, last=LAST)["total"]["count"] == 0
    with pytest.raises(Forbidden):
        UF.figures(svc, Actor("public", "public"), by="grid")


def test_cache_after_a_change_in_an_old_month(svc):
    r = reader(svc.store)
    before = r.figures(DISTRICT, "grid", FIRST, LAST)
    assert r.last_read == [FIRST, LAST]
    assert r.figures(DISTRICT, "grid", FIRST, LAST) == before and r.last_read == []
    # no. 14 (February, grid B) visited and passed: closing it closes one more
    feb = next(i for i in everything(svc) if i.description == "case 14")
    U.act(svc, ADMIN, feb.id, "close")
    after = r.figures(DISTRICT, "grid", FIRST, LAST)
    assert r.last_read == [LAST]  # January was kept
    assert after["total"]["closed"] == before["total"]["closed"] + 1
    assert after["groups"]["320113005001001"]["closed"] == 3
    pure = F.compute(everything(svc), "grid", FIRST, LAST)
    for key, want in pure["groups"].items():
        same(after["groups"][key], want)
    same(after["total"], pure["total"])
    # a reassignment moves an old incident to another grid: both groups follow
    jan = next(i for i in everything(svc) if i.description == "case 9")
    U.reassign(svc, ADMIN, jan.id, grid_code=A, note="belongs to A")
    moved = r.figures(DISTRICT, "grid", FIRST, LAST)
    assert r.last_read == [FIRST]
    assert moved["groups"][A]["count"] == 10 and moved["groups"]["320113005001001"]["count"] == 5


def test_cache_after_a_report_in_the_current_month(svc):
    r = reader(svc.store)
    now = F.month_of(utcnow())
    months = F.months_between(FIRST, now)
    before = r.figures(DISTRICT, "category", FIRST, now)
    inc = U.report(svc, ADMIN, *POINT, category="0601", description="井盖", dispatch=True)
    after = r.figures(DISTRICT, "category", FIRST, now)
    assert r.last_read == [now] and len(months) > 2
    assert after["total"]["count"] == before["total"]["count"] + 1
    assert after["months"][now]["count"] == before["months"].get(now, {"count": 0})["count"] + 1
    U.act(svc, ADMIN, inc.id, "resolve", note="换了井盖")
    resolved = r.figures(DISTRICT, "category", FIRST, now)
    assert r.last_read == [now]
    assert resolved["groups"]["0601"]["resolved"] == after["groups"]["0601"]["resolved"] + 1
    same(resolved["total"], F.compute(everything(svc), "category", FIRST, now)["total"])
    # another process (a new reader) sees the same from scratch
    assert FigureReader(svc.store).figures(DISTRICT, "category", FIRST, now) == resolved


def test_a_generated_history_matches_the_pure_computation(seeded):
    store, v1 = seeded
    svc = Service(store)
    end = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    _, loc = svc.current()
    rows = list(generate(loc.district, store.catalogue(), count=1500, seed=7, end=end, years=2,
                         version_id=v1.id))  # fmt: skip
    store.insert_incidents(DISTRICT, rows, actor="test")
    incs = everything(svc) if len(rows) <= 1000 else _all(svc)
    r = FigureReader(store)
    for by in F.GROUPINGS:
        got = r.figures(DISTRICT, by, "2025-01", "2026-11")
        pure = F.compute(incs, by, "2025-01", "2026-11")
        same(got["total"], pure["total"])
        assert set(got["groups"]) == set(pure["groups"])
        for key, want in pure["groups"].items():
            same(got["groups"][key], want)
        for month, want in pure["months"].items():
            same(got["months"][month], want)


def _all(svc):
    out = []
    for offset in range(0, 10_000, 1000):
        q = IncidentQuery.parse({"sort": "id", "limit": "1000", "offset": str(offset)})
        page = svc.store.search_incidents(DISTRICT, q, details=True)[1]
        out += page
        if len(page) < 1000:
            break
    return out


def test_the_command_line_gives_the_same_figures(svc, tmp_path):
    url = svc.store.engine.url.render_as_string(hide_password=False)
    run = CliRunner().invoke
    out = tmp_path / "f.csv"
    res = run(main, ["figures", "--db", url, "--by", "grid", "--from", FIRST, "--to", LAST,
                     "--format", "csv", "--output", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[A][2] == "9" and float(by_code[A][4]) == pytest.approx(5 / 8)
    assert by_code[""][1] == "合计" and by_code[""][2] == "15"
    xlsx = tmp_path / "f.xlsx"
    res = run(main, ["figures", "--db", url, "--by", "month", "--from", FIRST, "--to", LAST,
                     "--format", "xlsx", "--output", str(xlsx), "--lang", "en"])  # fmt: skip
    assert res.exit_code == 0, res.output
    ws = load_workbook(xlsx).active
    assert ws.cell(1, 1).value == "Month code" and ws.cell(2, 3).value == 9
    table = run(main, ["figures", "--db", url, "--by", "office", "--from", FIRST, "--to", LAST])
    assert table.exit_code == 0 and O1 in table.output and "50.0%" in table.output
    as_json = run(main, ["figures", "--db", url, "--by", "month", "--from", FIRST, "--to", LAST,
                         "--format", "json"])  # fmt: skip
    same(json.loads(as_json.output)["total"], TOTAL)
    bad = run(main, ["figures", "--db", url, "--from", "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    assert run(main, ["figures", "--db", url, "--format", "xlsx"]).exit_code == 2


def test_a_new_process_takes_over_the_sums_kept_beside_an_sqlite_file(svc):
    path = cache_file_of(svc.store)
    if svc.store.engine.dialect.name != "sqlite":
        assert path is None  # PostgreSQL: every process starts from the database
        return
    months = F.months_between("2025-03", LAST)  # a year and more: written to the file
    first = FigureReader(svc.store, path)
    before = first.figures(DISTRICT, "grid", months[0], LAST)
    assert path.exists() and len(first.last_read) == 12
    # a later process, after a change in January: reads January only
    jan = next(i for i in everything(svc) if i.description == "case 9")
    U.act(svc, ADMIN, jan.id, "resolve", note="处理完毕")
    second = FigureReader(svc.store, path)
    after = second.figures(DISTRICT, "grid", months[0], LAST)
    assert second.last_read == [FIRST]
    assert after["total"]["resolved"] == before["total"]["resolved"] + 1
    assert after == FigureReader(svc.store).figures(DISTRICT, "grid", months[0], LAST)
    # a file that is not one is ignored: everything read again
    path.write_bytes(b"not a cache")
    third = FigureReader(svc.store, path)
    assert third.figures(DISTRICT, "grid", FIRST, LAST)["total"] == after["total"]
    assert third.last_read == [FIRST, LAST]
