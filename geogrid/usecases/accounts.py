"""Accounts: users (for administrators) and a user's own API tokens."""

from __future__ import annotations

from ..access import Actor
from ..errors import InputError, NotFound


def users(store, actor: Actor) -> list:
    actor.require("manage_users")
    return store.users()


def create_user(
    store,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    grid_code: str | None = None,
    office: str | None = None,
):
    """A new account (the password policy and a free username are checked by the store)."""
    actor.require("manage_users")
    return store.create_user(
        username, password, role, display_name=display_name, grid_code=grid_code,
        office=office, actor=actor.name,
    )  # fmt: skip


def set_password(store, actor: Actor, username: str, password: str) -> None:
    actor.require("manage_users")
    store.set_password(username, password, actor=actor.name)


def set_active(store, actor: Actor, username: str, active: bool) -> None:
    """Enable or disable an account; nobody disables their own (the last way back in)."""
    actor.require("manage_users")
    if not active and username == actor.name:
        raise InputError("you cannot disable your own account")
    store.set_active(username, active, actor=actor.name)


def _own(actor: Actor) -> int:
    actor.require("own_tokens")
    if actor.user_id is None:
        raise InputError("API tokens belong to a user account")
    return actor.user_id


def tokens(store, actor: Actor) -> list[dict]:
    """The caller's own API tokens (never their secrets)."""
    return store.tokens(_own(actor))


def create_token(store, actor: Actor, name: str) -> str:
    """A new API token for the caller, named after the system that will use it; its secret is
    returned this once."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InputError("give the token a name of 1 to 200 characters, e.g. the system using it")
    return store.create_token(_own(actor), name, actor=actor.name)


def revoke_token(store, actor: Actor, token_id: int) -> None:
    """Revoke one of the caller's own tokens (someone else's is not found)."""
    if token_id not in {t["id"] for t in store.tokens(_own(actor))}:
        raise NotFound(f"no token {token_id} of yours")
    store.revoke_token(token_id, actor=actor.name)
