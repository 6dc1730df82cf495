"""The environment: every ``GEOGRID_*`` variable geogrid reads, named and read here only.

The web service adds its own settings on top (``web/config.py``: ``instance/config.py``, then the
variables of :data:`WEB`, then the mapping given to ``create_app``), and reads them through
:func:`get` too.

>>> sorted(CORE)[:2]
['GEOGRID_ALLOW_EXCLAVES', 'GEOGRID_DATA']
"""

from __future__ import annotations

import os
from pathlib import Path

#: Variables of the core (command line, library) and what each one sets.
CORE = {
    "GEOGRID_DATABASE_URL": "the database (default: the SQLite file in the instance folder)",
    "GEOGRID_INSTANCE": "the instance folder (default: instance/ beside the package)",
    "GEOGRID_DATA": "the district directory used without --data (default: the bundled sample)",
    "GEOGRID_PASSWORD": "the password of create-user / set-password instead of a prompt",
    "GEOGRID_PHOTO_DIR": "the folder incident photos are kept in (default: photos/ in the instance folder)",
    "GEOGRID_PHOTO_MAX_MB": "the largest incident photo accepted, in MB (default 10)",
    "GEOGRID_REVISIT_WORKDAYS": "working days from resolving an incident to its return visit (default 3)",
    "GEOGRID_DUE_SOON_HOURS": "an incident is due soon this many hours before its deadline (default 24)",
    "GEOGRID_DUPLICATE_RADIUS_M": "possible duplicates: same category within this many metres (default 100)",
    "GEOGRID_DUPLICATE_DAYS": "possible duplicates: reported within this many days (default 7)",
    "GEOGRID_WARN_REPEAT_COUNT": "early warning, repeats: this many incidents of one category in one grid (default 3)",
    "GEOGRID_WARN_REPEAT_DAYS": "early warning, repeats: ...within this many days (default 30)",
    "GEOGRID_WARN_RECUR_DAYS": "early warning, recurrences: return visits passed within this many days (default 30)",
    "GEOGRID_WARN_RECUR_RADIUS_M": "early warning, recurrences: a new report of the same category this close to a revisited incident (default 100)",
    "GEOGRID_WARN_CLUSTER_COUNT": "early warning, clusters: this many reports (default 5)",
    "GEOGRID_WARN_CLUSTER_RADIUS_M": "early warning, clusters: ...within this many metres of one of them (default 200)",
    "GEOGRID_WARN_CLUSTER_HOURS": "early warning, clusters: ...in this many hours (default 72)",
    "GEOGRID_WARN_SURGE_WEEKS": "early warning, surges: a grid's usual level measured over this many weeks (default 8)",
    "GEOGRID_WARN_SURGE_SD": "early warning, surges: open or overdue count above the usual mean by this many standard deviations (default 2)",
    "GEOGRID_WARN_SURGE_MIN": "early warning, surges: ...and by at least this many incidents (default 3)",
    "GEOGRID_WARN_CACHE_S": "how long the warnings badge's count may be reused, seconds (default 30; 0: never)",
    "GEOGRID_ALLOW_EXCLAVES": "a multi-part grid (exclave, 飞地) is a notice (1, the default) or an error blocking an import or a publication (0)",
}

#: Variables of the web service and the setting (``app.config`` key) each one fills.
WEB = {
    "GEOGRID_DATABASE_URL": "DATABASE_URL",
    "GEOGRID_SECRET_KEY": "SECRET_KEY",
    "GEOGRID_TIANDITU_KEY": "TIANDITU_KEY",
    "GEOGRID_DISTRICT": "DISTRICT_CODE",
    "GEOGRID_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "GEOGRID_PROXY_FIX": "PROXY_FIX",
    "GEOGRID_MAX_LOCATE_POINTS": "MAX_LOCATE_POINTS",
    "GEOGRID_LANGUAGE": "BABEL_DEFAULT_LOCALE",
    "GEOGRID_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "GEOGRID_OPEN311_READ_KEY": "OPEN311_READ_NEEDS_KEY",
    "GEOGRID_OPEN311_JURISDICTION": "OPEN311_JURISDICTION",
}

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def get(name: str) -> str | None:
    """The value of a ``GEOGRID_*`` variable, or None when it is unset or blank."""
    if name not in CORE and name not in WEB:
        raise KeyError(f"{name} is not a geogrid setting (add it to geogrid.settings)")
    value = os.environ.get(name, "")
    return value if value.strip() else None


def instance_dir() -> Path:
    """The instance folder: ``$GEOGRID_INSTANCE``, else ``instance/`` beside the package."""
    return Path(get("GEOGRID_INSTANCE") or _PACKAGE_ROOT / "instance")


def database_url() -> str:
    """``$GEOGRID_DATABASE_URL``, else the SQLite file in the instance folder."""
    return get("GEOGRID_DATABASE_URL") or f"sqlite:///{instance_dir() / 'geogrid.sqlite3'}"


def data_dir() -> Path | None:
    """``$GEOGRID_DATA`` (a district directory), or None for the bundled sample."""
    value = get("GEOGRID_DATA")
    return Path(value) if value else None


def number(name: str, default: float, low: float, high: float) -> float:
    """A numeric setting: its value, else ``default``; :class:`~geogrid.errors.InputError`
    naming the variable when it is not a number from ``low`` to ``high``."""
    from .errors import InputError

    value = get(name)
    if value is None:
        return default
    try:
        n = float(value)
    except ValueError:
        n = low - 1
    if not low <= n <= high:
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return n


def flag(name: str, default: bool) -> bool:
    """A yes/no setting (1/0, true/false, yes/no, on/off): its value, else ``default``;
    :class:`~geogrid.errors.InputError` naming the variable for anything else."""
    from .errors import InputError

    value = get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {value!r}")
