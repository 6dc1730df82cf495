"""The whole dataset to and from one GeoPackage, so a deployment can move between SQLite and
PostGIS (and back) without loss.

The file holds the tables with geometry as GeoPackage layers (``grids``, ``units``,
``incidents``: open them in QGIS) and every other table as JSON in the attribute table
``geogrid_dump``, with the format version. Primary keys are kept, so every reference survives.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import sqlalchemy as sa

from ..errors import Conflict, DataError
from . import schema as t
from .store import Store
from .types import Geometry, UTCDateTime, utcnow

FORMAT = "geogrid-dump/1"
_SPATIAL = {"grids": t.grids, "units": t.units, "incidents": t.incidents}


def plain(value, column):
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return value.isoformat()
    return value


def _column(values: list, column) -> pd.Series:
    """A typed column for the GeoPackage: nullable integers stay integers, JSON becomes text."""
    if isinstance(column.type, sa.JSON):
        return pd.Series([json.dumps(v, ensure_ascii=False) for v in values], dtype=object)
    if isinstance(column.type, sa.Boolean):
        return pd.Series(values, dtype="boolean")
    if isinstance(column.type, sa.Integer):
        return pd.Series(values, dtype="Int64")
    if isinstance(column.type, sa.Float):
        return pd.Series(values, dtype="float64")
    return pd.Series([plain(v, column) for v in values], dtype=object)


def _restore_value(value, column):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, sa.JSON):
        return json.loads(value) if isinstance(value, str) else value
    if isinstance(column.type, sa.Integer):
        return int(value)
    if isinstance(column.type, sa.Boolean):
        return bool(value)
    if isinstance(column.type, sa.Float):
        return float(value)
    return value


def dump(store: Store, path: str | Path) -> dict:
    """Write every table of ``store`` into the GeoPackage ``path`` (replaced atomically).
    Returns the number of rows per table."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    counts, other = {}, {}
    # one consistent snapshot: on PostgreSQL every SELECT of a REPEATABLE READ transaction sees
    # the same committed state (SQLite's transactions are snapshots already)
    options = {"isolation_level": "REPEATABLE READ"} if store.dialect == "postgresql" else {}
    with store.engine.connect().execution_options(**options) as conn, conn.begin():
        for table in t.TABLES:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            counts[table.name] = len(rows)
            geo = [c for c in table.columns if isinstance(c.type, Geometry)]
            if table.name in _SPATIAL:
                gcol = geo[0].name
                cols = [c for c in table.columns if c.name != gcol]
                frame = gpd.GeoDataFrame(
                    {c.name: _column([getattr(r, c.name) for r in rows], c) for c in cols},
                    geometry=[getattr(r, gcol) for r in rows],
                    crs="EPSG:4326",
                )
                pyogrio.write_dataframe(
                    frame,
                    tmp,
                    layer=str(table.name),
                    driver="GPKG",
                    geometry_type="Unknown",
                    promote_to_multi=False,
                )
            else:
                other[table.name] = [
                    {c.name: plain(getattr(r, c.name), c) for c in table.columns} for r in rows
                ]
    meta = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "dialect": store.dialect,
        "counts": counts,
        "tables": other,
    }
    pyogrio.write_dataframe(
        pd.DataFrame({"json": [json.dumps(meta, ensure_ascii=False)]}),
        tmp,
        layer="geogrid_dump",
        driver="GPKG",
    )
    os.replace(tmp, path)
    return counts


#: Tables the schema is created with rows in (the default category catalogue): an "empty"
#: database has them, and a dump's rows replace them.
SEEDED = frozenset({"incident_categories"})


def restore(store: Store, path: str | Path) -> dict:
    """Load a dump into ``store``, which must be empty (its schema is created if needed).
    Everything goes in one transaction: on any error nothing is restored."""
    path = Path(path)
    try:
        layers = {name for name, _ in pyogrio.list_layers(path)}
        raw = pyogrio.read_dataframe(path, layer="geogrid_dump")["json"].iloc[0]
        meta = json.loads(raw)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(f"{path}: not a geogrid dump ({exc})") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"{path}: unknown dump format {meta.get('format')!r}")
    store.upgrade()
    with store._write() as conn:
        for table in t.TABLES:
            if table.name in SEEDED:
                continue
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise Conflict(
                    f"the target database is not empty (table {table.name} has rows): "
                    "restore needs an empty database"
                )
        for table in t.TABLES:
            if table.name in _SPATIAL:
                if table.name not in layers:
                    raise DataError(f"{path}: layer {table.name!r} missing")
                frame = pyogrio.read_dataframe(path, layer=table.name)
                gcol = next(c.name for c in table.columns if isinstance(c.type, Geometry))
                rows = []
                for rec, geom in zip(
                    frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
                ):
                    row = {
                        c.name: _restore_value(rec.get(c.name), c)
                        for c in table.columns
                        if c.name != gcol
                    }
                    row[gcol] = geom
                    rows.append(row)
            else:
                rows = [
                    {c.name: _restore_value(r.get(c.name), c) for c in table.columns}
                    for r in meta["tables"].get(table.name, [])
                ]
            if rows:
                if table.name in SEEDED:  # the dump's own catalogue replaces the default
                    conn.execute(table.delete())
                conn.execute(table.insert(), rows)
        if store.dialect == "postgresql":  # keep the id sequences ahead of the restored keys
            for table in t.TABLES:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and isinstance(pk[0].type, sa.Integer):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                    )
    return meta["counts"]
