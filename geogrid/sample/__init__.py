"""The bundled sample district: a realistic, reproducible, *fictional* Xianlin sub-district.

The real grid boundaries of 仙林街道 are not public, so geogrid ships a sample made by this seeded
generator and written to ``boundaries/`` by ``geogrid sample``. Everything about it is generated:
outline, grids, unit names and every person's name and phone number. What is real is its shape of
the problem: placement on Xianlin, the area (32.67 km²), the counts (10 communities, 156 grids,
1786 units, 12 universities, 40 residential compounds, 9 commercial blocks, 26万 residents) and the
national coding style.

How it is made (all geometry in metres, EPSG:4549):

1. an irregular, star-shaped outline around (118.93 E, 32.11 N);
2. 156 seeds from k-means over samples of a density map (dense residential core, sparse campuses,
   so grids range from compact compounds to large campuses), cut by a Voronoi diagram;
3. the cells are re-noded (``union_all`` of all edges, ``polygonize``), densified every 12 m and
   bent by a smooth displacement field so edges wander like streets; each shared edge is built once,
   so neighbours share identical vertices;
4. cells are grown into 10 contiguous communities of 13 to 18 grids; first-level grids are the
   union of their second-level grids, so nesting holds by construction;
5. the whole map is scaled about its centre to exactly 32.67 km² and converted to WGS-84;
6. codes in reading order (west to east, then north to south): 320113005 + 3-digit community,
   + 3-digit grid, + 4-digit unit.

>>> d = generate(seed=DEFAULT_SEED)
>>> len(d.grids1), len(d.grids2), len(d.units)
(10, 156, 1786)
>>> from geogrid.crs import area_m2
>>> round(float(area_m2(d.outline)) / 1e6, 2)
32.67
"""

from __future__ import annotations

from .build import generate
from .params import (
    CENTRE,
    COMMUNITY_SIZE,
    DEFAULT_SEED,
    DISTRICT_CODE,
    DISTRICT_NAME,
    EXTENT,
    N_COMMUNITIES,
    N_GRIDS,
    TARGET_AREA_M2,
    TOTAL_RESIDENTS,
    UNIT_COUNTS,
    VERTEX_SPACING,
)

__all__ = [
    "CENTRE",
    "COMMUNITY_SIZE",
    "DEFAULT_SEED",
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "EXTENT",
    "N_COMMUNITIES",
    "N_GRIDS",
    "TARGET_AREA_M2",
    "TOTAL_RESIDENTS",
    "UNIT_COUNTS",
    "VERTEX_SPACING",
    "generate",
]
