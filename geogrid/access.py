"""Who may do what: the roles, the operations each may call, and a grid worker's scope.

Every use case (:mod:`geogrid.usecases`) starts by asking the :class:`Actor` calling it; the web
pages, the HTTP API and the command line all go through the use cases, so the same rule holds
everywhere. A refusal is :class:`~geogrid.errors.Forbidden` (HTTP 403 with a JSON message on the
API, exit status 2 on the command line), naming the roles that may.

>>> worker = Actor("wangge", "worker", frozenset({"320113005007007"}))
>>> worker.require("locate")
>>> worker.require("publish")
Traceback (most recent call last):
...
geogrid.errors.Forbidden: a grid worker may not publish a boundary version (allowed: planner, admin)
>>> worker.require_grid("320113005001001")
Traceback (most recent call last):
...
geogrid.errors.Forbidden: wangge works in grid 320113005007007 only, not in 320113005001001
>>> SYSTEM.scope is None  # the command line on the server acts for the administrators
True

Scope: a grid worker acts in their own second-level grid(s) only (``grids``); everyone else in
the whole district (``None``). Grid boundaries, names and the locate answer are the map's base
and open to every role; the unit register is scoped; the rest follows the table below.
"""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import ROLES
from .errors import Forbidden

DISPATCHER, PLANNER, WORKER, ADMIN = ROLES
EVERYONE = frozenset(ROLES)

#: Role names as messages show them.
ROLE_WORDS = {DISPATCHER: "a dispatcher", PLANNER: "a planner", WORKER: "a grid worker", ADMIN: "an administrator"}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """The roles allowed an operation, and what the operation does (for messages and docs)."""

    roles: frozenset[str]
    what: str


def _rule(what: str, *roles: str) -> Rule:
    return Rule(frozenset(roles) if roles else EVERYONE, what)


#: Every operation a caller can ask for, by name. A use case names its operation here; the API's
#: role × operation test fails for a route whose operation is missing.
RULES: dict[str, Rule] = {
    # the map's base: open to every signed-in role
    "locate": _rule("locate a point"),
    "grids": _rule("read the grids"),
    "search": _rule("search"),
    "api_docs": _rule("read the API description"),
    # the unit register: a grid worker sees their own grid's units
    "units": _rule("read the unit register"),
    # dispatching and planning
    "locate_many": _rule("locate many points at once", DISPATCHER, PLANNER, ADMIN),
    "versions": _rule("list the boundary versions", DISPATCHER, PLANNER, ADMIN),
    "import_version": _rule("import a boundary version", PLANNER, ADMIN),
    "publish": _rule("publish a boundary version", PLANNER, ADMIN),
    "roster": _rule("read the duty roster", DISPATCHER, PLANNER, ADMIN),
    "assign": _rule("change the duty roster", DISPATCHER, ADMIN),
    # incidents
    "report_incident": _rule("report an incident", DISPATCHER, ADMIN),
    "read_incidents": _rule("read incidents"),
    "transition_incident": _rule("move an incident on", DISPATCHER, WORKER, ADMIN),
    # accounts
    "own_tokens": _rule("manage their own API tokens"),
    "manage_users": _rule("manage user accounts", ADMIN),
    "audit_log": _rule("read the audit log", ADMIN),
}


@dataclass(frozen=True)
class Actor:
    """Who is calling: a name for the audit log, a role, the grids they may act in (``None``:
    all of them) and, for a user account, its id."""

    name: str
    role: str
    grids: frozenset[str] | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, user) -> Actor:
        """The actor of a user account (:class:`geogrid.accounts.User`): a grid worker is
        scoped to their grid; a worker with no grid set acts nowhere."""
        grids = None
        if user.role == WORKER:
            grids = frozenset({user.grid_code}) if user.grid_code else frozenset()
        return cls(user.username, user.role, grids, user.id)

    @property
    def scope(self) -> frozenset[str] | None:
        return self.grids

    def may(self, operation: str) -> bool:
        return self.role in RULES[operation].roles

    def require(self, operation: str) -> None:
        """Raise :class:`Forbidden` unless this actor's role may call ``operation``."""
        rule = RULES[operation]  # an unknown operation is a bug, not a refusal: KeyError
        if self.role not in rule.roles:
            allowed = ", ".join(r for r in ROLES if r in rule.roles)
            who = ROLE_WORDS.get(self.role, f"role {self.role!r}")
            raise Forbidden(f"{who} may not {rule.what} (allowed: {allowed})")

    def in_scope(self, grid_code: str | None) -> bool:
        return self.grids is None or grid_code in self.grids

    def require_grid(self, grid_code: str | None) -> None:
        """Raise :class:`Forbidden` unless this actor may act in ``grid_code``."""
        if not self.in_scope(grid_code):
            mine = ", ".join(sorted(self.grids)) or "no grid (none is set on the account)"
            raise Forbidden(f"{self.name} works in grid {mine} only, not in {grid_code}")


#: The command line run on the server, and the service's own housekeeping: the administrators.
SYSTEM = Actor("system", ADMIN)


def cli_actor(name: str) -> Actor:
    """The actor of a command run on the server by ``name`` (whoever can run commands there can
    open the database anyway)."""
    return Actor(name, ADMIN)
