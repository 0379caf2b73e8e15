"""API keys for integrations: admins issue (secret shown once), list and revoke them."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from joule.api.deps import AdminOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.organisation import ApiKeyCreate, ApiKeyIssued, ApiKeyRead
from joule.domain.operator import api_keys

router = APIRouter(tags=["api keys"])


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: ApiKeyCreate, admin: AdminOperator, services: Services, db: Db
) -> ApiKeyIssued:
    """Issue a key; `key` in the answer is the only time the secret is shown."""
    at, scope = services.clock.now(), admin.scope
    issued = await db.write(
        lambda s: api_keys.issue_key(
            s,
            scope,
            name=body.name,
            role=body.role,
            organisation_id=body.organisation_id,
            expires_at=body.expires_at,
            at=at,
        )
    )
    read = ApiKeyRead.model_validate(issued.key)
    return ApiKeyIssued(**read.model_dump(), key=issued.secret)


@router.get("/api-keys")
async def list_api_keys(admin: AdminOperator, db: Db, page: PageParams) -> Page[ApiKeyRead]:
    """The keys of the admin's organisations, revoked ones included."""
    scope = admin.scope
    found, total = await db.read(
        lambda s: api_keys.list_keys(s, scope, limit=page.limit, offset=page.offset)
    )
    items = [ApiKeyRead.model_validate(k) for k in found]
    return Page[ApiKeyRead].of(items, total, limit=page.limit, offset=page.offset)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: int, admin: AdminOperator, services: Services, db: Db) -> Response:
    """Revoke a key: the next request with it is 401."""
    at, scope = services.clock.now(), admin.scope
    await db.write(lambda s: api_keys.revoke_key(s, scope, key_id, at=at))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
