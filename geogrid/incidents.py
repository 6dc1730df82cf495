"""Incident states and the transitions between them (the four-step method).

collect → handle on the spot, or escalate to joint handling by the sub-district (会办) → return
visit (回头看) to confirm the problem did not come back → close; reopened when it is back.

>>> check_transition("reported", "dispatched")
>>> check_transition("reported", "closed")
Traceback (most recent call last):
...
geogrid.errors.InputError: an incident cannot go from 'reported' to 'closed' (allowed: dispatched, cancelled)
"""

from __future__ import annotations

from .errors import InputError

REPORTED = "reported"
DISPATCHED = "dispatched"
ESCALATED = "escalated"
RESOLVED = "resolved"
REVISIT = "revisit"
CLOSED = "closed"
CANCELLED = "cancelled"

#: Every state, in workflow order, with its Chinese label.
STATES = {
    REPORTED: "已上报",
    DISPATCHED: "已派遣",
    ESCALATED: "会办中",
    RESOLVED: "已处置",
    REVISIT: "回头看",
    CLOSED: "已结案",
    CANCELLED: "已作废",
}

#: Allowed moves. ``revisit → dispatched`` and ``closed → dispatched`` reopen an incident whose
#: problem came back.
TRANSITIONS = {
    REPORTED: (DISPATCHED, CANCELLED),
    DISPATCHED: (RESOLVED, ESCALATED, CANCELLED),
    ESCALATED: (RESOLVED,),
    RESOLVED: (REVISIT, CLOSED),
    REVISIT: (CLOSED, DISPATCHED),
    CLOSED: (DISPATCHED,),
    CANCELLED: (),
}

#: Reporting channels.
CHANNELS = ("phone", "app", "patrol", "video", "referral", "api")


def check_transition(current: str, target: str) -> None:
    """Raise :class:`InputError` unless an incident may go from ``current`` to ``target``."""
    if target not in STATES:
        raise InputError(f"unknown incident state {target!r} (states: {', '.join(STATES)})")
    allowed = TRANSITIONS.get(current, ())
    if target not in allowed:
        raise InputError(
            f"an incident cannot go from {current!r} to {target!r} (allowed: {', '.join(allowed) or 'none'})"
        )
