"""``geogrid serve``: the web service for one machine (gunicorn, several workers).

Registered with the core CLI through the ``geogrid.commands`` entry point, so the core library
itself never imports Flask.
"""

from __future__ import annotations

import secrets

import click

from geogrid.cli_db import db_option, open_store, shown_url
from geogrid.service import Service

#: Demo accounts created by ``serve --demo`` on a database without users.
DEMO_USERS = [
    ("diaodu", "dispatcher", "调度员（演示）", None),
    ("guihua", "planner", "规划员（演示）", None),
    ("wangge", "worker", "网格员（演示）", "320113005007007"),
    ("chengguan", "office", "城管执法中队（演示）", "城管执法中队"),
    ("admin", "admin", "管理员（演示）", None),
]


def create_demo_users(store) -> list[tuple[str, str, str]]:
    """Demo accounts with fresh random passwords, only on a database without any user."""
    if store.users():
        return []
    made = []
    for username, role, name, where in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        store.create_user(
            username, password, role, display_name=name, actor="serve --demo",
            grid_code=where if role == "worker" else None,
            office=where if role == "office" else None,
        )  # fmt: skip
        made.append((username, role, password))
    return made


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.option(
    "--demo",
    is_flag=True,
    help="On an empty embedded database, create demo accounts and print their passwords once.",
)
def serve(db_url, host, port, workers, threads, demo):
    """Run the web service (gunicorn) after creating or upgrading the database and, if it is
    empty, loading the bundled sample district."""
    from web import create_app

    app = create_app({"DATABASE_URL": db_url} if db_url else None)
    store = open_store(app.config["DATABASE_URL"], upgrade=False)  # bootstrap upgrades it
    svc = Service.bootstrap(store)
    version = store.current_version(svc.district_code)  # the workers build their own locators
    click.echo(
        f"Database {shown_url(app.config['DATABASE_URL'])}: district {svc.district_code}, version {version.number}"
    )
    if demo:
        if store.dialect != "sqlite":
            raise click.UsageError("--demo is for the embedded SQLite database only")
        made = create_demo_users(store)
        if made:
            click.echo("Demo accounts (passwords are shown this once):")
            for username, role, password in made:
                click.echo(f"  {username:<8} {role:<11} {password}")
    store.dispose()
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    _run_gunicorn(app, f"{host}:{port}", workers, threads)


def _run_gunicorn(app, bind: str, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from .services import prewarm

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": "web.gunicorn_worker.LiveWorker",
                "accesslog": "-",
                "timeout": 60,
                # each worker, once forked, warms the figures' sums in the background
                "post_worker_init": lambda worker: prewarm(app),
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()
