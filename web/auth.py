"""Accounts on the web: log in and out (sessions), API tokens, and who may do what.

Pages use the session (Flask-Login, secure cookie flags, CSRF on every form). Other systems call
the API with ``Authorization: Bearer <token>`` (tokens from the account page or an admin); a
session also works for the API from the app's own pages, with the CSRF token in the
``X-CSRFToken`` header for POSTs.
"""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from geogrid.access import Actor
from geogrid.accounts import User

from .extensions import csrf, login_manager
from .responses import json_error, wants_json
from .services import store
from .urls import safe_next

bp = Blueprint("auth", __name__)


class WebUser(UserMixin):
    """A geogrid user as Flask-Login wants it. Its ``id`` (what the signed session cookie
    keeps) is the secret of a server-side login session, not the user's number: logging out
    ends that session, so a cookie saved before no longer works anywhere. A caller with a
    token has no session (``id`` is the user's number then, and is never put in a cookie)."""

    def __init__(self, user: User, session: str | None = None):
        self.user = user
        self.id = session if session is not None else str(user.id)
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.grid_code = user.grid_code

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def load_user(session: str):
    user = store().session_user(session)
    return WebUser(user, session) if user is not None else None


@login_manager.unauthorized_handler
def unauthorized():
    if wants_json():
        return json_error(
            401, "authentication required: log in, or send Authorization: Bearer <token>"
        )
    return redirect(
        url_for("auth.login", next=request.full_path if request.query_string else request.path)
    )


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def api_user() -> WebUser | None:
    """The caller of an API request: a Bearer token's owner, else the session's user.

    A request that sends a token is judged by the token alone (a wrong or revoked token is
    rejected even when a session cookie is also present)."""
    token = bearer_token()
    if token is not None:
        user = store().user_for_token(token) if token else None
        return WebUser(user) if user else None
    return current_user if current_user.is_authenticated else None


#: Methods that change nothing and need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_api_caller():
    """Authenticate an API request (for ``Blueprint.before_request``).

    Returns a 401 JSON response for an anonymous caller, else None. Token-authenticated requests need no CSRF token (another system cannot be
    tricked into sending a token it does not have); session-authenticated ones that change
    something must send the page's CSRF token in the ``X-CSRFToken`` header (400 otherwise).
    The API blueprints are exempt from the global CSRF check so that this rule applies.
    """
    user = api_user()
    if user is None:
        resp, status = json_error(
            401, "authentication required: log in, or send Authorization: Bearer <token>"
        )
        resp.headers["WWW-Authenticate"] = 'Bearer realm="geogrid"'
        return resp, status
    if request.method not in SAFE_METHODS and bearer_token() is None:
        csrf.protect()
    g.actor = Actor.of(user.user)  # what the use cases check roles and grid scope against
    return None


def roles_required(*roles: str):
    """Pages: only these roles (others get 403; anonymous users go to the login page)."""

    def deco(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return deco


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = store().authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            flash(_("Wrong username or password."), "error")
        else:
            session.clear()  # nothing of an earlier visit carries over (session fixation)
            login_user(WebUser(user, store().start_session(user.id)))
            return redirect(safe_next(request.args.get("next")))
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        store().end_session(current_user.id)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.before_app_request
def remember_caller():
    """``g.user`` and, for a logged-in page user, ``g.actor`` (what the use cases check; the
    API sets it from the token or session in :func:`check_api_caller`)."""
    g.user = current_user if current_user.is_authenticated else None
    if g.user is not None:
        g.actor = Actor.of(g.user.user)
