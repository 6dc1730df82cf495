"""Throttling of password and token guesses (Flask-Limiter).

Only failures count (``deduct_when``): a failed login (the form answers 401) and an API request
refused for its Bearer token (401). Once a limit is reached, further attempts are refused with
429 and a ``Retry-After`` header *before* the password or token is checked, until the window
moves on:

* ``LOGIN_LIMIT_PER_ACCOUNT`` (default 20 per 15 minutes) counts failures per username *and*
  address, so an attacker guessing a dispatcher's password locks out only themselves: the
  dispatcher logs in from their own address as usual;
* ``LOGIN_LIMIT_PER_ADDRESS`` (default 100 per 15 minutes) counts failures per address, whatever
  the username (one machine trying many accounts);
* ``TOKEN_LIMIT_PER_ADDRESS`` (default 60 per 15 minutes) counts wrong or revoked API tokens per
  address: Bearer tokens on the API and Open311's ``api_key`` (refused with 403, as its spec
  says) in one count.

Windows move (``moving-window``): no lockout lasts longer than the window after the last failure.
The counters live in ``RATELIMIT_STORAGE_URI``: ``memory://`` by default, which counts per
process (each gunicorn worker has its own counters, so the effective limit is that many times
higher); set a shared store such as ``redis://host:6379`` (environment variable
``GEOGRID_RATELIMIT_STORAGE_URI``) to count across workers and machines.
The address is the client's as the app sees it: behind a reverse proxy set ``PROXY_FIX``.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import open311
from .auth import bearer_token

TOO_MANY_LOGINS = "too many failed logins from this address: wait a few minutes and try again"
TOO_MANY_TOKENS = "too many requests with a wrong API token from this address: wait and retry"


def _account_and_address() -> str:
    username = (request.form.get("username") or "").strip().lower()
    return f"{username}@{get_remote_address()}"


def _failed_login(response) -> bool:
    return request.method == "POST" and response.status_code == 401


def _wrong_token(response) -> bool:
    return response.status_code == 401 and bearer_token() is not None


def _wrong_api_key(response) -> bool:
    return g.get("wrong_api_key", False)


def init_app(app: Flask, *, login_view: str, api_blueprints, key_blueprints=()) -> Limiter:
    """A limiter of this app's own (its counters are not shared with another app in the same
    process), throttling failed logins at ``login_view``, wrong tokens on the API
    (``api_blueprints``) and wrong Open311 api_keys (``key_blueprints``)."""
    limiter = Limiter(get_remote_address, app=app)
    config = app.config
    for limit, key in (
        (config["LOGIN_LIMIT_PER_ACCOUNT"], _account_and_address),
        (config["LOGIN_LIMIT_PER_ADDRESS"], get_remote_address),
    ):
        app.view_functions[login_view] = limiter.limit(
            limit,
            key_func=key,
            methods=["POST"],
            deduct_when=_failed_login,
            error_message=TOO_MANY_LOGINS,
            scope=key.__name__,
        )(app.view_functions[login_view])
    for blueprint in api_blueprints:
        limiter.shared_limit(  # shared: one count over every API endpoint
            config["TOKEN_LIMIT_PER_ADDRESS"],
            "api-token",
            deduct_when=_wrong_token,
            exempt_when=lambda: bearer_token() is None,
            error_message=TOO_MANY_TOKENS,
        )(blueprint)
    for blueprint in key_blueprints:
        limiter.shared_limit(  # the same count as the API's
            config["TOKEN_LIMIT_PER_ADDRESS"],
            "api-token",
            deduct_when=_wrong_api_key,
            exempt_when=lambda: open311.api_key() is None,
            error_message=TOO_MANY_TOKENS,
        )(blueprint)
    return limiter
