"""The geogrid web service: a thin Flask layer over the core library.

``create_app(config=None)`` builds the app; every feature is a blueprint whose views parse input,
call one core function and serialise the answer. Run it with ``geogrid serve`` (one machine) or
under gunicorn (``gunicorn 'web:create_app()'``). Importing this package does not import Flask,
so the ``geogrid`` command line stays light.
"""

from __future__ import annotations


def create_app(config: dict | None = None):
    """The application, configured from defaults, ``instance/config.py``, ``GEOGRID_*``
    environment variables and finally ``config`` (a mapping, e.g. in tests)."""
    from .app import build

    return build(config)
