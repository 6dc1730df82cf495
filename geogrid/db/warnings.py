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
        ``need`` at ``now``, in one read transaction: the recent reports through the
        ``created_at`` index, the incidents open now through the ``state`` index, and the older
        rows the recurrence and surge rules need in one pass over the table (:meth:`_older`)."""
        need = set(need)
        recur_since = now - timedelta(days=s.recur_days)
        first, last = now - timedelta(days=7 * s.surge_weeks), now - timedelta(days=1)
        with self._read() as conn:
            reports = (
                self._reports(conn, district_code, now - s.lookback, now)
                if need & {"repeat", "recur", "cluster"}
                else []
            )
            open_now = self._open_now(conn, district_code, now) if "surge" in need else []
            revisits, spans = self._older(
                conn, district_code, now,
                recur_since if "recur" in need else None,
                (first, last) if "surge" in need else None,
            )  # fmt: skip
        return rules.Inputs(now, reports, revisits, open_now, spans)

    @staticmethod
    def _reports(conn, district_code: str, since: datetime, now: datetime) -> list[rules.Report]:
        q = sa.select(
            I.id, I.grid_code, I.grid1_code, I.category, I.lon, I.lat, I.state, I.created_at
        ).where(I.district_code == district_code, I.created_at >= since, I.created_at <= now)
        return [rules.Report(*r) for r in conn.execute(q.order_by(I.id))]

    @staticmethod
    def _open_now(conn, district_code: str, now: datetime) -> list[rules.OpenIncident]:
        late = sa.case((overdue_clause(now), True), else_=False)
        q = sa.select(I.id, I.grid_code, I.grid1_code, I.lon, I.lat, late).where(
            I.district_code == district_code, I.state.in_(sorted(OPEN))
        )
        return [rules.OpenIncident(*r[:5], bool(r[5])) for r in conn.execute(q)]

    @staticmethod
    def _older(conn, district_code: str, now: datetime, recur_since, baseline):
        """(return visits passed since ``recur_since``, spans of the incidents open at some
        moment of ``baseline`` (first, last)), from one pass over the incidents:

        * visits whose incident still records them (revisited, or closed after it), and those
          of incidents reopened since (a reopen clears ``revisited_at`` and dispatches again:
          their log has both steps, read for those incidents only);
        * incidents reported before the baseline's last moment and not closed (or cancelled,
          merged: their last change) before its first."""
        branches = []
        if recur_since is not None:
            branches += [
                sa.and_(I.revisited_at >= recur_since, I.revisited_at <= now,
                        I.state.in_((REVISITED, CLOSED))),
                sa.and_(I.recurrences > 0, I.dispatched_at >= recur_since),
            ]  # fmt: skip
        if baseline is not None:
            first, last = baseline
            branches.append(
                sa.and_(
                    I.grid_code.is_not(None),
                    I.created_at <= last,
                    sa.or_(
                        I.closed_at > first,
                        sa.and_(I.closed_at.is_(None), sa.or_(I.state.in_(sorted(OPEN)), I.updated_at > first)),
                    ),
                )
            )  # fmt: skip
        if not branches:
            return [], []
        q = sa.select(
            I.id, I.grid_code, I.grid1_code, I.category, I.lon, I.lat, I.state, I.created_at,
            I.closed_at, I.updated_at, I.due_at, I.office_due_at, I.resolved_at, I.revisited_at,
            I.recurrences, I.dispatched_at,
        ).where(I.district_code == district_code, sa.or_(*branches))  # fmt: skip
        revisits: list[rules.Revisit] = []
        spans: list[rules.Span] = []
        reopened: dict[int, tuple] = {}
        for r in conn.execute(q):
            place = (r.id, r.grid_code, r.grid1_code, r.category, r.lon, r.lat)
            if recur_since is not None:
                if (
                    r.revisited_at is not None and recur_since <= r.revisited_at <= now
                    and r.state in (REVISITED, CLOSED)
                ):  # fmt: skip
                    revisits.append(rules.Revisit(*place, r.revisited_at))
                if (
                    r.recurrences > 0
                    and r.dispatched_at is not None
                    and r.dispatched_at >= recur_since
                ):
                    reopened[r.id] = place
            if baseline is not None and r.grid_code is not None and r.created_at <= baseline[1]:
                span = rules.span_of(
                    r.grid_code, r.state, r.created_at, r.closed_at, r.updated_at, r.due_at,
                    r.office_due_at, r.resolved_at,
                )  # fmt: skip
                if span.end is None or span.end > baseline[0]:
                    spans.append(span)
        if reopened:
            revisits += _reopened_after_visits(conn, reopened, recur_since, now)
        return revisits, spans

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


def _reopened_after_visits(conn, places: dict[int, tuple], since, now) -> list[rules.Revisit]:
    """The passed return visits (since ``since``) that a reopen followed, from the logs of the
    incidents of ``places`` (id -> the incident's place and category)."""
    out = []
    ids = sorted(places)
    for start in range(0, len(ids), 500):
        events = conn.execute(
            sa.select(E.incident_id, E.action, E.from_state, E.at, E.detail)
            .where(
                E.incident_id.in_(ids[start : start + 500]),
                E.action.in_(("revisit", "reopen")),
                E.at >= since,
                E.at <= now,
            )
            .order_by(E.incident_id, E.id)
        ).all()
        passed: dict[int, datetime] = {}
        for e in events:
            if e.action == "revisit" and (e.detail or {}).get("passed"):
                passed[e.incident_id] = e.at
            elif (
                e.action == "reopen"
                and e.from_state in (REVISITED, CLOSED)
                and e.incident_id in passed
            ):
                out.append(rules.Revisit(*places[e.incident_id], passed.pop(e.incident_id), e.at))
    return out
