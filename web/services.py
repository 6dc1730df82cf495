"""The core service behind the app: one :class:`geogrid.service.Service` per process."""

from __future__ import annotations

import threading

from flask import current_app

from geogrid.db import Store
from geogrid.service import Service

_lock = threading.Lock()
#: How often (seconds) each process checks the database for a new version or roster change.
WATCH_INTERVAL = 0.1


def service() -> Service:
    """The app's Service (created on first use; the database must be initialised, which
    ``geogrid serve`` and ``geogrid init-db`` do)."""
    ext = current_app.extensions
    svc = ext.get("geogrid.service")
    if svc is None:
        with _lock:
            svc = ext.get("geogrid.service")
            if svc is None:
                store = Store(current_app.config["DATABASE_URL"])
                svc = Service(
                    store,
                    current_app.config.get("DISTRICT_CODE"),
                    watch=True,
                    check_interval=WATCH_INTERVAL,
                )
                ext["geogrid.service"] = svc
    return svc


def prewarm(app) -> threading.Thread:
    """Build this process's Service and warm what a first page would otherwise wait for (the
    figures' per-month sums), in a background thread: ``geogrid serve`` starts it in each
    worker after the fork. A failure is logged; the pages compute on demand then."""

    def run():
        from geogrid.usecases import figures

        with app.app_context():
            try:
                figures.warm(service())
            except Exception:  # noqa: BLE001 - warming is an optimisation, never a crash
                app.logger.exception("warming the figures failed")

    thread = threading.Thread(target=run, name="geogrid-prewarm", daemon=True)
    thread.start()
    return thread


def store() -> Store:
    return service().store
