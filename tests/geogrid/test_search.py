"""Search over units, grids, roads and addresses: Chinese substrings, code prefixes, pinyin
initials and full pinyin, ranking, coordinates, speed, and the Service's per-version index."""

from __future__ import annotations

import copy

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from geogrid import crs as _crs
from geogrid.db import Store
from geogrid.model import District, default_data_dir
from geogrid.search import MAX_LIMIT, SearchIndex, normalize, pinyin_variants
from geogrid.service import Service, seed


@pytest.fixture(scope="module")
def district() -> District:
    return District.load(default_data_dir())


@pytest.fixture(scope="module")
def index(district) -> SearchIndex:
    return SearchIndex.from_district(district)


def with_units(district: District, *units: dict) -> District:
    """A copy of ``district`` with extra units (code, name, category, address, grid, lon, lat)."""
    d = copy.copy(district)
    rows = [{k: v for k, v in u.items() if k not in ("lon", "lat")} for u in units]
    extra = gpd.GeoDataFrame(
        pd.DataFrame.from_records(
            rows, columns=[c for c in district.units.columns if c != "geometry"]
        ),
        geometry=[Point(u["lon"], u["lat"]) for u in units],
        crs="EPSG:4326",
    )
    d.units = pd.concat([district.units, extra], ignore_index=True)
    return d


def unit(code, name, lon=118.93, lat=32.11, address="南京市栖霞区测试路1号", **kw):
    return {
        "code": code,
        "name": name,
        "category": kw.get("category", "企业"),
        "address": address,
        "grid": kw.get("grid", "320113005007007"),
        "lon": lon,
        "lat": lat,
    }


# ---------------------------------------------------------------------------- matching
def test_pinyin_initials_find_the_community(index):
    hits = index.search("xhsq")
    assert (hits[0].kind, hits[0].code, hits[0].name, hits[0].match) == (
        "grid1",
        "320113005001",
        "仙鹤社区",
        "exact",
    )
    assert hits[0].matched == "pinyin"
    # 学海社区 has the same initials: both are offered, grids of the community follow
    assert [h.name for h in hits[:2]] == ["仙鹤社区", "学海社区"]
    assert hits[2].kind == "grid2" and hits[2].match == "prefix"


def test_full_pinyin_without_tones(index):
    assert index.search("xianheshequ")[0].name == "仙鹤社区"
    assert index.search("xianheshequ")[0].match == "exact"
    assert index.search("xianhesheq")[0].match == "prefix"  # still typing
    assert index.search("XianHe SheQu")[0].name == "仙鹤社区"


def test_full_pinyin_matches_start_at_a_syllable(index):
    # "anhe" is inside "xianhe" but does not start at a syllable: 仙鹤 must not match
    assert all("仙鹤" not in h.name for h in index.search("anhe", limit=MAX_LIMIT))
    # "hesheq" starts at 鹤: a substring match
    names = [h.name for h in index.search("hesheq", limit=MAX_LIMIT)]
    assert "仙鹤社区" in names


def test_chinese_substring_prefix_and_exact(index):
    hits = index.search("仙鹤社区", limit=MAX_LIMIT)
    assert hits[0].match == "exact" and hits[0].kind == "grid1"
    assert {h.match for h in hits[1:]} <= {"prefix", "substring"}
    sub = index.search("鹤社区第03", limit=5)
    assert sub[0].name == "仙鹤社区第03网格" and sub[0].match == "substring"


def test_codes_match_by_prefix_only(index, district):
    hits = index.search("320113005001", limit=MAX_LIMIT)
    assert hits[0].kind == "grid1" and hits[0].match == "exact" and hits[0].matched == "code"
    assert all(h.code.startswith("320113005001") for h in hits)
    n_grid2 = int((district.grids2["parent"] == "320113005001").sum())
    assert [h.kind for h in hits[1 : 1 + n_grid2]] == ["grid2"] * n_grid2
    unit_code = district.units["code"].iloc[100]
    hit = index.search(unit_code)[0]
    assert (hit.kind, hit.code, hit.match) == ("unit", unit_code, "exact")
    # the tail of a code is not a code match
    assert all(h.matched != "code" for h in index.search(unit_code[-8:], limit=MAX_LIMIT))


def test_addresses_and_roads(index, district):
    hit = index.search("仙林大道310号")[0]
    assert (hit.kind, hit.name, hit.match) == ("address", "仙林大道310号", "exact")
    assert hit.address == "南京市栖霞区仙林大道310号"
    members = district.units[district.units["address"] == hit.address]
    assert hit.lon == pytest.approx(float(members.geometry.x.mean()))
    road = index.search("仙林大道")[0]
    assert (road.kind, road.match) == ("road", "exact")
    on_road = district.units[district.units["address"].str.startswith("南京市栖霞区仙林大道")]
    x0, y0, x1, y1 = road.bbox
    assert on_road.geometry.x.between(x0, x1).all() and on_road.geometry.y.between(y0, y1).all()
    # units are found by their address too, below the address itself
    hits = index.search("南京市栖霞区仙林大道310号", limit=5)
    kinds = [(h.kind, h.matched) for h in hits]
    assert ("address", "address") in kinds
    assert any(k == "unit" for k, _ in kinds)
    # pinyin initials of the road
    assert index.search("xldd")[0].name == "仙林大道"


def test_grids_come_before_units_on_ties(district):
    d = with_units(district, unit("3201130050070070999", "仙鹤社区"))
    hits = SearchIndex.from_district(d).search("仙鹤社区", limit=3)
    assert [(h.kind, h.match) for h in hits[:2]] == [("grid1", "exact"), ("unit", "exact")]
    # and an exact unit beats a prefix grid
    assert hits[2].kind == "grid2" and hits[2].match == "prefix"


def test_exact_beats_prefix_beats_substring(district):
    d = with_units(
        district,
        unit("3201130050070070901", "甲乙丙"),
        unit("3201130050070070902", "甲乙丙丁"),
        unit("3201130050070070903", "戊甲乙丙"),
    )
    hits = SearchIndex.from_district(d).search("甲乙丙")
    assert [(h.name, h.match) for h in hits[:3]] == [
        ("甲乙丙", "exact"),
        ("甲乙丙丁", "prefix"),
        ("戊甲乙丙", "substring"),
    ]


def test_polyphonic_characters(district):
    # pypinyin reads 支行 as "zhi xing"; the right reading "zhi hang" must also be found
    d = with_units(district, unit("3201130050070070911", "南京银行仙林支行"))
    idx = SearchIndex.from_district(d)
    for q in ("njyhxlzh", "njyhxlzx", "yinhang", "xianlinzhihang"):
        assert "南京银行仙林支行" in [h.name for h in idx.search(q)], q
    initials, full = pinyin_variants("长乐路")
    assert "cll" in initials and "zll" in initials  # 长 chang/zhang
    assert full[0] == "chang le lu"  # the phrase-aware reading comes first


def test_letters_and_digits_in_names_stay_whole():
    assert pinyin_variants("KTV量贩")[0] == ["ktvlf"]
    assert pinyin_variants("仙鹤社区第01网格")[0][0] == "xhsqd01wg"
    assert pinyin_variants("（）") == ([], [])


def test_xss_name_is_only_text(district):
    bad = "<img src=x onerror=alert(1)>"
    idx = SearchIndex.from_district(with_units(district, unit("3201130050070070921", bad)))
    hit = idx.search("<img")[0]
    assert hit.name == bad and hit.to_dict()["name"] == bad


def test_normalisation_and_limits(index):
    assert normalize("  ＸＨ　ＳＱ ") == "xhsq"
    assert index.search("") == [] and index.search("   ") == []
    assert index.search("ＸＨＳＱ")[0].name == "仙鹤社区"
    assert len(index.search("x", limit=3)) == 3
    assert len(index.search("x", limit=10_000)) == MAX_LIMIT
    assert len(index.search("x", limit=0)) == 1
    assert index.search("没有这个名字的单位") == []


def test_points_and_boxes(index, district):
    for code in district.grids2["code"][:20]:
        hit = index.search(code)[0]
        poly = district.grid2(code).geometry
        assert hit.kind == "grid2" and poly.contains(Point(hit.lon, hit.lat))
        assert tuple(hit.bbox) == pytest.approx(poly.bounds)
    row = district.units.iloc[7]
    hit = index.search(row["code"])[0]
    assert (hit.lon, hit.lat) == (row.geometry.x, row.geometry.y)
    assert hit.bbox is None and hit.grid == row["grid"] and hit.category == row["category"]


def test_to_dict_converts_for_amap(index):
    hit = index.search("320113005007007")[0]
    wgs, gcj = hit.to_dict(), hit.to_dict("gcj02")
    lon, lat = _crs.from_wgs84(hit.lon, hit.lat, "gcj02")
    assert (gcj["lon"], gcj["lat"]) == (round(lon, 7), round(lat, 7))
    assert (wgs["lon"], wgs["lat"]) == (round(hit.lon, 7), round(hit.lat, 7))
    x0, y0 = _crs.from_wgs84(hit.bbox[0], hit.bbox[1], "gcj02")
    assert gcj["bbox"][:2] == pytest.approx([x0, y0], abs=1e-7)
    assert gcj["bbox"][0] - wgs["bbox"][0] > 0.004  # about 475 m east
    assert set(wgs) >= {"kind", "code", "name", "lon", "lat", "bbox", "match", "matched", "parent"}


# ---------------------------------------------------------------------------- service
def test_service_keeps_one_index_per_version(district):
    store = Store("sqlite://")
    try:
        svc = Service.bootstrap(store, check_interval=0)
        first = svc.search_index()
        assert svc.search_index() is first
        assert svc.search("xhsq")[0].name == "仙鹤社区"
        assert svc.search("测试新单位") == []
        seed(store, with_units(district, unit("3201130050070070931", "测试新单位")))
        assert svc.search_index() is not first
        hit = svc.search("csxdw")[0]
        assert (hit.name, hit.code) == ("测试新单位", "3201130050070070931")
    finally:
        store.dispose()


def test_grid_points_lie_inside_their_grids(index, district):
    pts = shapely.points(
        [(h.lon, h.lat) for h in (index.search(c)[0] for c in district.grids1["code"])]
    )
    assert shapely.contains(district.grids1.geometry.values, pts).all()
