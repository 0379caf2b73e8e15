"""Password reset: a one-time token, valid for RESET_TTL, delivered by e-mail or to an admin.

Only the SHA-256 of the token is stored (the token is 256 random bits: a fast digest suffices, as
for API keys); confirming consumes it, sets the new password and voids every older session.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope
from joule.domain.audit import record
from joule.domain.operator import service
from joule.domain.operator.rules import normalise_email
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import Operator, PasswordReset
from joule.storage.repositories import operator as operators

log = logging.getLogger(__name__)

RESET_TTL = timedelta(hours=1)
SMTP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class IssuedReset:
    """A reset token for one operator (the plain token exists only here)."""

    operator: Operator
    token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_reset(
    session: AsyncSession,
    email: str,
    *,
    at: datetime,
    admin: Scope | None = None,
) -> IssuedReset | None:
    """A reset token for the active operator with this e-mail; None when there is none.

    With `admin`, the operator must be inside the admin's scope (else NotFound), and the issue is
    audited as the admin's act.
    """
    try:
        canonical = normalise_email(email)
    except Invalid:
        if admin is not None:
            raise
        return None
    operator = await operators.get_operator_by_email(session, canonical)
    if operator is None or not operator.active:
        if admin is not None:
            raise NotFound(f"operator {canonical} not found")
        return None
    if admin is not None and not service.operator_visible(admin, operator):
        raise NotFound(f"operator {canonical} not found")
    token = secrets.token_urlsafe(32)
    expires_at = at + RESET_TTL
    await operators.add_password_reset(
        session,
        PasswordReset(
            token_hash=_digest(token), operator_id=operator.id, expires_at=expires_at, created_at=at
        ),
    )
    record(
        session,
        actor=admin.actor if admin is not None else operator.email,
        actor_type=admin.actor_type if admin is not None else "operator",
        organisation_id=operator.organisation_id,
        action="operator.password_reset.issue",
        object_type="operator",
        object_id=operator.id,
        changes={"expires_at": expires_at},
        at=at,
    )
    return IssuedReset(operator=operator, token=token, expires_at=expires_at)


async def confirm_reset(
    session: AsyncSession, token: str, new_password_hash: str, *, at: datetime
) -> Operator:
    """Consume a valid token and set the new password; Invalid when unknown, used or expired."""
    reset = await operators.get_password_reset(session, _digest(token))
    expires_at = None if reset is None else reset.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if (
        reset is None
        or reset.operator_id is None
        or reset.used_at is not None
        or expires_at is None
        or at >= expires_at
    ):
        raise Invalid("the reset token is invalid, used or expired")
    operator = await operators.get_operator(session, reset.operator_id)
    if operator is None or not operator.active:
        raise Invalid("the reset token is invalid, used or expired")
    reset.used_at = at
    await service.set_password(session, operator, new_password_hash, actor=operator.email, at=at)
    return operator


def reset_message(sender: str, issued: IssuedReset, link_hint: str) -> EmailMessage:
    """The e-mail that carries a reset token to its operator."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = issued.operator.email
    message["Subject"] = "Joule password reset"
    message.set_content(
        "Someone asked to reset the password of your Joule account.\n\n"
        f"Reset token: {issued.token}\n"
        f"Valid until: {issued.expires_at.isoformat()}\n\n"
        f"{link_hint}\n\nIf this was not you, ignore this message; your password is unchanged.\n"
    )
    return message


async def send_reset_mail(
    host: str, port: int, sender: str, issued: IssuedReset, *, link_hint: str
) -> bool:
    """Deliver the token over SMTP (off the event loop); False when delivery failed."""
    message = reset_message(sender, issued, link_hint)

    def send() -> None:
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.send_message(message)

    try:
        await asyncio.to_thread(send)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("password reset mail to operator %s failed: %s", issued.operator.id, error)
        return False
    return True
