"""The planner's workspace, as pure functions over a :class:`~geogrid.model.District`.

* :mod:`~geogrid.planning.edits`: the edits (move a boundary, split, merge, drag a vertex or a
  whole shared edge, move a grid to another community, move a unit by hand, rename, re-code,
  set the worker), each a small frozen record computed exactly on the server;
* :mod:`~geogrid.planning.check`: validation after an edit, of the grids it touched and their
  neighbours only, and its agreement with the full validator;
* :mod:`~geogrid.planning.workload`: workload per grid and the balance of the whole draft;
* :mod:`~geogrid.planning.impact`: what an edited district changes against its base.
"""

from .edits import (
    EDITS,
    OVERRIDE,
    DragEdge,
    DragVertex,
    Edit,
    EditResult,
    Merge,
    MoveBoundary,
    MoveGridToCommunity,
    MoveUnit,
    Recode,
    Rename,
    ReplaceGrids,
    SetWorker,
    Split,
    edit_from_dict,
    next_codes,
)

__all__ = [
    "EDITS",
    "OVERRIDE",
    "DragEdge",
    "ReplaceGrids",
    "DragVertex",
    "Edit",
    "EditResult",
    "Merge",
    "MoveBoundary",
    "MoveGridToCommunity",
    "MoveUnit",
    "Recode",
    "Rename",
    "SetWorker",
    "Split",
    "edit_from_dict",
    "next_codes",
]
