"""Operator login: OAuth2 password flow → bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from joule.api.deps import Db, Services, unauthorized
from joule.api.schemas.operator import AccessToken
from joule.api.security import issue_token
from joule.domain.operator import service as operators

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], services: Services, db: Db
) -> AccessToken:
    """Exchange e-mail and password for a bearer token; 401 for wrong credentials."""
    operator = await db.read(lambda s: operators.authenticate(s, form.username, form.password))
    if operator is None:
        # One message for unknown e-mail and wrong password: no account enumeration.
        raise unauthorized("wrong e-mail or password")
    token, expires_in = issue_token(
        operator_id=operator.id,
        role=operator.role,
        secret=services.jwt_secret,
        now=services.clock.now(),
        ttl_s=services.settings.jwt_ttl_s,
    )
    return AccessToken(access_token=token, expires_in=expires_in)
