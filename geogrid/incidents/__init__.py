"""Incidents: the :class:`Incident` record (:mod:`.model`) and the four-step method's states,
transitions and checks (:mod:`.rules`).

>>> check_transition("reported", "dispatched")
>>> closing("resolved", "closed", "now")
{'closed_at': 'now'}
"""

from __future__ import annotations

from .model import Incident
from .rules import (
    CANCELLED,
    CHANNELS,
    CLOSED,
    DISPATCHED,
    ESCALATED,
    REPORTED,
    RESOLVED,
    REVISIT,
    STATES,
    TRANSITIONS,
    check_channel,
    check_new,
    check_transition,
    closing,
)

__all__ = [
    "CANCELLED",
    "CHANNELS",
    "CLOSED",
    "DISPATCHED",
    "ESCALATED",
    "REPORTED",
    "RESOLVED",
    "REVISIT",
    "STATES",
    "TRANSITIONS",
    "Incident",
    "check_channel",
    "check_new",
    "check_transition",
    "closing",
]
