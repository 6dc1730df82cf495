"""A locate request's input is parsed once: the view turns ``lon``/``lat``/``crs`` into one
``usecases.locating.Point`` that goes down to the locator unchanged."""

from __future__ import annotations

import pytest

import geogrid.crs as C


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
def test_crs_and_coordinates_are_parsed_once_per_request(client, tokens, monkeypatch, crs):
    calls = {"normalize_crs": 0, "parse_coordinate": 0}
    for name in calls:
        real = getattr(C, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(C, name, counted)
    resp = client.get(
        f"/api/v1/locate?lon=118.935&lat=32.108&crs={crs}&units=3",
        headers={"Authorization": f"Bearer {tokens['dispatcher']}"},
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["grid2"]["code"]
    assert calls == {"normalize_crs": 1, "parse_coordinate": 2}
