"""GET /api/v1/figures: the hand-counted history's figures as JSON, CSV (UTF-8 with a BOM) and
Excel (read back with openpyxl), bad parameters as 400 JSON, and the scopes: a grid worker sees
their own grid only (another grid: 403), an office user its escalated incidents."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.geogrid.figures_history import (
    BY,
    DISTRICT,
    FIRST,
    GRID,
    LAST,
    O1,
    OFFICE,
    TOTAL,
    A,
    records,
)

URL = f"/api/v1/figures?from={FIRST}&to={LAST}"


@pytest.fixture(scope="module")
def fig_site(make_site):
    site = make_site("sqlite")
    store = site.store
    store.insert_incidents(DISTRICT, records(store.current_version(DISTRICT).id), actor="test")
    return site


def get(site, role, query=""):
    return site.client().get(URL + query, headers=site.headers(role))


def same(got: dict, want: dict) -> None:
    for k, v in want.items():
        close = isinstance(v, float) or k.endswith("_h")
        assert got[k] == (pytest.approx(v, abs=1e-6) if close and v is not None else v), k


@pytest.mark.parametrize("by", list(BY))
def test_json_per_grouping(fig_site, by):
    resp = get(fig_site, "dispatcher", f"&by={by}")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert (body["by"], body["from"], body["to"], body["scope"]) == (by, FIRST, LAST, {})
    same(body["total"], TOTAL)
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == set(BY[by])
    for key, want in BY[by].items():
        same(groups[key], want)
    assert [m["month"] for m in body["months"]] == [FIRST, LAST]
    assert {d["key"] for d in body["definitions"]} >= {"closure_rate", "on_time_rate", "handling"}


def test_names_of_the_groups(fig_site):
    grids = {g["key"]: g["name"]["zh"] for g in get(fig_site, "planner", "&by=grid").get_json()["groups"]}  # fmt: skip
    assert grids[A] == "东阳社区第07网格"
    cats = {g["key"]: g["name"] for g in get(fig_site, "admin", "&by=category").get_json()["groups"]}  # fmt: skip
    assert cats["0601"] == {"zh": "公用设施 / 井盖破损缺失", "en": "Public facilities / Broken or missing manhole cover"}  # fmt: skip
    offices = {g["key"]: g["name"]["zh"] for g in get(fig_site, "admin", "&by=office").get_json()["groups"]}  # fmt: skip
    assert offices[None] == "（未会办）"


def test_csv_with_bom_reads_back(fig_site):
    resp = get(fig_site, "dispatcher", "&by=grid&format=csv&lang=zh")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = resp.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:4] == ["二级网格代码", "二级网格", "上报数", "结案数"] and "按期结案率" in head
    by_code = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert by_code[A]["上报数"] == "9" and float(by_code[A]["结案率"]) == pytest.approx(5 / 8)
    assert by_code[""]["二级网格"] == "合计" and by_code[""]["上报数"] == "15"
    assert float(by_code[""]["处置时长90分位(小时)"]) == pytest.approx(60)
    en = get(fig_site, "dispatcher", "&by=grid&format=csv&lang=en").get_data().decode("utf-8-sig")
    assert en.splitlines()[0].startswith("Grid code,Grid,Reported,Closed,Closure rate")


def test_xlsx_reads_back_with_number_formats(fig_site):
    resp = get(fig_site, "admin", "&by=month&format=xlsx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(resp.get_data())).active
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert head[0] == "月份代码" and head[2] == "上报数"
    jan = dict(zip(head, rows[1], strict=True))
    assert jan["月份代码"] == FIRST and jan["上报数"] == 9 and jan["结案率"] == pytest.approx(5 / 7)
    assert jan["回访通过率"] == pytest.approx(5 / 6) and jan[
        "处置时长90分位(小时)"
    ] == pytest.approx(60)
    total = dict(zip(head, rows[-1], strict=True))
    assert total["上报数"] == 15 and total["满意率"] == pytest.approx(7 / 9)
    rate_col = head.index("结案率") + 1
    assert ws.cell(row=2, column=rate_col).number_format == "0.0%"
    assert ws.cell(row=2, column=head.index("平均处置时长(小时)") + 1).number_format == "0.0"
    assert ws.cell(row=1, column=1).font.bold


@pytest.mark.parametrize(
    "query",
    [
        "by=street", "from=2026-13", "to=26-01", "from=2026-03&to=2026-01", "format=pdf",
        "category=abc", "category=060", "lang=fr&format=csv", "period=year", "colour=red",
        "from=1000-01", "from=1990-01&to=2080-01",
    ],
)  # fmt: skip
def test_bad_parameters_are_400_json(fig_site, query):
    resp = fig_site.client().get(f"/api/v1/figures?{query}", headers=fig_site.headers("admin"))
    assert resp.status_code == 400 and resp.mimetype == "application/json"
    assert resp.get_json()["error"]["status"] == 400


def test_a_worker_sees_their_own_grid_only(fig_site):
    body = get(fig_site, "worker", "&by=grid").get_json()
    assert [g["key"] for g in body["groups"]] == [A] and body["scope"] == {"grids": [A]}
    same(body["total"], GRID[A])
    months = get(fig_site, "worker", "&by=month").get_json()
    assert sum(m["count"] for m in months["months"]) == GRID[A]["count"]
    other = get(fig_site, "worker", "&grid=320113005001001")
    assert other.status_code == 403 and A in other.get_json()["error"]["message"]
    assert get(fig_site, "worker", f"&grid={A}").status_code == 200
    csv_text = get(fig_site, "worker", "&by=grid&format=csv").get_data().decode("utf-8-sig")
    assert "320113005001001" not in csv_text and A in csv_text


def test_an_office_user_sees_its_escalated_incidents(fig_site):
    body = get(fig_site, "office", "&by=office").get_json()
    assert [g["key"] for g in body["groups"]] == [O1]
    same(body["total"], OFFICE[O1])


def test_a_grid_filter_for_the_district_roles(fig_site):
    body = get(fig_site, "dispatcher", f"&by=month&grid={A}").get_json()
    same(body["total"], GRID[A])


def test_whole_history_and_default_period(fig_site):
    body = get(fig_site, "admin", "&period=all").get_json()
    assert body["from"] == FIRST and body["total"]["count"] == 16
    default = fig_site.client().get("/api/v1/figures", headers=fig_site.headers("admin")).get_json()
    assert len(default["months"]) == 12
    assert fig_site.client().get("/api/v1/figures").status_code == 401


def test_a_served_worker_warms_the_figures_at_start(make_site):
    """``geogrid serve`` runs :func:`web.services.prewarm` in each worker: afterwards the first
    page's district-wide figures need no reading of the database."""
    from geogrid.access import SYSTEM
    from geogrid.db.figures import reader
    from geogrid.usecases import figures
    from web.services import prewarm

    site = make_site("sqlite")
    store = site.store
    store.insert_incidents(DISTRICT, records(store.current_version(DISTRICT).id), actor="test")
    prewarm(site.app).join(timeout=120)
    svc = site.service
    for by in ("grid", "month"):
        report = figures.figures(svc, SYSTEM, by=by, whole=True)
        assert reader(svc.store).last_read == [], by  # every month was already summed
        assert report["total"]["count"] >= TOTAL["count"]  # the whole history: one more
