"""Operators: the first admin, creation by admins, roles (scenario 39b)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from joule.domain.operator import service as operators
from joule.storage.committer import GroupCommitter
from joule.storage.models import Operator
from joule.storage.uow import UnitOfWork
from tests.api.conftest import ADMIN_EMAIL, NOW, PASSWORD, Login


async def test_admin_creates_operators_of_each_role(admin: httpx.AsyncClient, login: Login) -> None:
    for role in ("admin", "operator", "viewer"):
        resp = await admin.post(
            "/operators",
            json={"email": f" New.{role}@Example.test ", "password": PASSWORD, "role": role},
        )
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["email"] == f"new.{role}@example.test"  # trimmed, lower case
        assert body["role"] == role and body["active"] is True
        assert {"id", "email", "role", "active", "created_at"} <= set(body)  # issue 5 adds fields
        assert body["created_at"] == "2026-11-28T09:00:00Z"
        client = await login(f"new.{role}@example.test", PASSWORD)
        assert (await client.get("/operators/me")).json()["role"] == role


async def test_duplicate_email_is_409(admin: httpx.AsyncClient) -> None:
    body = {"email": "twice@example.test", "password": PASSWORD, "role": "viewer"}
    assert (await admin.post("/operators", json=body)).status_code == 201
    again = await admin.post("/operators", json={**body, "email": "TWICE@example.test"})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


async def test_bad_operator_fields_are_422(admin: httpx.AsyncClient) -> None:
    cases = [
        {"email": "no-at-sign", "password": PASSWORD, "role": "viewer"},
        {"email": "a@b.test", "password": "short", "role": "viewer"},
        {"email": "a@b.test", "password": PASSWORD, "role": "root"},
        {"email": "a@b.test", "password": PASSWORD},
        {"email": "a@b.test", "password": PASSWORD, "role": "viewer", "password_hash": "x"},
    ]
    for body in cases:
        resp = await admin.post("/operators", json=body)
        assert resp.status_code == 422, (body, resp.text)


async def test_only_admins_manage_operators(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    body = {"email": "x@example.test", "password": PASSWORD, "role": "admin"}
    for client in (operator, viewer):
        assert (await client.post("/operators", json=body)).status_code == 403
        assert (await client.get("/operators")).status_code == 403
        assert (await client.get("/operators/me")).status_code == 200


async def test_list_operators_is_paged(admin: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    resp = await admin.get("/operators", params={"limit": 1})
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == 2 and body["limit"] == 1 and body["offset"] == 0
    assert [o["email"] for o in body["items"]] == [ADMIN_EMAIL]
    second = (await admin.get("/operators", params={"limit": 1, "offset": 1})).json()
    assert [o["email"] for o in second["items"]] == ["viewer@example.test"]


async def test_ensure_admin_only_when_nobody_exists(committer: GroupCommitter) -> None:
    async def first(uow: UnitOfWork) -> Operator | None:
        return await operators.ensure_admin(uow.session, "first@example.test", PASSWORD, NOW)

    async def second(uow: UnitOfWork) -> Operator | None:
        return await operators.ensure_admin(uow.session, "second@example.test", PASSWORD, NOW)

    created = await committer.run(first)
    assert created is not None and created.role == "admin"
    assert await committer.run(second) is None

    async def emails(uow: UnitOfWork) -> list[str]:
        return list(await uow.session.scalars(select(Operator.email)))

    assert await committer.read(emails) == ["first@example.test"]


async def test_passwords_are_stored_as_argon2id_hashes(
    admin: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    async def hashes(uow: UnitOfWork) -> list[str]:
        return list(await uow.session.scalars(select(Operator.password_hash)))

    for stored in await committer.read(hashes):
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
