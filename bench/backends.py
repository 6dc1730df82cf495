"""What the history benchmarks share: a fresh PostGIS database for one run, and one run of a
benchmark on SQLite and (when a server is given) PostGIS, its figures printed and written."""

from __future__ import annotations

import contextlib
import json
import tempfile
import uuid


@contextlib.contextmanager
def postgres_database(admin_url: str):
    """The URL of a new, empty database on the server of ``admin_url``, dropped afterwards."""
    import psycopg

    name = f"geogrid_bench_{uuid.uuid4().hex[:10]}"
    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_both_backends(run_backend, print_backend, args) -> list:
    """``run_backend(name, url, args)`` on a SQLite file and, with ``args.postgres``, on a new
    PostGIS database, each result printed by ``print_backend`` and, with ``args.json``, all
    written to that file."""
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        figures.append(run_backend("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args))
        print_backend(figures[-1])
    if args.postgres:
        with postgres_database(args.postgres) as url:
            figures.append(run_backend("PostGIS", url, args))
        print_backend(figures[-1])
    else:
        print("\nPostGIS: skipped (give --postgres URL or set GEOGRID_TEST_POSTGRES_URL)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return figures
