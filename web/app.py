"""Building the Flask app (see :func:`web.create_app`)."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from geogrid.db.engine import default_instance_dir

from . import (
    account,
    admin,
    api,
    assets,
    auth,
    compress,
    errors,
    exchange,
    figures,
    health,
    i18n,
    incidents,
    limits,
    maps,
    ogc,
    open311,
    phone,
    planning,
    security,
    text,
    versions,
    warnings,
)
from . import config as _config
from .api import search
from .extensions import babel, csrf, login_manager


def build(config: dict | None = None) -> Flask:
    """The application, configured from defaults, ``instance/config.py``, ``GEOGRID_*``
    environment variables and finally ``config``."""
    # the instance folder (SQLite file, secret key, compiled catalogues, config.py): the same
    # place the core's command line uses, $GEOGRID_INSTANCE or instance/ beside the package
    app = Flask(__name__, instance_path=str(default_instance_dir()), instance_relative_config=True)
    _config.load(app, config)
    if app.config["PROXY_FIX"]:
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)

    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=i18n.catalog_dir(app),
    )

    for module in (
        auth,
        maps,
        api,
        search,
        incidents,
        figures,
        planning,
        versions,
        warnings,
        exchange,
        open311,
        ogc,
        phone,
        account,
        admin,
        assets,
        health,
        i18n,
        compress,
    ):
        app.register_blueprint(module.bp)
    app.view_functions["static"] = assets.static_file
    errors.register(app)
    security.init_app(app)
    limits.init_app(
        app,
        login_view="auth.login",
        api_blueprints=(api.bp, search.bp, ogc.bp),
        key_blueprints=(open311.bp,),
    )
    app.jinja_env.globals["languages"] = app.config["LANGUAGES"]
    app.jinja_env.globals["role_name"] = text.role_name
    app.jinja_env.globals["get_locale"] = get_locale
    return app
