"""What every part of the store shares: the engine, one transaction per change (``_write``) or
per read (``_read``), geogrid's own errors coming out of SQLAlchemy as themselves, and the audit
record written in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import GeogridError
from . import schema as t
from .engine import make_engine, upgrade
from .types import utcnow


@contextmanager
def _own_errors() -> Iterator[None]:
    """geogrid's errors raised while SQLAlchemy binds a value (such as a :class:`~.types.Str`
    refusing a NUL character) come out as themselves, not wrapped in a ``StatementError``; the
    transaction has been rolled back by then."""
    try:
        yield
    except sa.exc.StatementError as exc:
        if isinstance(exc.orig, GeogridError):
            raise exc.orig from None
        raise


def audit(conn, actor: str, action: str, entity: str, key, detail: dict | None = None) -> None:
    """Record a change in the audit log, in the transaction of ``conn``."""
    conn.execute(
        t.audit_log.insert().values(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_key=str(key),
            detail=detail or {},
        )
    )


def bump(conn, district_code: str) -> None:
    """Tell other processes that a district changed (they poll its revision)."""
    s = t.district_state.c
    conn.execute(
        t.district_state.update()
        .where(s.district_code == district_code)
        .values(revision=s.revision + 1, updated_at=utcnow())
    )


class StoreBase:
    """The engine and its transactions; the per-aggregate parts of :class:`~.store.Store` build
    on this."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None):
        self.engine = engine or make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Create or migrate the schema (Alembic)."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            _own_errors(),
            self.engine.connect().execution_options(geogrid_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with _own_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    _audit = staticmethod(audit)
