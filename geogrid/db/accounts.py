"""Accounts in the database: users, their password hashes and their API tokens. The rules
(roles, the password policy, hashing) are :mod:`geogrid.accounts`'s."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .. import accounts
from ..errors import Conflict, NotFound
from . import schema as t
from .base import StoreBase, audit
from .types import utcnow


class AccountStore(StoreBase):
    """Users and API tokens."""

    def _user(self, row) -> accounts.User:
        return accounts.User(
            row.id, row.username, row.display_name, row.role, row.grid_code, row.active, row.office
        )

    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str | None = None,
        grid_code: str | None = None,
        office: str | None = None,
        actor: str = "system",
    ) -> accounts.User:
        """A new account; :class:`Conflict` if the username is taken."""
        username = accounts.check_username(username)
        accounts.check_role(role, grid_code=grid_code, office=office)
        office = office.strip() if role == "office" and office else None
        accounts.check_password(password, username)
        with self._write() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
                raise Conflict(f"username {username!r} is taken")
            uid = conn.execute(
                t.users.insert()
                .values(
                    username=username,
                    display_name=display_name or username,
                    role=role,
                    grid_code=grid_code,
                    office=office,
                    password_hash=accounts.hash_password(password),
                    active=True,
                    created_at=utcnow(),
                )
                .returning(t.users.c.id)
            ).scalar_one()
            audit(
                conn,
                actor,
                "create",
                "user",
                username,
                {"role": role, "grid_code": grid_code, "office": office},
            )
        return self.user(uid)

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """A new password; every login session of the account ends (log in again)."""
        accounts.check_password(password, username)
        with self._write() as conn:
            n = conn.execute(
                t.users.update()
                .where(t.users.c.username == username)
                .values(password_hash=accounts.hash_password(password))
            ).rowcount
            if not n:
                raise NotFound(f"no user {username!r}")
            _end_sessions_of(conn, username)
            audit(conn, actor, "set-password", "user", username)

    def set_active(self, username: str, active: bool, *, actor: str) -> None:
        """Enable or disable an account (a disabled account cannot log in or use its tokens)."""
        with self._write() as conn:
            n = conn.execute(
                t.users.update().where(t.users.c.username == username).values(active=active)
            ).rowcount
            if not n:
                raise NotFound(f"no user {username!r}")
            if not active:
                _end_sessions_of(conn, username)
            audit(conn, actor, "enable" if active else "disable", "user", username)

    def user(self, user_id: int) -> accounts.User:
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return self._user(row)

    def users(self) -> list[accounts.User]:
        with self._read() as conn:
            return [
                self._user(r)
                for r in conn.execute(sa.select(t.users).order_by(t.users.c.username)).all()
            ]

    def authenticate(self, username: str, password: str) -> accounts.User | None:
        """The active user with this username and password, else None."""
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        # an unknown username costs the same scrypt run as a known one: no timing tells them apart
        stored = row.password_hash if row is not None else accounts.dummy_hash()
        if not accounts.verify_password(password, stored) or row is None or not row.active:
            return None
        return self._user(row)

    # ------------------------------------------------------------------ login sessions
    def start_session(self, user_id: int) -> str:
        """A new login session of the user: its secret, for the session cookie (stored only as
        its SHA-256)."""
        secret = accounts.new_session_secret()
        with self._write() as conn:
            conn.execute(
                t.login_sessions.insert().values(
                    user_id=user_id, secret_hash=accounts.token_hash(secret), created_at=utcnow()
                )
            )
        return secret

    def session_user(self, secret: str) -> accounts.User | None:
        """The active user of a login session that has not ended, else None."""
        if not secret:
            return None
        s, u = t.login_sessions.c, t.users.c
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.users)
                .join(t.login_sessions, s.user_id == u.id)
                .where(
                    s.secret_hash == accounts.token_hash(secret),
                    s.ended_at.is_(None),
                    u.active.is_(True),
                )
            ).first()
        return self._user(row) if row is not None else None

    def end_session(self, secret: str) -> None:
        """End a login session (logging out); an unknown or ended one is left alone."""
        s = t.login_sessions.c
        with self._write() as conn:
            conn.execute(
                t.login_sessions.update()
                .where(s.secret_hash == accounts.token_hash(secret), s.ended_at.is_(None))
                .values(ended_at=utcnow())
            )

    def create_token(self, user_id: int, name: str, *, actor: str) -> str:
        """A new API token for a user; the plain token is returned once and never stored."""
        token = accounts.new_token()
        with self._write() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.id == user_id)).first() is None:
                raise NotFound(f"no user {user_id}")
            tid = conn.execute(
                t.api_tokens.insert()
                .values(
                    user_id=user_id,
                    name=name,
                    token_hash=accounts.token_hash(token),
                    prefix=token[:8],
                    created_at=utcnow(),
                )
                .returning(t.api_tokens.c.id)
            ).scalar_one()
            audit(conn, actor, "create", "token", tid, {"user_id": user_id, "name": name})
        return token

    def user_for_token(self, token: str) -> accounts.User | None:
        """The active user owning an unrevoked token, else None."""
        if not token:
            return None
        k, u = t.api_tokens.c, t.users.c
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.users, k.id.label("token_id"), k.last_used_at)
                .join(t.api_tokens, k.user_id == u.id)
                .where(
                    k.token_hash == accounts.token_hash(token),
                    k.revoked_at.is_(None),
                    u.active.is_(True),
                )
            ).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            with self._write() as conn:
                conn.execute(
                    t.api_tokens.update().where(k.id == row.token_id).values(last_used_at=now)
                )
        return self._user(row)

    def tokens(self, user_id: int) -> list[dict]:
        k = t.api_tokens.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.api_tokens).where(k.user_id == user_id).order_by(k.id)
            ).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "prefix": r.prefix,
                "created_at": r.created_at,
                "last_used_at": r.last_used_at,
                "revoked": r.revoked_at is not None,
            }
            for r in rows
        ]

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        with self._write() as conn:
            n = conn.execute(
                t.api_tokens.update()
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            if not n:
                raise NotFound(f"no active token {token_id}")
            audit(conn, actor, "revoke", "token", token_id)


def _end_sessions_of(conn, username: str) -> None:
    """End every open login session of ``username`` (inside the caller's transaction)."""
    s = t.login_sessions.c
    ids = sa.select(t.users.c.id).where(t.users.c.username == username).scalar_subquery()
    conn.execute(
        t.login_sessions.update()
        .where(s.user_id == ids, s.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
