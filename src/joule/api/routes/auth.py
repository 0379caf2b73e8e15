"""Operator login (OAuth2 password flow → bearer token), password change and reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from joule.api.deps import CurrentOperator, Db, OptionalCaller, Services, unauthorized
from joule.api.login import LoginThrottled, password_login
from joule.api.schemas.operator import (
    AccessToken,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetIssued,
    PasswordResetRequest,
)
from joule.api.security import issue_token
from joule.domain.operator import reset
from joule.domain.operator import service as operators
from joule.storage.models import Operator

router = APIRouter(tags=["auth"])

RESET_ACCEPTED = "if the address belongs to an active operator, a reset token was sent to it"


def too_many(error: LoginThrottled) -> HTTPException:
    """429 with Retry-After (RFC 6585 §4)."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=str(error),
        headers={"Retry-After": str(error.retry_after_s)},
    )


def _token_for(services: Services, operator: Operator) -> AccessToken:
    token, expires_in = issue_token(
        operator_id=operator.id,
        role=operator.role,
        secret=services.jwt_secret,
        now=services.clock.now(),
        ttl_s=services.settings.jwt_ttl_s,
    )
    return AccessToken(access_token=token, expires_in=expires_in)


@router.post("/auth/token")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    services: Services,
    db: Db,
) -> AccessToken:
    """Exchange e-mail and password for a bearer token; 401 wrong, 429 locked or throttled."""
    try:
        operator = await password_login(
            request, db, form.username, form.password, now=services.clock.now()
        )
    except LoginThrottled as error:
        raise too_many(error) from None
    if operator is None:
        # One message for unknown e-mail and wrong password: no account enumeration.
        raise unauthorized("wrong e-mail or password")
    return _token_for(services, operator)


@router.post("/auth/password")
async def change_password(
    body: PasswordChange, caller: CurrentOperator, services: Services, db: Db
) -> AccessToken:
    """Change one's own password; older sessions end, a fresh token comes back."""
    if caller.operator is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="an API key has no password")
    new_hash = await operators.hash_new_password(body.new_password)
    operator_id, current = caller.operator.id, body.current_password
    at = services.clock.now()
    changed = await db.write(
        lambda s: operators.change_password(
            s, operator_id, current_password=current, new_password_hash=new_hash, at=at
        )
    )
    return _token_for(services, changed)


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_reset(
    body: PasswordResetRequest,
    services: Services,
    db: Db,
    caller: OptionalCaller,
) -> PasswordResetIssued:
    """Issue a one-time reset token.

    Anyone may ask for their own address: the token goes out by SMTP (when configured) and the
    answer is the same whether the address exists or not. An admin asking for an operator of
    their scope gets the token in the answer, to hand over another way.
    """
    at = services.clock.now()
    email = body.email
    if caller is not None and caller.scope.may_administer:
        scope = caller.scope
        issued = await db.write(lambda s: reset.issue_reset(s, email, at=at, admin=scope))
        assert issued is not None  # with an admin, a missing operator raises NotFound
        return PasswordResetIssued(
            detail=f"reset token for {issued.operator.email}",
            token=issued.token,
            expires_at=issued.expires_at,
        )
    settings = services.settings
    if settings.smtp_host is None:
        # Without mail there is no way to deliver a token to the owner: say so, reveal nothing.
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="password reset by e-mail needs SMTP (JOULE_SMTP_HOST); ask an admin",
        )
    found = await db.write(lambda s: reset.issue_reset(s, email, at=at))
    if found is not None:
        await reset.send_reset_mail(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            found,
            link_hint="Send it with a new password to POST /api/v1/auth/password-reset/confirm.",
        )
    return PasswordResetIssued(detail=RESET_ACCEPTED)


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_reset(body: PasswordResetConfirm, services: Services, db: Db) -> None:
    """Set a new password with a reset token (422 when unknown, used or expired)."""
    new_hash = await operators.hash_new_password(body.new_password)
    at, token = services.clock.now(), body.token
    await db.write(lambda s: reset.confirm_reset(s, token, new_hash, at=at))
