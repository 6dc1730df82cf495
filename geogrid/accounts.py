"""Users, roles, password hashes and API tokens (no web framework involved).

Passwords are hashed with scrypt (standard library) and a random salt; API tokens are random
strings shown once and stored only as their SHA-256.

>>> h = hash_password("correct horse")
>>> h.startswith("scrypt$"), verify_password("correct horse", h), verify_password("wrong", h)
(True, True, False)
>>> t = new_token()
>>> t.startswith("ggt_"), len(token_hash(t))
(True, 64)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .errors import InputError

#: The roles (their names on screen come from the web app's translations).
ROLES = ("dispatcher", "planner", "worker", "office", "admin")

_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8
#: The login form accepts up to this many characters; a longer password could never be typed.
MAX_PASSWORD = 128

#: Passwords among the most common ones (and those a Chinese office tries first): refused.
COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password123",
        "passw0rd",
        "12345678",
        "123456789",
        "1234567890",
        "87654321",
        "11111111",
        "00000000",
        "88888888",
        "66666666",
        "123123123",
        "12341234",
        "11223344",
        "qwertyui",
        "qwerty123",
        "qwertyuiop",
        "1qaz2wsx",
        "1q2w3e4r",
        "asdfghjk",
        "abc12345",
        "abcd1234",
        "a1234567",
        "iloveyou",
        "admin123",
        "admin888",
        "administrator",
        "welcome1",
        "changeme",
        "letmein1",
        "sunshine",
        "woaini520",
        "woaini1314",
        "5201314520",
        "aa123456",
        "zxcvbnm123",
    ]
)


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in a self-describing string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        salt_b, digest_b = base64.urlsafe_b64decode(salt), base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=salt_b, n=int(n), r=int(r), p=int(p), dklen=len(digest_b)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, digest_b)


def check_password(password: str, username: str | None = None) -> None:
    """Raise :class:`InputError` for a password the login form could not take or that is too
    easy to guess: 8 to 128 characters, not blank, no spaces around it, not a common password,
    not containing the username.

    >>> check_password("Tiger-lily-42", "diaodu")
    >>> check_password("my-diaodu-pw", "diaodu")
    Traceback (most recent call last):
    ...
    geogrid.errors.InputError: a password must not contain the username
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"a password may have at most {MAX_PASSWORD} characters")
    if password != password.strip():
        raise InputError("a password must not begin or end with a space")
    if password.lower() in COMMON_PASSWORDS:
        raise InputError("this password is among the most common ones: choose another")
    name = (username or "").strip().lower()
    if name and name in password.lower():
        raise InputError("a password must not contain the username")


@functools.cache
def dummy_hash() -> str:
    """A hash of no one's password, with the same cost as real ones: checked against when the
    username is unknown, so that a failed login takes as long either way."""
    return hash_password(secrets.token_urlsafe(16))


def new_session_secret() -> str:
    """The secret of a new login session (its cookie's value)."""
    return secrets.token_urlsafe(32)


def check_username(username: str | None) -> str:
    """The username as stored (surrounding spaces removed); :class:`InputError` if empty or too
    long."""
    username = (username or "").strip()
    if not username or len(username) > 100:
        raise InputError("a username needs 1 to 100 characters")
    return username


def check_role(role: str, *, grid_code: str | None = None, office: str | None = None) -> None:
    """Raise :class:`InputError` for an unknown role, or an account that could act nowhere: a
    grid worker needs a grid, an office user an office."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    if role == "office" and not (office or "").strip():
        raise InputError("an office user needs the name of their service office")


def new_token() -> str:
    """A fresh API token (shown to its owner once)."""
    return "ggt_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    """A user account as the application sees it (never with its password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    grid_code: str | None
    active: bool
    #: An office user's service office (the name incidents are escalated to).
    office: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "grid_code": self.grid_code,
            "active": self.active,
            "office": self.office,
        }
