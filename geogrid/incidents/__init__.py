"""Incidents: the :class:`Incident` record (:mod:`.model`), the four-step method's states and
actions (:mod:`.rules`) and the category catalogue (:mod:`.catalogue`).

>>> check_action("dispatched", "accept")
'handling'
"""

from __future__ import annotations

from .catalogue import Catalogue, Category, check_category, default_catalogue
from .model import PRIVATE, Incident
from .rules import (
    ACTIONS,
    CANCELLED,
    CHANNELS,
    CLOSED,
    DISPATCHED,
    DONE,
    ESCALATED,
    FINAL,
    HANDLING,
    INFORMANT_KINDS,
    MERGEABLE,
    MERGED,
    OPEN,
    REPORTED,
    RESOLVED,
    REVISITED,
    RUNNING,
    SATISFACTION,
    STATES,
    allowed_actions,
    check_action,
    check_channel,
    check_informant,
    check_satisfaction,
)

__all__ = [
    "ACTIONS",
    "CANCELLED",
    "CHANNELS",
    "CLOSED",
    "DISPATCHED",
    "DONE",
    "ESCALATED",
    "FINAL",
    "HANDLING",
    "INFORMANT_KINDS",
    "MERGEABLE",
    "MERGED",
    "OPEN",
    "PRIVATE",
    "REPORTED",
    "RESOLVED",
    "REVISITED",
    "RUNNING",
    "SATISFACTION",
    "STATES",
    "Catalogue",
    "Category",
    "Incident",
    "allowed_actions",
    "check_action",
    "check_category",
    "check_channel",
    "check_informant",
    "check_satisfaction",
    "default_catalogue",
]
