"""Incident states and the transitions between them (the four-step method).

collect → handle on the spot, or escalate to joint handling by the sub-district (会办) → return
visit (回头看) to confirm the problem did not come back → close; reopened when it is back.

>>> check_transition("reported", "dispatched")
>>> check_transition("reported", "closed")
Traceback (most recent call last):
...
geogrid.errors.InputError: an incident cannot go from 'reported' to 'closed' (allowed: dispatched, cancelled)
>>> closing("closed", "dispatched", "now")      # reopened: no longer closed
{'closed_at': None}
"""

from __future__ import annotations

from ..errors import InputError

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


def check_channel(channel: str) -> None:
    """Raise :class:`InputError` for a reporting channel geogrid does not know."""
    if channel not in CHANNELS:
        raise InputError(f"unknown channel {channel!r} (channels: {', '.join(CHANNELS)})")


def check_new(*, category: str, channel: str) -> None:
    """Raise :class:`InputError` unless an incident with these may be recorded."""
    check_channel(channel)
    if not category:
        raise InputError("an incident needs a category")


def closing(current: str, target: str, now) -> dict:
    """How ``closed_at`` changes when an incident goes from ``current`` to ``target``: set to
    ``now`` when it closes, cleared when a closed incident reopens, else unchanged (``{}``)."""
    if target == CLOSED:
        return {"closed_at": now}
    if current == CLOSED:
        return {"closed_at": None}
    return {}
