"""The feature collections of a boundary version, built once per version and kept: every
feature's GeoJSON written ahead per output CRS, so that a page of features is a join of
ready bytes and a box query a comparison of arrays.

A :class:`Layer` is immutable once built (tuples and read-only arrays; nothing is prepared on
its geometries), so any number of threads may read it at once; building happens under a lock,
once per version, collection and CRS.

>>> from geogrid.model import District, default_data_dir
>>> layer = build_layer(District.load(default_data_dir()), "grids2")
>>> len(layer.ids), layer.geometry_type
(156, 'polygon')
>>> page = layer.select(bbox=(118.92, 32.10, 118.93, 32.11))
>>> 0 < len(page) < 156
True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import orjson
import shapely

from ..errors import NotFound
from ..model import District, plain
from .crs import to_crs

#: Collection id → (the District frame it comes from, its properties, the properties it may be
#: filtered on, its geometry type as OGC API's collection document names it).
BOUNDARY_LAYERS = {
    "district": (None, ("code", "name"), ("code", "name"), "polygon"),
    "grids1": (
        "grids1",
        ("code", "name", "parent", "leader", "leader_title", "leader_phone", "office",
         "office_phone"),
        ("code", "name", "office"),
        "polygon",
    ),
    "grids2": (
        "grids2",
        ("code", "name", "parent", "kind", "worker", "worker_phone"),
        ("code", "name", "parent", "kind", "worker"),
        "polygon",
    ),
    "units": (
        "units",
        ("code", "name", "category", "address", "head", "head_phone", "grid", "households",
         "residents"),
        ("code", "name", "category", "grid"),
        "point",
    ),
}  # fmt: skip
#: Versions whose layers a service keeps (each layer a few MB of ready GeoJSON at most).
KEEP = 16


def feature_bytes(fid, geometry_json: str, props: dict) -> bytes:
    """One GeoJSON feature, from its id, its geometry already written and its properties."""
    return b"".join(
        (
            b'{"type":"Feature","id":',
            orjson.dumps(fid),
            b',"geometry":',
            geometry_json.encode(),
            b',"properties":',
            orjson.dumps(props, option=orjson.OPT_SERIALIZE_NUMPY),
            b"}",
        )
    )


@dataclass(frozen=True)
class Layer:
    """One collection of one version: feature ids, properties, WGS-84 geometries and their
    bounds, and the values of the properties it may be filtered on."""

    collection: str
    geometry_type: str
    ids: tuple[str, ...]
    properties: tuple[dict, ...]
    geometries: np.ndarray
    bounds: np.ndarray  # n × 4: west, south, east, north
    values: dict  # queryable → np.ndarray of str (None as "")
    grids: np.ndarray  # the second-level grid of each feature (units), else empty

    def select(self, *, bbox=None, filters=(), scope=None) -> np.ndarray:
        """Indices of the features, in order, in the WGS-84 ``bbox`` (touching it counts),
        with every ``(property, value)`` of ``filters``, and in the grids of ``scope``."""
        keep = np.ones(len(self.ids), dtype=bool)
        for name, value in filters:
            keep &= self.values[name] == value
        if scope is not None:
            keep &= np.isin(self.grids, sorted(scope))
        if bbox is not None:
            w, s, e, n = bbox
            b = self.bounds
            keep &= (b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s)
            idx = np.flatnonzero(keep)
            if self.geometry_type != "point" and len(idx):  # exact test of the candidates
                hit = shapely.intersects(self.geometries[idx], shapely.box(w, s, e, n))
                idx = idx[hit]
            return idx
        return np.flatnonzero(keep)

    def index_of(self, fid: str) -> int:
        try:
            return self.ids.index(fid)
        except ValueError:
            raise NotFound(f"no feature {fid[:40]!r} in collection {self.collection}") from None

    def encode(self, crs: str) -> tuple[bytes, ...]:
        """Every feature as GeoJSON bytes, geometry in ``crs``."""
        geoms = self.geometries if crs == "CRS84" else to_crs(self.geometries, crs)
        written = shapely.to_geojson(geoms)
        return tuple(
            feature_bytes(fid, g, p)
            for fid, g, p in zip(self.ids, written, self.properties, strict=True)
        )


def build_layer(district: District, collection: str) -> Layer:
    """The :class:`Layer` of ``collection`` (a key of :data:`BOUNDARY_LAYERS`) of a district."""
    source, props, queryables, kind = BOUNDARY_LAYERS[collection]
    if source is None:
        recs = [{"code": district.code, "name": district.name}]
        geoms = np.array([district.territory()], dtype=object)
    else:
        frame = getattr(district, source)
        recs = frame.drop(columns="geometry").to_dict("records")
        geoms = np.asarray(frame.geometry.values, dtype=object)
    properties = tuple({k: plain(r.get(k)) for k in props} for r in recs)
    bounds = shapely.bounds(geoms) if len(geoms) else np.empty((0, 4))
    bounds.setflags(write=False)
    geoms.setflags(write=False)
    values = {}
    for q in queryables:
        col = np.array(["" if p[q] is None else str(p[q]) for p in properties], dtype=object)
        col.setflags(write=False)
        values[q] = col
    grids = (
        np.array([p.get("grid") for p in properties], dtype=object)
        if collection == "units"
        else np.empty(0)
    )
    return Layer(
        collection, kind, tuple(str(p["code"]) for p in properties), properties, geoms, bounds,
        values, grids,
    )  # fmt: skip


class LayerCache:
    """Layers and their encodings, per district object (a version with the people on duty:
    a roster change or a new version gives a new one) and collection; thread-safe."""

    def __init__(self, keep: int = KEEP):
        self._keep = keep
        self._lock = threading.Lock()
        self._layers: OrderedDict = OrderedDict()
        self._encoded: OrderedDict = OrderedDict()

    def _get(self, table: OrderedDict, key, district, make, size: int):
        with self._lock:
            held = table.get(key)
            if held is not None and held[0] is district:
                table.move_to_end(key)
                return held[1]
            value = make()
            table[key] = (district, value)
            while len(table) > size:
                table.popitem(last=False)
            return value

    def layer(self, version_id: int, district: District, collection: str) -> Layer:
        return self._get(
            self._layers, (version_id, collection), district,
            lambda: build_layer(district, collection), self._keep,
        )  # fmt: skip

    def encoded(self, version_id: int, district: District, collection: str, crs: str):
        layer = self.layer(version_id, district, collection)
        return self._get(
            self._encoded, (version_id, collection, crs), district,
            lambda: layer.encode(crs), self._keep * 2,
        )  # fmt: skip


__all__ = ["BOUNDARY_LAYERS", "Layer", "LayerCache", "build_layer", "feature_bytes"]
