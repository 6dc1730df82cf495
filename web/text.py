"""Texts of the interface that several modules show: the translation marker, role names and
the error pages' standard messages. A leaf: imports nothing from ``web``."""

from __future__ import annotations

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; it is translated where shown."""
    return message


ROLE_LABELS = {
    "dispatcher": N_("Dispatcher"),
    "planner": N_("Planner"),
    "worker": N_("Grid worker"),
    "office": N_("Service office"),
    "admin": N_("Administrator"),
}

#: Incident states (geogrid.incidents.STATES) and their colour on the map and in lists.
STATE_LABELS = {
    "reported": (N_("Reported"), "#7c3aed"),
    "dispatched": (N_("Dispatched"), "#2563eb"),
    "handling": (N_("Being handled"), "#0891b2"),
    "escalated": (N_("Joint handling"), "#d97706"),
    "resolved": (N_("Resolved, return visit due"), "#16a34a"),
    "revisited": (N_("Return visit passed"), "#15803d"),
    "closed": (N_("Closed"), "#6b7280"),
    "cancelled": (N_("Cancelled"), "#9ca3af"),
    "merged": (N_("Merged"), "#9ca3af"),
}

#: What a page (not the API) says for common statuses, in the interface language.
PAGE_MESSAGES = {
    400: N_("The request could not be understood. Go back and try again."),
    403: N_("Your account may not see this page."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used that way."),
    413: N_("What you sent is too large."),
    429: N_("Too many failed attempts from this address. Wait a few minutes and try again."),
    500: N_("Something went wrong on our side; it has been logged."),
}


def role_name(role: str) -> str:
    """A role's name in the interface language."""
    return gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def state_name(state: str) -> str:
    """An incident state's name in the interface language."""
    return gettext(STATE_LABELS[state][0]) if state in STATE_LABELS else state


def standard_page_text(status: int, default: str) -> str:
    """The translated standard text of an error page for ``status``, else ``default``."""
    return gettext(PAGE_MESSAGES[status]) if status in PAGE_MESSAGES else default
