"""Settings: defaults, then ``instance/config.py``, then ``GEOGRID_*`` environment variables,
then the ``config`` mapping given to :func:`web.create_app` (tests)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from geogrid import settings

#: Environment variables read at start-up and the setting each one fills.
ENV = settings.WEB

DEFAULTS = {
    "DATABASE_URL": None,  # None: the SQLite file instance/geogrid.sqlite3
    "TIANDITU_KEY": "",
    "DISTRICT_CODE": None,  # None: the only district in the database
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PROXY_FIX": 0,  # number of reverse proxies in front (X-Forwarded-* trusted from them)
    "MAX_LOCATE_POINTS": 100_000,
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "zh",
    "LANGUAGES": {"zh": "中文", "en": "English"},
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    # Throttling of failed logins and wrong API tokens (web/limits.py)
    "RATELIMIT_STORAGE_URI": "memory://",  # per process; redis://… to count across workers
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_LIMIT_PER_ACCOUNT": "20 per 15 minutes",  # per username and address
    "LOGIN_LIMIT_PER_ADDRESS": "100 per 15 minutes",
    "TOKEN_LIMIT_PER_ADDRESS": "60 per 15 minutes",
    # Open311 GeoReport v2 (web/open311.py)
    "OPEN311_JURISDICTION": "",  # the jurisdiction_id served; "": the district's code
    "OPEN311_READ_NEEDS_KEY": False,  # reads (GET) need an api_key too
}

_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _coerce(key: str, value: str):
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        try:
            return _BOOL[value.strip().lower()]
        except KeyError:
            raise ValueError(f"{key}: expected a yes/no value, got {value!r}") from None
    if isinstance(default, int):
        return int(value)
    return value


def load(app, overrides: dict | None) -> None:
    """Fill ``app.config`` in order of precedence (later wins)."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for env, key in ENV.items():
        if (value := settings.get(env)) is not None:
            app.config[key] = _coerce(key, value)
    app.config.update(overrides or {})
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'geogrid.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))


def instance_secret(instance: Path) -> str:
    """A secret key kept in the instance folder, made once (shared by the workers of one machine;
    set GEOGRID_SECRET_KEY when several machines serve the same site)."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic: the first worker's key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip()
