"""What the early-warning rules read (:mod:`geogrid.incidents.warnings`), and their
acknowledgements (kept in the audit log: entity ``warning``, the warning's key, who, when, the
note and the incidents seen).

Only what the rules need is read, never the whole history: the incidents reported in the
longest window (the ``(district_code, created_at)`` index), the return visits passed in the
recurrence window and the reopenings after them, the incidents open now (the ``(district_code,
state)`` index) and, for the usual level of each grid, the rows of the incidents open at some
time in the baseline weeks (the open ones, and those closed or ended since the baseline's first
day), as compact spans from which the daily open and overdue counts are computed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..incidents import CLOSED, OPEN, REVISITED
from ..incidents import warnings as rules
from . import schema as t
from .base import StoreBase, audit
from .incidents import overdue_clause

I = t.incidents.c  # noqa: E741
E = t.incident_events.c
A = t.audit_log.c
#: The audit log's entity of an acknowledgement.
ENTITY = "warning"


class WarningStore(StoreBase):
    """The rules' inputs and the acknowledgements."""

    def warning_inputs(
        self, district_code: str, now: datetime, s: rules.WarningSettings, *, need=rules.RULES
    ) -> rules.Inputs:
        """Everything :func:`geogrid.incidents.warnings.evaluate` needs for the rules of
        ``need`` at ``now``, in one read transaction."""
        need = set(need)
        with self._read() as conn:
            reports = (
                self._reports(conn, district_code, now - s.lookback, now)
                if need & {"repeat", "recur", "cluster"}
                else []
            )
            revisits = (
                self._revisits(conn, district_code, now - timedelta(days=s.recur_days), now)
                if "recur" in need
                else []
            )
            open_now, spans = ([], [])
            if "surge" in need:
                open_now = self._open_now(conn, district_code, now)
                first = now - timedelta(days=7 * s.surge_weeks)
                spans = self._spans(conn, district_code, first, now - timedelta(days=1))
        return rules.Inputs(now, reports, revisits, open_now, spans)

    @staticmethod
    def _reports(conn, district_code: str, since: datetime, now: datetime) -> list[rules.Report]:
        q = sa.select(
            I.id, I.grid_code, I.grid1_code, I.category, I.lon, I.lat, I.state, I.created_at
        ).where(I.district_code == district_code, I.created_at >= since, I.created_at <= now)
        return [rules.Report(*r) for r in conn.execute(q.order_by(I.id))]

    @staticmethod
    def _revisits(conn, district_code: str, since: datetime, now: datetime) -> list[rules.Revisit]:
        """Return visits passed since ``since``: those whose incident still records it
        (revisited, or closed after it), and those of incidents reopened after it (the reopen
        clears ``revisited_at``; the log keeps both steps)."""
        cols = (I.id, I.grid_code, I.grid1_code, I.category, I.lon, I.lat)
        out = [
            rules.Revisit(*r[:6], r.revisited_at)
            for r in conn.execute(
                sa.select(*cols, I.revisited_at).where(
                    I.district_code == district_code,
                    I.revisited_at >= since,
                    I.revisited_at <= now,
                    I.state.in_((REVISITED, CLOSED)),
                )
            )
        ]
        # reopening dispatches again: a reopen since `since` has a recent dispatched_at
        reopened = {
            r.id: r
            for r in conn.execute(
                sa.select(*cols).where(
                    I.district_code == district_code,
                    I.recurrences > 0,
                    I.dispatched_at >= since,
                )
            )
        }
        ids = sorted(reopened)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            events = conn.execute(
                sa.select(E.incident_id, E.action, E.from_state, E.at, E.detail)
                .where(E.incident_id.in_(chunk), E.action.in_(("revisit", "reopen")), E.at >= since)
                .order_by(E.incident_id, E.id)
            ).all()
            passed: dict[int, datetime] = {}
            for e in events:
                if e.at > now:
                    continue
                if e.action == "revisit" and (e.detail or {}).get("passed"):
                    passed[e.incident_id] = e.at
                elif (
                    e.action == "reopen"
                    and e.from_state in (REVISITED, CLOSED)
                    and e.incident_id in passed
                ):
                    r = reopened[e.incident_id]
                    out.append(rules.Revisit(*r[:6], passed.pop(e.incident_id), e.at))
        return out

    @staticmethod
    def _open_now(conn, district_code: str, now: datetime) -> list[rules.OpenIncident]:
        late = sa.case((overdue_clause(now), True), else_=False)
        q = sa.select(I.id, I.grid_code, I.grid1_code, I.lon, I.lat, late).where(
            I.district_code == district_code, I.state.in_(sorted(OPEN)), I.created_at <= now
        )
        return [rules.OpenIncident(*r[:5], bool(r[5])) for r in conn.execute(q)]

    @staticmethod
    def _spans(conn, district_code: str, first: datetime, last: datetime) -> list[rules.Span]:
        """The incidents open at some moment from ``first`` to ``last``: reported before
        ``last`` and not closed (or cancelled, merged: their last change) before ``first``."""
        q = sa.select(
            I.grid_code, I.state, I.created_at, I.closed_at, I.updated_at, I.due_at,
            I.office_due_at, I.resolved_at,
        ).where(
            I.district_code == district_code,
            I.grid_code.is_not(None),
            I.created_at <= last,
            sa.or_(
                I.closed_at > first,
                sa.and_(I.closed_at.is_(None), sa.or_(I.state.in_(sorted(OPEN)), I.updated_at > first)),
            ),
        )  # fmt: skip
        return [rules.span_of(*r) for r in conn.execute(q)]

    # ------------------------------------------------------------------ acknowledgements
    def acknowledge_warning(self, warning: rules.EarlyWarning, *, actor: str, note: str) -> None:
        """Record that ``actor`` saw ``warning`` (its incidents) with ``note``, in the audit log."""
        detail = {
            "rule": warning.rule,
            "subject": warning.subject,
            "incidents": list(warning.incidents),
            "grid": warning.grid_code,
            "note": note,
        }
        with self._write() as conn:
            audit(conn, actor, "acknowledge", ENTITY, warning.key, detail)

    def warning_acks(self, since: datetime) -> list[dict]:
        """Acknowledgements made since ``since``, newest first: ``key``, ``at``, ``actor`` and
        the detail recorded (``rule``, ``subject``, ``incidents``, ``grid``, ``note``)."""
        q = (
            sa.select(A.entity_key, A.at, A.actor, A.detail)
            .where(A.entity == ENTITY, A.action == "acknowledge", A.at >= since)
            .order_by(A.id.desc())
        )
        with self._read() as conn:
            return [
                {**(r.detail or {}), "key": r.entity_key, "at": r.at, "actor": r.actor}
                for r in conn.execute(q)
            ]
