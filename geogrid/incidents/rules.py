"""The four-step method as a state machine: the states, the actions that move an incident from
one to the next, and who may take each action.

collect (``reported``) → dispatch to the grid's worker (``dispatched``) → the worker accepts and
handles it on the spot (``handling``), or it is escalated to joint handling by a named service
office (会办, ``escalated``) → ``resolved``, which schedules the return visit (回头看) → the visit
passes with the reporter's satisfaction (``revisited``) → ``closed``. A failed visit, or a closed
problem that came back, reopens the incident (``dispatched`` again, counted as a recurrence).
``cancelled`` (with a reason) and ``merged`` (into another incident) end an incident early.

>>> check_action("reported", "dispatch")
'dispatched'
>>> check_action("reported", "close")
Traceback (most recent call last):
...
geogrid.errors.InputError: cannot close an incident that is reported (allowed now: dispatch, cancel, merge)
>>> allowed_actions("resolved")
('revisit', 'reopen')
>>> check_satisfaction("满意")
'satisfied'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

REPORTED = "reported"
DISPATCHED = "dispatched"
HANDLING = "handling"
ESCALATED = "escalated"
RESOLVED = "resolved"
REVISITED = "revisited"
CLOSED = "closed"
CANCELLED = "cancelled"
MERGED = "merged"

#: Every state, in workflow order, with its Chinese label.
STATES = {
    REPORTED: "已上报",
    DISPATCHED: "已派遣",
    HANDLING: "处置中",
    ESCALATED: "会办中",
    RESOLVED: "已办结待回访",
    REVISITED: "回访通过",
    CLOSED: "已结案",
    CANCELLED: "已作废",
    MERGED: "已合并",
}

#: States in which the problem is still someone's to handle (they follow their grid's owner
#: when boundaries change, and count as open in the figures).
OPEN = frozenset({REPORTED, DISPATCHED, HANDLING, ESCALATED, RESOLVED, REVISITED})
#: States in which a handling deadline runs.
RUNNING = frozenset({DISPATCHED, HANDLING, ESCALATED})
#: States a repeated report may be merged into (not yet resolved: a problem back after that is
#: a recurrence, recorded by the return visit or a reopen).
MERGEABLE = frozenset({REPORTED}) | RUNNING
#: States an incident never leaves.
FINAL = frozenset({CANCELLED, MERGED})
#: States in which the problem is over for whoever reported it: resolved (the return visit is
#: the sub-district's own check), visited, closed, cancelled or merged. Open311 answers
#: ``closed`` for these and ``open`` for the others, as FixMyStreet counts its fixed and closed
#: states as closed; a failed visit or a reopen makes an incident open again.
DONE = frozenset({RESOLVED, REVISITED, CLOSED, CANCELLED, MERGED})


@dataclass(frozen=True)
class Action:
    """One step of the workflow: from which states, to which (``None``: decided by the step's
    outcome), and what a caller must give."""

    name: str
    sources: frozenset[str]
    target: str | None
    needs_note: bool = False


def _a(name, sources, target, **kw) -> Action:
    return Action(name, frozenset(sources), target, **kw)


#: The actions, in the order a form offers them.
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        _a("dispatch", {REPORTED}, DISPATCHED),
        _a("accept", {DISPATCHED}, HANDLING),
        _a("escalate", {DISPATCHED, HANDLING}, ESCALATED, needs_note=True),
        _a("resolve", {DISPATCHED, HANDLING, ESCALATED}, RESOLVED, needs_note=True),
        # passed: revisited; failed (the problem is back): dispatched again, a recurrence
        _a("revisit", {RESOLVED}, None),
        _a("close", {REVISITED}, CLOSED),
        _a("reopen", {RESOLVED, REVISITED, CLOSED}, DISPATCHED, needs_note=True),
        _a("cancel", {REPORTED, DISPATCHED, HANDLING}, CANCELLED, needs_note=True),
        _a("merge", {REPORTED, DISPATCHED, HANDLING}, MERGED),
    )
}

#: Reporting channels and their Chinese labels.
CHANNELS = {
    "phone": "电话/12345",
    "app": "手机应用",
    "patrol": "网格员及信息员巡查",
    "video": "视频巡查",
    "referral": "部门转办",
    "open311": "Open311",
    "api": "接口",
}

#: The informants of a grid (网格十大员 and others) who report from their patrols.
INFORMANT_KINDS = {
    "grid_worker": "网格员",
    "city_assistant": "城管协管员",
    "greening": "绿化队员",
    "sanitation": "环卫保洁员",
    "security": "治安巡防员",
    "safety": "安全生产监督员",
    "property": "物业管理员",
    "building": "楼栋长",
    "mediator": "人民调解员",
    "volunteer": "志愿者",
}

#: The reporter's satisfaction at the return visit (满意 / 基本满意 / 不满意).
SATISFACTION = {"satisfied": "满意", "fair": "基本满意", "dissatisfied": "不满意"}


def allowed_actions(state: str) -> tuple[str, ...]:
    """The actions that may be taken on an incident in ``state``, in form order."""
    return tuple(a.name for a in ACTIONS.values() if state in a.sources)


def check_action(state: str, action: str) -> str | None:
    """The state ``action`` leads to from ``state``; :class:`InputError` naming the allowed
    actions when it may not be taken now."""
    a = ACTIONS.get(action)
    if a is None:
        raise InputError(f"unknown incident action {action!r} (actions: {', '.join(ACTIONS)})")
    if state not in a.sources:
        allowed = ", ".join(allowed_actions(state)) or "none: the incident is over"
        raise InputError(f"cannot {action} an incident that is {state} (allowed now: {allowed})")
    return a.target


def check_channel(channel: str) -> str:
    """``channel`` if geogrid knows it, else :class:`InputError`."""
    if channel not in CHANNELS:
        raise InputError(f"unknown channel {channel!r} (channels: {', '.join(CHANNELS)})")
    return channel


def check_informant(kind: str | None, name: str | None) -> None:
    """An informant's kind must be known, and a kind needs a name (and the other way round)."""
    if kind is not None and kind not in INFORMANT_KINDS:
        raise InputError(f"unknown informant kind {kind!r} (kinds: {', '.join(INFORMANT_KINDS)})")
    if bool(kind) != bool(name and name.strip()):
        raise InputError("an informant needs both a kind and a name")


def check_satisfaction(value: str) -> str:
    """The satisfaction key of ``value``, given as a key or its Chinese label."""
    for key, label in SATISFACTION.items():
        if value in (key, label):
            return key
    raise InputError(
        f"unknown satisfaction {value!r} (one of: {', '.join(SATISFACTION)}, or 满意/基本满意/不满意)"
    )
