"""A GeoJSON body nested a thousand levels deep (10 KB) is refused with a JSON 400, not a 500
from a RecursionError while the answers are written back."""

from __future__ import annotations

import json

import pytest

from geogrid.bulk import MAX_DEPTH

POINT = {"type": "Point", "coordinates": [118.93, 32.11]}


def nested(levels: int):
    value = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def deep_body(levels: int, kind: str) -> str:
    # json.dumps recurses: build the text by hand, as an attacker would
    props = '{"a":' * levels + "1" + "}" * levels
    feature = f'{{"type":"Feature","geometry":{json.dumps(POINT)},"properties":{props}}}'
    if kind == "Feature":
        return feature
    return f'{{"type":"FeatureCollection","features":[{feature}]}}'


def post(site, body: str, content_type: str, role: str = "dispatcher"):
    headers = {**site.headers(role), "Content-Type": content_type}
    return site.client().post("/api/v1/locate", data=body, headers=headers)


@pytest.mark.parametrize("kind", ["FeatureCollection", "Feature"])
@pytest.mark.parametrize("content_type", ["application/geo+json", "application/json"])
def test_deeply_nested_properties_are_a_400(site, kind, content_type):
    body = deep_body(1000, kind)
    assert len(body) < 12_000
    resp = post(site, body, content_type)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    error = resp.get_json()["error"]
    assert error["status"] == 400
    assert f"deeper than {MAX_DEPTH} levels" in error["message"]
    if kind == "FeatureCollection":
        assert "feature 1" in error["message"]


def test_nesting_within_the_limit_is_answered(site):
    feature = {"type": "Feature", "geometry": POINT, "properties": {"deep": nested(MAX_DEPTH - 3)}}
    body = json.dumps({"type": "FeatureCollection", "features": [feature]})
    resp = post(site, body, "application/geo+json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    out = resp.get_json()["features"][0]["properties"]
    assert out["grid2_code"] == "320113005007007"
    assert out["deep"] == nested(MAX_DEPTH - 3)
