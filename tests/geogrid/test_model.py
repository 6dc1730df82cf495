"""Reading and writing district directories."""

from __future__ import annotations

import json

import pytest

from geogrid.errors import DataError, NotFound
from geogrid.model import District, default_data_dir


def test_round_trip_is_byte_identical(tmp_path):
    d = District.load(default_data_dir())
    d.save(tmp_path)
    for f in ("district.geojson", "grids_level1.geojson", "grids_level2.geojson", "units.geojson"):
        assert (tmp_path / f).read_bytes() == (default_data_dir() / f).read_bytes()
    again = District.load(tmp_path)
    assert again.units["households"].dtype.name == "Int64"
    assert again.grid2("320113005001001")["name"] == d.grid2("320113005001001")["name"]


def test_rfc7946_output(tmp_path):
    District.load(default_data_dir()).save(tmp_path)
    fc = json.loads((tmp_path / "grids_level2.geojson").read_text(encoding="utf-8"))
    assert "crs" not in fc
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 118 < lon < 119 and 32 < lat < 33  # longitude first
    assert "网格" in (tmp_path / "grids_level2.geojson").read_text(
        encoding="utf-8"
    )  # not \\u-escaped


def test_lookup_errors():
    d = District.load(default_data_dir())
    with pytest.raises(NotFound, match="999"):
        d.grid2("999")
    with pytest.raises(NotFound):
        d.grid1("320113005999")


def test_unreadable_directories(tmp_path):
    with pytest.raises(DataError, match="not a district directory"):
        District.load(tmp_path / "missing")
    with pytest.raises(DataError, match="missing layer"):
        District.load(tmp_path)
    (tmp_path / "grids_level1.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not readable GeoJSON"):
        District.load(tmp_path)
    (tmp_path / "grids_level1.geojson").write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(DataError, match="FeatureCollection"):
        District.load(tmp_path)
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon"}}],
    }
    (tmp_path / "grids_level1.geojson").write_text(json.dumps(fc), encoding="utf-8")
    (tmp_path / "grids_level2.geojson").write_text(json.dumps(fc), encoding="utf-8")
    with pytest.raises(DataError, match="feature 0"):
        District.load(tmp_path)
