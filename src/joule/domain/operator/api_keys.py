"""API keys for integrations: scoped to an organisation and a role, shown once, revocable.

A key reads `jk_<prefix>_<secret>`. The prefix (public, unique) finds the row; the secret is 32
random bytes (256 bits) and only its SHA-256 digest is stored. A slow password hash (Argon2id)
protects *low-entropy* secrets against offline guessing; a 256-bit random secret cannot be
guessed, so a fast digest is as safe here and lets every API request verify its key in
microseconds instead of tens of milliseconds of Argon2 (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, build_scope, organisation_condition
from joule.domain.audit import record
from joule.domain.operator.rules import parse_role
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import ApiKey
from joule.storage.repositories import api_key as keys

KEY_MARK = "jk"
PREFIX_BYTES = 6  # 8 url-safe characters: enough to be unique, short enough to show in lists
SECRET_BYTES = 32
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most once a minute per key
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its secret text, which is shown once and never stored."""

    key: ApiKey
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:  # SQLite hands back naive UTC
        return at.replace(tzinfo=UTC)
    return at


def looks_like_key(presented: str) -> bool:
    """True when a bearer credential has the shape of an API key (not a JWT)."""
    return presented.startswith(KEY_MARK + "_")


def split_key(presented: str) -> tuple[str, str] | None:
    """The (prefix, secret) of a `jk_<prefix>_<secret>` key, or None when malformed."""
    mark, sep, rest = presented.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if mark != KEY_MARK or not sep or not sep2 or not prefix or not secret:
        return None
    return prefix, secret


def _new_prefix() -> str:
    # token_urlsafe may contain "_", the separator: use hex for the prefix.
    return secrets.token_hex(PREFIX_BYTES)


async def issue_key(
    session: AsyncSession,
    caller: Scope,
    *,
    name: str,
    role: str,
    organisation_id: str | None,
    expires_at: datetime | None,
    at: datetime,
) -> IssuedKey:
    """Create a key inside the caller's scope; its role can be no stronger than the caller's."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"an API key needs a name of 1 to {MAX_NAME_LENGTH} characters")
    parsed = parse_role(role)
    if organisation_id is None:
        organisation_id = caller.organisation_id
    if not caller.sees_organisation(organisation_id) or (
        organisation_id is None and not caller.is_root
    ):
        raise NotFound(f"organisation {organisation_id} not found")
    if expires_at is not None and _aware(expires_at) <= at:  # type: ignore[operator]
        raise Invalid("expires_at must be in the future")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    prefix = _new_prefix()
    key = await keys.add_key(
        session,
        ApiKey(
            prefix=prefix,
            key_hash=_digest(secret),
            name=name,
            organisation_id=organisation_id,
            role=parsed.value,
            created_by=caller.actor,
            created_at=at,
            expires_at=expires_at,
        ),
    )
    record(
        session,
        actor=caller.actor,
        actor_type=caller.actor_type,
        organisation_id=organisation_id,
        action="api_key.create",
        object_type="api_key",
        object_id=key.id,
        changes={"name": name, "role": parsed.value, "prefix": prefix, "expires_at": expires_at},
        at=at,
    )
    return IssuedKey(key=key, secret=f"{KEY_MARK}_{prefix}_{secret}")


async def list_keys(
    session: AsyncSession, caller: Scope, *, limit: int, offset: int
) -> tuple[list[ApiKey], int]:
    """The keys of the caller's organisations (root callers: every key)."""
    visible = organisation_condition(caller, ApiKey.organisation_id)
    return await keys.list_keys(session, visible=visible, limit=limit, offset=offset)


async def revoke_key(session: AsyncSession, caller: Scope, key_id: int, *, at: datetime) -> ApiKey:
    """Revoke a key at once (the next request with it is 401); 404 outside the scope."""
    key = await keys.get_key(session, key_id)
    if key is None or not caller.sees_organisation(key.organisation_id):
        raise NotFound(f"API key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = at
        record(
            session,
            actor=caller.actor,
            actor_type=caller.actor_type,
            organisation_id=key.organisation_id,
            action="api_key.revoke",
            object_type="api_key",
            object_id=key.id,
            changes={"name": key.name, "prefix": key.prefix},
            at=at,
        )
    return key


@dataclass(frozen=True, slots=True)
class KeyCaller:
    """A verified key, its scope, and whether its last_used_at is due for an update."""

    key_id: int
    scope: Scope
    touch_due: bool


async def authenticate_key(
    session: AsyncSession, presented: str, *, now: datetime
) -> KeyCaller | None:
    """The scope of a valid, unrevoked, unexpired key; None otherwise (the caller answers 401)."""
    parts = split_key(presented)
    if parts is None:
        return None
    prefix, secret = parts
    key = await keys.get_by_prefix(session, prefix)
    if key is None or not hmac.compare_digest(key.key_hash, _digest(secret)):
        return None
    if key.revoked_at is not None:
        return None
    expires_at = _aware(key.expires_at)
    if expires_at is not None and now >= expires_at:
        return None
    scope = await build_scope(
        session,
        organisation_id=key.organisation_id,
        role=key.role,
        actor=f"api-key:{key.prefix}",
        actor_type="api_key",
    )
    last = _aware(key.last_used_at)
    return KeyCaller(
        key_id=key.id, scope=scope, touch_due=last is None or now - last >= TOUCH_EVERY
    )


async def touch_key(session: AsyncSession, key_id: int, *, at: datetime) -> None:
    """Record the key's use (called at most once a minute per key)."""
    await keys.touch(session, key_id, at)
