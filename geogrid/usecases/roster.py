"""The duty roster: who is on duty in each grid, its history, and changing it."""

from __future__ import annotations

from datetime import datetime

from ..access import Actor


def history(svc, actor: Actor, grid_code: str) -> list:
    """Every duty row of a grid, oldest first."""
    actor.require("roster")
    return svc.store.duty_history(svc.district_code, grid_code)


def assign(
    svc,
    actor: Actor,
    grid_code: str,
    role: str,
    name: str | None,
    *,
    phone: str | None = None,
    title: str | None = None,
    valid_from: datetime | None = None,
) -> None:
    """Put ``name`` on duty as ``role`` in a grid from ``valid_from`` (default now), ending
    the previous holder's duty, in one transaction (see :meth:`geogrid.db.Store.assign`)."""
    actor.require("assign")
    svc.store.assign(
        svc.district_code, grid_code, role, name, phone, title,
        actor=actor.name, valid_from=valid_from,
    )  # fmt: skip
