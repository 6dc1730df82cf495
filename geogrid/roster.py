"""The duty roster's rules: the roles, which level of grid each belongs to, the layer
attributes that carry its people, and which duties a newly published version changes.

>>> sorted(ROSTER_ROLES)
['leader', 'office', 'worker']
>>> check_assignment("worker", 2, "320113005007007")
>>> check_assignment("worker", 1, "320113005007")
Traceback (most recent call last):
...
geogrid.errors.InputError: a worker is assigned to a level-2 grid, 320113005007 is level 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from .errors import InputError

#: Roles in the duty roster and the layer attributes that carry them.
ROSTER_ROLES = {
    "leader": {
        "level": 1,
        "name": "leader",
        "phone": "leader_phone",
        "title": "leader_title",
        "kind": "person",
    },
    "office": {
        "level": 1,
        "name": "office",
        "phone": "office_phone",
        "title": None,
        "kind": "office",
    },
    "worker": {
        "level": 2,
        "name": "worker",
        "phone": "worker_phone",
        "title": None,
        "kind": "person",
    },
}
#: Every layer attribute that names a person, a phone or a title.
PEOPLE_ATTRS = {a for r in ROSTER_ROLES.values() for a in (r["name"], r["phone"], r["title"]) if a}
_PEOPLE_ATTRS = PEOPLE_ATTRS


@dataclass(frozen=True)
class Duty:
    """A person (or office) responsible for a grid in a role, from ``valid_from`` to ``valid_to``."""

    id: int
    grid_code: str
    role: str
    name: str
    phone: str | None
    title: str | None
    valid_from: datetime
    valid_to: datetime | None


def check_role(role: str) -> None:
    """Raise :class:`InputError` for a role the roster does not have."""
    if role not in ROSTER_ROLES:
        raise InputError(f"unknown role {role!r} (roles: {', '.join(ROSTER_ROLES)})")


def check_assignment(role: str, level: int, grid_code: str) -> None:
    """Raise :class:`InputError` unless ``role`` may be assigned to a grid of ``level``."""
    check_role(role)
    want = ROSTER_ROLES[role]["level"]
    if level != want:
        raise InputError(
            f"a {role} is assigned to a level-{want} grid, {grid_code} is level {level}"
        )


def kind_of(role: str) -> str:
    """What holds a role: ``person`` or ``office``."""
    return ROSTER_ROLES[role]["kind"]


def people(level: int, on_duty: Mapping[str, Duty]) -> dict:
    """The people columns of a grid of ``level`` from its duties (role → :class:`Duty`)."""
    out = {}
    for role, spec in ROSTER_ROLES.items():
        if spec["level"] == level:
            d = on_duty.get(role)
            out[spec["name"]] = d.name if d else None
            out[spec["phone"]] = d.phone if d else None
            if spec["title"]:
                out[spec["title"]] = d.title if d else None
    return out


_people = people


def people_attrs(record: Mapping) -> dict:
    """The attributes of a grid record that name people (as a version records them)."""
    return {k: v for k, v in record.items() if k in PEOPLE_ATTRS and v is not None}


def changes_on_publish(
    named: Mapping[str, tuple[int, Mapping]],
    before: Mapping[str, tuple[int, Mapping]],
    on_duty: Mapping[str, Mapping[str, Duty]],
) -> Iterator[tuple[str, str, str, str | None, str | None]]:
    """The duties a newly published version starts: ``(grid, role, name, phone, title)``.

    ``named`` and ``before`` are the people attributes per grid code (``(level, attrs)``) of
    the new version and of the version it replaces; ``on_duty`` is the roster now. A grid's
    role changes where the new version names someone different from the version it replaces,
    or where nobody is on duty: a roster change made since the replaced version was published
    is kept unless the new version names someone else (re-importing old attributes does not
    undo it)."""
    for code, (level, attrs) in named.items():
        for role, spec in ROSTER_ROLES.items():
            if spec["level"] != level or not attrs.get(spec["name"]):
                continue
            keys = [k for k in (spec["name"], spec["phone"], spec["title"]) if k]
            new = tuple(attrs.get(k) for k in keys)
            old = tuple(before.get(code, (None, {}))[1].get(k) for k in keys)
            if role not in on_duty.get(code, {}) or new != old:
                yield code, role, new[0], new[1], (new[2] if len(new) > 2 else None)
