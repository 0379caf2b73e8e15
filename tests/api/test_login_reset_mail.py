"""Self-service password reset by e-mail, through a real SMTP conversation on loopback (issue 5)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from joule.config import Settings
from tests.api.conftest import Login
from tests.api.orgs import make_operator, ok
from tests.e2e.test_alerts_receivers import SmtpReceiver

EMAIL = "forgetful@example.test"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def settings(database_url: str, smtp: SmtpReceiver) -> Settings:
    """The API's settings with SMTP pointing at the loopback receiver."""
    return Settings(
        database_url=database_url,
        jwt_ttl_s=3600,
        call_timeout_s=2.0,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="joule@example.test",
    )


async def test_the_owner_gets_a_token_by_mail_and_strangers_learn_nothing(
    admin: httpx.AsyncClient, login: Login, anon: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    await make_operator(admin, login, EMAIL, "viewer", None)
    known = await ok(await anon.post("/auth/password-reset", json={"email": EMAIL}), 202)
    unknown = await ok(
        await anon.post("/auth/password-reset", json={"email": "who@example.test"}), 202
    )
    assert known == unknown and known["token"] is None  # same answer; no token over HTTP
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == [EMAIL] and message["From"] == "joule@example.test"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"Reset token: (\S+)", body.decode())
    assert found is not None
    await ok(
        await anon.post(
            "/auth/password-reset/confirm",
            json={"token": found.group(1), "new_password": "fresh-password-1"},
        ),
        204,
    )
    await login(EMAIL, "fresh-password-1")  # asserts 200
