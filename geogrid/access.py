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
>>> PUBLIC_READER.require("report_incident")
Traceback (most recent call last):
...
geogrid.errors.Forbidden: an anonymous reader may not report an incident (allowed: dispatcher, admin)

Scope: a grid worker acts in their own second-level grid(s) only (``grids``); a service office
user on the incidents escalated to their office (``office``); everyone else in the whole
district (``None``). Grid boundaries, names and the locate answer are the map's base
and open to every role; the unit register is scoped; the rest follows the table below.
"""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import ROLES
from .errors import Forbidden

DISPATCHER, PLANNER, WORKER, OFFICE, ADMIN = ROLES
EVERYONE = frozenset(ROLES)
#: Not an account's role: the public, reading incidents without a key where a site allows it
#: (Open311 reads), and only their public fields (:meth:`Incident.public`).
PUBLIC = "public"

#: Role names as messages show them.
ROLE_WORDS = {DISPATCHER: "a dispatcher", PLANNER: "a planner", WORKER: "a grid worker", OFFICE: "a service office user", ADMIN: "an administrator", PUBLIC: "an anonymous reader"}  # fmt: skip


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
    # the planner's workspace: drafts of new boundaries
    "drafts": _rule("read the boundary drafts", PLANNER, ADMIN),
    "edit_draft": _rule("edit a boundary draft", PLANNER, ADMIN),
    "rollback": _rule("roll the boundaries back to an earlier version", PLANNER, ADMIN),
    "roster": _rule("read the duty roster", DISPATCHER, PLANNER, ADMIN),
    "assign": _rule("change the duty roster", DISPATCHER, ADMIN),
    # incidents (the workflow's actions: geogrid.incidents.rules.ACTIONS)
    "report_incident": _rule("report an incident", DISPATCHER, ADMIN),
    "read_incidents": Rule(EVERYONE | {PUBLIC}, "read incidents"),
    "incident_dispatch": _rule("dispatch an incident", DISPATCHER, ADMIN),
    "incident_accept": _rule("accept an incident", WORKER, ADMIN),
    "incident_escalate": _rule("escalate an incident", DISPATCHER, WORKER, ADMIN),
    "incident_resolve": _rule("resolve an incident", WORKER, OFFICE, ADMIN),
    "incident_revisit": _rule("record a return visit", DISPATCHER, WORKER, ADMIN),
    "incident_close": _rule("close an incident", DISPATCHER, ADMIN),
    "incident_reopen": _rule("reopen an incident", DISPATCHER, ADMIN),
    "incident_cancel": _rule("cancel an incident", DISPATCHER, ADMIN),
    "incident_merge": _rule("merge incidents", DISPATCHER, ADMIN),
    "incident_reassign": _rule("reassign an incident", DISPATCHER, ADMIN),
    "incident_photo": _rule("add a photo to an incident", DISPATCHER, WORKER, OFFICE, ADMIN),
    # the reporter's and informant's names and contact: those who call them back
    # live push of incident events (geogrid.usecases.live), each in the caller's scope
    "live_events": _rule("receive live incident events"),
    "incident_contacts": _rule("see a reporter's contact", DISPATCHER, WORKER, OFFICE, ADMIN),
    "categories": _rule("edit the incident categories", ADMIN),
    # the figures (counts and rates): everyone, each within their scope (a worker's grid, an
    # office's escalated incidents), see geogrid.usecases.figures
    "figures": _rule("read the incident figures"),
    # early warning (geogrid.usecases.warnings): a grid worker sees their grid's
    "warnings": _rule("read the early warnings", DISPATCHER, PLANNER, WORKER, ADMIN),
    "acknowledge_warning": _rule("acknowledge an early warning", DISPATCHER, ADMIN),
    "sample_incidents": _rule("fill the district with a sample history of incidents", ADMIN),
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
    office: str | None = None

    @classmethod
    def of(cls, user) -> Actor:
        """The actor of a user account (:class:`geogrid.accounts.User`): a grid worker is
        scoped to their grid; a worker with no grid set acts nowhere."""
        grids = None
        if user.role == WORKER:
            grids = frozenset({user.grid_code}) if user.grid_code else frozenset()
        office = (user.office or "") if user.role == OFFICE else None
        return cls(user.username, user.role, grids, user.id, office)

    @property
    def scope(self) -> frozenset[str] | None:
        return self.grids

    @property
    def public(self) -> bool:
        """Whether this actor reads public fields only (:data:`PUBLIC_READER`)."""
        return self.role == PUBLIC

    def sees_incident(self, incident) -> bool:
        """Whether this actor may read ``incident``: a grid worker's lies in their grid, an
        office user's was escalated to their office; everyone else sees them all."""
        if self.role == OFFICE:
            return incident.office == self.office and incident.escalated_at is not None
        return self.in_scope(incident.grid_code)

    def require_incident(self, incident) -> None:
        """Raise :class:`Forbidden` unless this actor may read and act on ``incident``."""
        if self.role == OFFICE and not self.sees_incident(incident):
            raise Forbidden(
                f"{self.name} acts for {self.office or 'no office'} only: incident "
                f"{incident.id} is not escalated to it"
            )
        self.require_grid(incident.grid_code)

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
#: An anonymous reader (Open311 reads when the site needs no key for them): every incident of
#: the district, its public fields only; nothing else.
PUBLIC_READER = Actor("public", PUBLIC)


def cli_actor(name: str) -> Actor:
    """The actor of a command run on the server by ``name`` (whoever can run commands there can
    open the database anyway)."""
    return Actor(name, ADMIN)
