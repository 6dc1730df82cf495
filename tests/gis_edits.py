"""A GIS user's edit of a layer, as the import and OGC round-trip tests make it: one vertex
that two neighbouring second-level grids share moved east in both (or in one only), and a
grid renamed, written back to the GeoPackage with pyogrio."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import shapely

#: Two neighbouring second-level grids of the sample.
A, B = "320113005001001", "320113005001002"
DX = 0.0002  # about 20 m at 32°N


def shared_vertex(frame):
    """A vertex that grids A and B share and no other grid has, away from the outline."""
    geoms = dict(zip(frame["code"], frame.geometry, strict=True))
    a = {tuple(p) for p in shapely.get_coordinates(geoms[A])}
    b = {tuple(p) for p in shapely.get_coordinates(geoms[B])}
    others = set()
    for code, g in geoms.items():
        if code not in (A, B):
            others |= {tuple(p) for p in shapely.get_coordinates(g)}
    return sorted((a & b) - others)[0]


def moved(geom, vertex, dx):
    def f(c):
        c = c.copy()
        hit = (c[:, 0] == vertex[0]) & (c[:, 1] == vertex[1])
        c[hit, 0] += dx
        return c

    return shapely.transform(geom, f)


def edit_gpkg(path, *, both=True, rename=None):
    """Edit the grids2 layer of a GeoPackage as a GIS user would (pyogrio)."""
    frame = gpd.read_file(path, layer="grids2", engine="pyogrio")
    v = shared_vertex(frame)
    geoms = list(frame.geometry)
    codes = list(frame["code"])
    for code in (A, B) if both else (A,):
        k = codes.index(code)
        geoms[k] = moved(geoms[k], v, DX)
    frame = frame.set_geometry(geoms)
    if rename:
        frame.loc[frame["code"] == rename[0], "name"] = rename[1]
    pyogrio.write_dataframe(frame, path, layer="grids2", driver="GPKG")
    return v
