"""URL helpers. A leaf: imports nothing from ``web``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str:
    """A local path to go to (after logging in, after switching language); anything else (another site, ``//host``,
    ``/\\host`` which browsers read as ``//host``, control characters) goes to the map."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and "\\" not in target
            and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
        ):
            return target
    return url_for("maps.index")
