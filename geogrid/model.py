"""The district as geogrid holds it in memory: outline, two levels of grids and the units.

A :class:`District` is four layers in WGS-84 longitude/latitude:

``outline``
    the sub-district's territory (one polygon, or ``None`` when unknown);
``grids1``
    first-level grids (one per community) with their sub-district leader and bound service office;
``grids2``
    second-level grids with their grid worker; every point of the territory lies in exactly one;
``units``
    third-level grids: the companies, schools, shops and compounds, kept as points.

On disk a district is a directory of GeoJSON files (RFC 7946), one per layer; see
``boundaries/README.md`` for the schema of each.

>>> d = District.load(default_data_dir())
>>> d.code, d.name, len(d.grids1), len(d.grids2), len(d.units)
('320113005', '仙林街道', 10, 156, 1786)
>>> d.grid2("320113005001001")["parent"]
'320113005001'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from .errors import DataError, NotFound

#: File name of each layer inside a district directory.
LAYER_FILES = {
    "district": "district.geojson",
    "grids1": "grids_level1.geojson",
    "grids2": "grids_level2.geojson",
    "units": "units.geojson",
}

#: Attribute columns of each layer, in order (the geometry column comes last).
GRID1_COLUMNS = [
    "code",
    "name",
    "parent",
    "leader",
    "leader_title",
    "leader_phone",
    "office",
    "office_phone",
]
GRID2_COLUMNS = ["code", "name", "parent", "kind", "worker", "worker_phone"]
UNIT_COLUMNS = [
    "code",
    "name",
    "category",
    "address",
    "head",
    "head_phone",
    "grid",
    "households",
    "residents",
]
LAYER_COLUMNS = {"grids1": GRID1_COLUMNS, "grids2": GRID2_COLUMNS, "units": UNIT_COLUMNS}

#: Decimal places kept for longitude/latitude on disk: 1e-7 degree is about 1 cm here.
COORD_DECIMALS = 7

#: Columns that hold integers (nullable: only compounds and campuses have households).
INT_COLUMNS = {"households", "residents"}


def default_data_dir() -> Path:
    """The bundled sample district (``boundaries/`` beside the package)."""
    return Path(__file__).resolve().parent.parent / "boundaries"


def _frame(records: list[dict], columns: list[str], geometries) -> gpd.GeoDataFrame:
    df = pd.DataFrame.from_records(records, columns=columns)
    for col in columns:
        if col in INT_COLUMNS:
            df[col] = pd.array(df[col], dtype="Int64")
        else:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return gpd.GeoDataFrame(df, geometry=list(geometries), crs="EPSG:4326")


def empty_layer(layer: str) -> gpd.GeoDataFrame:
    """An empty frame with the columns of ``layer`` ('grids1', 'grids2' or 'units')."""
    return _frame([], LAYER_COLUMNS[layer], [])


@dataclass
class District:
    """A sub-district's boundary data: outline, first- and second-level grids, units."""

    code: str
    name: str
    grids1: gpd.GeoDataFrame
    grids2: gpd.GeoDataFrame
    units: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("units"))
    outline: shapely.Geometry | None = None
    meta: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    @cached_property
    def _grid1_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.grids1["code"])}

    @cached_property
    def _grid2_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.grids2["code"])}

    def grid1(self, code: str) -> pd.Series:
        """The first-level grid with this code; :class:`NotFound` if there is none."""
        try:
            return self.grids1.iloc[self._grid1_index[code]]
        except KeyError:
            raise NotFound(f"no first-level grid with code {code!r}") from None

    def grid2(self, code: str) -> pd.Series:
        """The second-level grid with this code; :class:`NotFound` if there is none."""
        try:
            return self.grids2.iloc[self._grid2_index[code]]
        except KeyError:
            raise NotFound(f"no second-level grid with code {code!r}") from None

    def territory(self) -> shapely.Geometry:
        """The outline, or the union of the second-level grids when no outline is known."""
        if self.outline is not None:
            return self.outline
        return shapely.coverage_union_all(self.grids2.geometry.values)

    # ------------------------------------------------------------------ files
    @classmethod
    def load(cls, path: str | Path) -> District:
        """Read a district directory written by :meth:`save` (or by ``geogrid sample``)."""
        path = Path(path)
        if not path.is_dir():
            raise DataError(f"{path}: not a district directory")
        outline_fc = _read_fc(path / LAYER_FILES["district"], required=False)
        code, name, outline, meta = "", "", None, {}
        if outline_fc and outline_fc["features"]:
            feat = outline_fc["features"][0]
            props = dict(feat.get("properties") or {})
            code, name = str(props.pop("code", "")), str(props.pop("name", ""))
            outline = _geometry(feat, path / LAYER_FILES["district"], 0)
            meta = props
        layers = {}
        for key in ("grids1", "grids2", "units"):
            fc = _read_fc(path / LAYER_FILES[key], required=key != "units")
            layers[key] = (
                _layer_from_fc(fc, key, path / LAYER_FILES[key]) if fc else empty_layer(key)
            )
        if not code and len(layers["grids1"]):
            code = str(layers["grids1"]["parent"].iloc[0] or "")
        return cls(code, name, layers["grids1"], layers["grids2"], layers["units"], outline, meta)

    def save(self, path: str | Path) -> None:
        """Write the four layers as RFC 7946 GeoJSON files into directory ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.outline is not None:
            props = {"code": self.code, "name": self.name, **self.meta}
            _write_fc(path / LAYER_FILES["district"], [(props, self.outline)])
        for key in ("grids1", "grids2", "units"):
            frame = getattr(self, key)
            cols = LAYER_COLUMNS[key]
            level = {"grids1": 1, "grids2": 2}.get(key)
            rows = []
            for rec, geom in zip(frame[cols].to_dict("records"), frame.geometry, strict=True):
                props = {k: plain(v) for k, v in rec.items()}
                if level:
                    props = {"code": props["code"], "name": props["name"], "level": level, **props}
                rows.append((props, geom))
            _write_fc(path / LAYER_FILES[key], rows)


# ---------------------------------------------------------------------- GeoJSON helpers
def plain(value):
    """A JSON-ready value (numpy/pandas scalars and missing values made plain)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _read_fc(file: Path, required: bool) -> dict | None:
    if not file.exists():
        if required:
            raise DataError(f"{file}: missing layer file")
        return None
    try:
        fc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{file}: not readable GeoJSON ({exc})") from None
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise DataError(f"{file}: not a GeoJSON FeatureCollection")
    return fc


def _geometry(feature: dict, file: Path, i: int):
    try:
        return shape(feature["geometry"])
    except Exception as exc:  # shapely raises several types for malformed geometry
        raise DataError(f"{file}: feature {i} has no valid geometry ({exc})") from None


def _layer_from_fc(fc: dict, key: str, file: Path) -> gpd.GeoDataFrame:
    cols = LAYER_COLUMNS[key]
    records, geoms = [], []
    for i, feat in enumerate(fc.get("features", [])):
        props = feat.get("properties") or {}
        records.append({c: props.get(c) for c in cols})
        geoms.append(_geometry(feat, file, i))
    for rec in records:
        for c in ("code", "parent", "grid"):
            if c in rec and rec[c] is not None:
                rec[c] = str(rec[c])
    return _frame(records, cols, geoms)


def _round_coords(geom_mapping):
    def rnd(c):
        if isinstance(c[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) for v in c]
        return [rnd(x) for x in c]

    out = dict(geom_mapping)
    out["coordinates"] = rnd(geom_mapping["coordinates"])
    return out


def feature_collection(rows) -> dict:
    """A GeoJSON FeatureCollection from ``(properties, geometry)`` pairs, coordinates rounded."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": _round_coords(mapping(geom))}
            for props, geom in rows
        ],
    }


def _write_fc(file: Path, rows) -> None:
    """Write a FeatureCollection with one feature per line (stable, diff-friendly output)."""
    fc = feature_collection(rows)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in fc["features"]]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    tmp = file.with_suffix(file.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(file)
