"""API tokens: create (plaintext shown once), list, revoke, and authenticate a bearer token."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import driver_connection
from ..errors import Conflict, InvalidInput, NotFound
from ..models import ROLES, TOKEN_NAME_MAX, ApiToken

#: Random bytes per token; token_urlsafe encodes them as 43 characters.
TOKEN_BYTES = 32

# Driver SQL, each statement in autocommit: authentication runs on every authorized request.
_FIND = """
    SELECT id, name, role, token_hash,
           last_used_at IS NULL OR last_used_at < now() - interval '1 minute' AS stale
    FROM api_tokens
    WHERE token_hash = %s AND revoked_at IS NULL
"""

# SKIP LOCKED: when several requests find the same stale token, one writes and none waits.
_TOUCH = """
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = (SELECT id FROM api_tokens
                WHERE id = %s
                  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
                FOR UPDATE SKIP LOCKED)
"""


def token_hash(token: str) -> bytes:
    """SHA-256 of the token: 32 random bytes cannot be guessed, so a fast hash suffices."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def check_name(name) -> str:
    """A token name: 1..100 printable characters without surrounding spaces (it goes into logs)."""
    if not isinstance(name, str) or not name or len(name) > TOKEN_NAME_MAX:
        raise InvalidInput(f"name must be 1 to {TOKEN_NAME_MAX} characters",
                           {"name": [f"must be 1 to {TOKEN_NAME_MAX} characters"]})
    if not name.isprintable() or name != name.strip():
        raise InvalidInput("name must be printable, without leading or trailing spaces",
                           {"name": ["must be printable, without leading or trailing spaces"]})
    return name


def check_role(role) -> str:
    """One of device, monitor, admin."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}",
                           {"role": [f"must be one of {', '.join(ROLES)}"]})
    return role


def create_token(session: Session, name: str, role: str) -> tuple[str, ApiToken]:
    """Create a token; returns the plaintext (never stored) and the detached row."""
    token = ApiToken(name=check_name(name), role=check_role(role))
    plaintext = secrets.token_urlsafe(TOKEN_BYTES)
    token.token_hash = token_hash(plaintext)
    try:
        with session.begin():
            session.add(token)
            session.flush()
            session.refresh(token)
            session.expunge(token)
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        if getattr(diag, "constraint_name", None) == "uq_api_tokens_name":
            raise Conflict(f"A token named {name!r} already exists",
                           {"name": ["already exists"]}) from None
        raise
    return plaintext, token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, oldest first, detached (callers show names and dates, never the hash)."""
    with session.begin():
        tokens = session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()
        for token in tokens:
            session.expunge(token)
    return list(tokens)


def active_token_count(session: Session) -> int:
    """How many tokens are not revoked."""
    with session.begin():
        return session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None)))


def revoke_token(session: Session, name: str) -> ApiToken:
    """Revoke a token by name (idempotent: the first revocation time stays); NotFound if unknown."""
    with session.begin():
        token = session.scalars(
            select(ApiToken).where(ApiToken.name == name).with_for_update()).one_or_none()
        if token is None:
            raise NotFound(f"No token named {name!r}")
        if token.revoked_at is None:
            token.revoked_at = func.now()
            session.flush()
            session.refresh(token)
        session.expunge(token)
    return token


def authenticate(engine: Engine, token: str) -> tuple[str, str] | None:
    """(name, role) of a valid token; None when unknown or revoked.

    Every authorized request runs this, so it is one autocommit SELECT on a driver connection
    (a Session spent three round trips on it: BEGIN, SELECT, COMMIT - more than the poll it
    guarded). last_used_at is written at most once a minute, as a statement of its own.
    """
    digest = token_hash(token)
    with driver_connection(engine) as raw:
        row = raw.execute(_FIND, (digest,)).fetchone()
        if row is None:
            return None
        token_id, name, role, stored, stale = row
        if not hmac.compare_digest(bytes(stored), digest):
            return None
        if stale:
            raw.execute(_TOUCH, (token_id,))
    return name, role
