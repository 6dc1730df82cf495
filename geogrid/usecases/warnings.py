"""Early warning: the warnings raised now over the incident history
(:mod:`geogrid.incidents.warnings`), as each caller may see them, and their acknowledgement.

Dispatchers, planners and administrators see every warning; a grid worker those touching their
grid, with only their grid's incidents listed; service office users none. Dispatchers and
administrators acknowledge a warning with a note: it leaves the active list (and stays in the
acknowledged one) until a new incident joins it. The acknowledgement is kept in the audit log.

>>> from geogrid.db import Store
>>> from geogrid.service import Service
>>> from geogrid.access import Actor
>>> from geogrid.usecases import incidents
>>> svc = Service.bootstrap(Store("sqlite://"))
>>> disp = Actor("disp", "dispatcher")
>>> for _ in range(3):
...     _ = incidents.report(svc, disp, 118.93, 32.11, category="0601", description="井盖缺失")
>>> [w.rule for w in warnings(svc, disp)]   # three in one grid: a repeat, and above its usual 0
['surge', 'repeat']
>>> key = warnings(svc, disp, rule="repeat")[0].key
>>> acknowledge(svc, disp, key, "已安排排查").acknowledged["by"]
'disp'
>>> [w.rule for w in warnings(svc, disp)], [w.key for w in warnings(svc, disp, view="acknowledged")] == [key]
(['surge'], True)
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import datetime, timedelta

from ..access import Actor
from ..db.types import utcnow
from ..errors import Conflict, InputError, NotFound
from ..incidents import warnings as rules
from ..incidents.warnings import EarlyWarning
from .incidents import _text

#: The lists a caller may ask for.
VIEWS = ("active", "acknowledged", "all")
#: Acknowledgements are read this far back at least (a warning about incidents still open
#: months later, such as a surge, keeps its acknowledgement).
ACK_LOOKBACK = timedelta(days=90)

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _settings(svc) -> rules.WarningSettings:
    return svc.policy.warnings


def raised(svc, *, now: datetime | None = None) -> list[EarlyWarning]:
    """Every warning raised now in the district, each with the acknowledgement covering it
    (or None), for everyone (no access check: the callers below check). Refreshes the count
    the navigation badge reuses."""
    now = now or utcnow()
    s = _settings(svc)
    inputs = svc.store.warning_inputs(svc.district_code, now, s)
    found = rules.evaluate(inputs, s)
    since = now - max(ACK_LOOKBACK, s.lookback, timedelta(weeks=s.surge_weeks))
    out = rules.acknowledged(found, svc.store.warning_acks(since))
    with _cache_lock:
        _cache[svc] = (time.monotonic(), out)
    return out


def _visible(actor: Actor, found: list[EarlyWarning]) -> list[EarlyWarning]:
    if actor.scope is None:
        return list(found)
    return [w for w in (x.within(actor.scope) for x in found) if w is not None]


def warnings(
    svc, actor: Actor, *, rule: str | None = None, view: str = "active", now: datetime | None = None
) -> list[EarlyWarning]:
    """The warnings ``actor`` may see: ``view`` ``active`` (not acknowledged), ``acknowledged``
    or ``all``; of one ``rule`` when given. Most severe first, then the newest."""
    actor.require("warnings")
    if rule is not None and rule not in rules.RULES:
        raise InputError(f"unknown warning rule {rule!r} (rules: {', '.join(rules.RULES)})")
    if view not in VIEWS:
        raise InputError(f"unknown view {view!r} (views: {', '.join(VIEWS)})")
    out = _visible(actor, raised(svc, now=now))
    if rule is not None:
        out = [w for w in out if w.rule == rule]
    if view == "active":
        out = [w for w in out if w.acknowledged is None]
    elif view == "acknowledged":
        out = [w for w in out if w.acknowledged is not None]
    return sorted(out, key=lambda w: (w.severity != rules.HIGH, -w.since.timestamp(), w.key))


def active_count(svc, actor: Actor) -> int | None:
    """How many warnings ``actor`` has not acknowledged yet (the navigation badge), reusing the
    last evaluation for ``GEOGRID_WARN_CACHE_S`` seconds; None for a role that sees none."""
    if not actor.may("warnings"):
        return None
    ttl = _settings(svc).cache_seconds
    with _cache_lock:
        hit = _cache.get(svc)
    fresh = hit is not None and time.monotonic() - hit[0] < ttl
    found = hit[1] if fresh else raised(svc)
    return sum(1 for w in _visible(actor, found) if w.acknowledged is None)


def acknowledge(
    svc, actor: Actor, key: str, note: str, *, now: datetime | None = None
) -> EarlyWarning:
    """Acknowledge the active warning ``key`` with a ``note`` (required): who and when are
    recorded in the audit log with the incidents it saw. :class:`NotFound` if no such warning
    is raised now, :class:`Conflict` if it is acknowledged already (nothing new since)."""
    actor.require("acknowledge_warning")
    note = _text(note, "note") or ""
    if not note:
        raise InputError("to acknowledge a warning, say what is being done about it (a note)")
    found = next((w for w in raised(svc, now=now) if w.key == key), None)
    if found is None or (actor.scope is not None and found.within(actor.scope) is None):
        raise NotFound(f"no warning {str(key)[:80]!r} is raised now")
    if found.acknowledged is not None:
        a = found.acknowledged
        raise Conflict(
            f"warning {key} was acknowledged by {a['by']} at {a['at']:%Y-%m-%d %H:%M} UTC "
            "and nothing new has joined it since"
        )
    svc.store.acknowledge_warning(found, actor=actor.name, note=note)
    return next(w for w in raised(svc, now=now) if w.key == key)
