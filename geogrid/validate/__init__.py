"""Validate a district's grids against the rules of grid management.

Every local standard repeats the same four rules for the grids of a sub-district: full coverage,
clear lines, no blank, no crossing or overlap (全面覆盖、界线明确、不留空白、不交叉重叠).
For geogrid's layers this means:

* every geometry is valid, in WGS-84 longitude/latitude, and each grid is a single polygon, or
  several where exclaves (飞地) are allowed (``GEOGRID_ALLOW_EXCLAVES``, the default: a notice);
* every grid and unit has its own code, in its layer and across layers;
* the second-level grids tile the territory: no overlap, no gap (not even a narrow one), nothing
  outside the outline, and neighbours share their edges vertex for vertex;
* each second-level grid names an existing first-level parent and lies inside it, and each
  first-level grid is exactly the union of its second-level grids;
* each unit stands in the second-level grid it names (a unit on a shared edge may name either).

Findings that break a rule are *errors* and block an import or a publication; findings that only
deserve a look (slivers, grids much smaller or larger than usual, neighbours whose shared edge has
a vertex on one side only) are *notices*, as in the NG911 validation toolbox. Topology is computed
on the stored lon/lat geometries; every size is measured in metres in EPSG:4549, never in degrees.

>>> from shapely import box
>>> import geopandas as gpd
>>> from geogrid.model import District
>>> cells = [box(118.930, 32.110, 118.935, 32.115), box(118.935, 32.110, 118.940, 32.115)]
>>> g2 = gpd.GeoDataFrame({"code": ["A01", "A02"], "parent": ["A", "A"]}, geometry=cells, crs=4326)
>>> g1 = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(118.93, 32.11, 118.94, 32.115)], crs=4326)
>>> report = validate(District("X", "demo", g1, g2))
>>> report.ok, report.notices
(True, [])
>>> g2.loc[1, "geometry"] = box(118.934, 32.110, 118.940, 32.115)  # A02 now covers part of A01
>>> report = validate(District("X", "demo", g1, g2))
>>> [(f.check, f.codes) for f in report.errors]
[('overlap', ('A01', 'A02'))]
>>> print(report.errors[0].message)
Second-level grids A01 and A02 overlap by 52,340.1 m² (about 94.39 m wide).
"""

from __future__ import annotations

from .layers import PRECISION_M
from .report import CHECKS, Finding, Report
from .validator import validate

__all__ = [
    "CHECKS",
    "Finding",
    "PRECISION_M",
    "Report",
    "validate",
]
