"""The bundled sample district keeps every promise boundaries/README.md makes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from geogrid import crs, sample
from geogrid.model import District, default_data_dir
from geogrid.validate import validate


@pytest.fixture(scope="module")
def d() -> District:
    return District.load(default_data_dir())


def test_counts(d):
    assert (d.code, d.name) == ("320113005", "仙林街道")
    assert len(d.grids1) == 10
    assert len(d.grids2) == 156
    assert len(d.units) == 1786
    sizes = d.grids2.groupby("parent").size()
    assert sizes.min() >= 13 and sizes.max() <= 18
    counts = d.units["category"].value_counts().to_dict()
    assert counts == sample.UNIT_COUNTS
    assert (counts["高校"], counts["住宅小区"], counts["商业街区"]) == (12, 40, 9)
    assert int(d.units["residents"].sum()) == 260_000


def test_place_and_area(d):
    minx, miny, maxx, maxy = d.outline.bounds
    assert minx >= 118.88 and maxx <= 118.98 and miny >= 32.07 and maxy <= 32.15
    area = float(crs.area_m2(d.outline))
    assert area == pytest.approx(32.67e6, rel=1e-3)
    assert d.meta["sample"] is True and "示例数据" in d.meta["note"]
    # irregular, not a box or a circle: its convex hull is clearly bigger
    assert float(crs.area_m2(d.outline.convex_hull)) > 1.03 * area


def test_valid_coverage_and_nesting(d):
    g2 = d.grids2.geometry.values
    assert (shapely.get_type_id(g2) == 3).all()  # every grid one Polygon
    assert all(len(p.interiors) == 0 for p in g2)
    assert shapely.coverage_is_valid(crs.geometry_to_metric(g2), gap_width=1.0)
    union = shapely.coverage_union_all(g2)
    assert union.equals(d.outline)
    for code, g1 in zip(d.grids1["code"], d.grids1.geometry, strict=True):
        children = d.grids2[d.grids2["parent"] == code].geometry.values
        assert shapely.coverage_union_all(children).equals(g1)
    report = validate(d)
    assert report.ok, report.format_text()
    assert {f.check for f in report.notices} <= {"size-large", "size-small"}


def test_sizes_vary_like_a_town(d):
    area = crs.area_m2(d.grids2.geometry.values)
    assert area.max() / np.median(area) > 4  # campuses
    assert area.min() / np.median(area) < 0.6  # compact compounds
    longest = [
        np.hypot(*np.diff(np.asarray(shapely.oriented_envelope(m).exterior.coords), axis=0).T).max()
        for m in crs.geometry_to_metric(d.grids2.geometry.values)
    ]
    assert max(t**2 / a for t, a in zip(longest, area, strict=True)) < 20  # no slivers


def test_codes(d):
    assert d.grids1["code"].str.fullmatch(r"320113005\d{3}").all()
    assert d.grids2["code"].str.fullmatch(r"320113005\d{6}").all()
    assert d.units["code"].str.fullmatch(r"320113005\d{10}").all()
    assert (d.grids2["code"].str[:12] == d.grids2["parent"]).all()
    assert (d.units["code"].str[:15] == d.units["grid"]).all()
    assert d.grids1["code"].tolist() == [f"320113005{i:03d}" for i in range(1, 11)]
    for parent, group in d.grids2.groupby("parent"):
        assert group["code"].tolist() == [f"{parent}{i:03d}" for i in range(1, len(group) + 1)]
    # reading order: the first grid of each community lies in its northern band
    for code, g1 in zip(d.grids1["code"], d.grids1.geometry, strict=True):
        first = d.grids2[d.grids2["code"] == code + "001"].geometry.iloc[0]
        minx, miny, maxx, maxy = g1.bounds
        assert first.centroid.y > miny + 0.5 * (maxy - miny)


def test_units_inside_their_grids_and_people(d):
    grids = d.grids2.set_index("code").geometry
    inside = shapely.contains(grids.loc[d.units["grid"]].values, d.units.geometry.values)
    assert inside.all()
    assert d.units["name"].is_unique
    for col in ("name", "address", "head", "head_phone"):
        assert d.units[col].notna().all()
    assert (
        d.grids2["worker"].notna().all()
        and d.grids2["worker_phone"].str.fullmatch(r"1\d{10}").all()
    )
    assert d.grids1["leader"].notna().all() and d.grids1["office"].is_unique
    compounds = d.units[d.units["category"] == "住宅小区"]
    assert (
        compounds["households"].notna().all()
        and (compounds["residents"] > compounds["households"]).all()
    )
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in d.units["name"])


def test_generator_is_reproducible_and_seeded(tmp_path):
    a = sample.generate(seed=7)
    b = sample.generate(seed=7)
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    for name in (
        "district.geojson",
        "grids_level1.geojson",
        "grids_level2.geojson",
        "units.geojson",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    c = sample.generate(seed=8)
    assert not c.grids2.geometry.iloc[0].equals(a.grids2.geometry.iloc[0])
    assert len(c.grids2) == 156 and validate(c).ok
