"""Reading the audit log (every change writes its record in its own transaction, see
:func:`.base.audit`)."""

from __future__ import annotations

import sqlalchemy as sa

from . import schema as t
from .base import StoreBase


class AuditStore(StoreBase):
    """The audit log."""

    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[dict]:
        """The newest audit records first."""
        a = t.audit_log.c
        q = sa.select(t.audit_log).order_by(a.id.desc()).limit(limit)
        if entity:
            q = q.where(a.entity == entity)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q).all()]
