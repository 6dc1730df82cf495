"""The locator's sizes and tolerances (see :mod:`geogrid.locate`)."""

#: Default distance (metres) from a boundary within which a dispatcher is asked to confirm.
NEAR_M = 30.0
#: Default number of table cells along the longer side of the district's bounding box.
RESOLUTION = 1024
#: Table cells per side of a distance (proximity) cell.
PROX_FACTOR = 3
#: Distance cells per side of a block, the unit in which distance lists are built on demand.
PROX_BLOCK = 32
#: Boundary segments per chain, the unit of the distance lists.
CHAIN = 8
#: Points in edge-crossed cells located together by :meth:`Locator.locate_many`.
MIXED_CHUNK = 4096
#: Cells within this fraction of a cell of a segment count as touched (covers rounding of u, v).
TOUCH_EPS = 1e-7
