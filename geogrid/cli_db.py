"""The database commands, now :mod:`geogrid.cli.db`; this name is kept for existing imports."""

from __future__ import annotations

from .cli.db import (
    COMMANDS,
    actor,
    cli_user,
    db_option,
    import_to_db,
    open_store,
    shown_url,
)

__all__ = ["COMMANDS", "actor", "cli_user", "db_option", "import_to_db", "open_store", "shown_url"]
