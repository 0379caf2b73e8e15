"""Authorize (1.6, 2.0.1, 2.1), the token repository and ConcurrentTx on a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.domain.helpers import ALL_VERSIONS, T0, V2X, V16, add_station, handle, rows

from joule.domain.authorization import handlers as _authorization_handlers  # noqa: F401
from joule.domain.transaction import handlers as _transaction_handlers  # noqa: F401
from joule.domain.transaction.lifecycle import as_utc
from joule.kit.errors import Conflict
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import IdToken, Transaction
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork


async def add_token(
    committer: GroupCommitter,
    uid: str,
    *,
    status: str = "Accepted",
    type: str = "ISO14443",
    expiry: datetime | None = None,
    group_id: str | None = None,
    max_concurrent: int = 1,
) -> None:
    async def work(uow: UnitOfWork) -> IdToken:
        return await tokens.create_token(
            uow.session,
            uid=uid,
            type=type,
            status=status,
            expiry=expiry,
            group_id=group_id,
            max_concurrent=max_concurrent,
            at=T0,
        )

    await committer.run(work)


def authorize_payload(version: OcppVersion, uid: str, type: str = "ISO14443") -> dict[str, Any]:
    if version is V16:
        return {"idTag": uid}
    return {"idToken": {"idToken": uid, "type": type}}


def info(version: OcppVersion, response: dict[str, Any]) -> dict[str, Any]:
    return response["idTagInfo" if version is V16 else "idTokenInfo"]  # type: ignore[no-any-return]


versions = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")


@versions
async def test_known_token_is_accepted_with_expiry_and_group(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_token(committer, "04E1A2B3C4", expiry=T0 + timedelta(days=30), group_id="FLEET-1")
    handled = await handle(
        committer, version, "Authorize", authorize_payload(version, "04E1A2B3C4")
    )
    if version is V16:
        assert handled.response == {
            "idTagInfo": {
                "status": "Accepted",
                "expiryDate": "2026-12-28T12:00:00.000Z",
                "parentIdTag": "FLEET-1",
            }
        }
    else:
        assert handled.response == {
            "idTokenInfo": {
                "status": "Accepted",
                "cacheExpiryDateTime": "2026-12-28T12:00:00.000Z",
                "groupIdToken": {"idToken": "FLEET-1", "type": "Central"},
            }
        }


@versions
@pytest.mark.parametrize(
    ("stored", "expiry_days", "expected_16", "expected_2x"),
    [
        (None, None, "Invalid", "Invalid"),  # unknown
        ("Blocked", None, "Blocked", "Blocked"),
        ("Expired", None, "Expired", "Expired"),
        ("Invalid", None, "Invalid", "Invalid"),
        ("Accepted", -1, "Expired", "Expired"),  # expiry passed
        ("NoCredit", None, "Blocked", "NoCredit"),  # 1.6 has no NoCredit
        ("NotAtThisTime", None, "Invalid", "NotAtThisTime"),
    ],
)
async def test_token_statuses(
    committer: GroupCommitter,
    version: OcppVersion,
    stored: str | None,
    expiry_days: int | None,
    expected_16: str,
    expected_2x: str,
) -> None:
    if stored is not None:
        expiry = T0 + timedelta(days=expiry_days) if expiry_days is not None else None
        await add_token(committer, "TAG-X", status=stored, expiry=expiry)
    handled = await handle(committer, version, "Authorize", authorize_payload(version, "TAG-X"))
    assert info(version, handled.response)["status"] == (
        expected_16 if version is V16 else expected_2x
    )


@versions
async def test_id_tokens_are_case_insensitive(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_token(committer, "04e1a2b3c4")
    handled = await handle(
        committer, version, "Authorize", authorize_payload(version, "04E1A2B3C4")
    )
    assert info(version, handled.response)["status"] == "Accepted"


@pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")
@pytest.mark.parametrize("kind", ["NoAuthorization", "Central"])
async def test_policy_token_types_are_accepted(
    committer: GroupCommitter, version: OcppVersion, kind: str
) -> None:
    handled = await handle(
        committer, version, "Authorize", authorize_payload(version, "remote-4711", kind)
    )
    assert handled.response == {"idTokenInfo": {"status": "Accepted"}}


@pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")
async def test_long_group_id_is_left_out_rather_than_breaking_the_schema(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_token(committer, "TAG-G", group_id="G" * 40)
    handled = await handle(committer, version, "Authorize", authorize_payload(version, "TAG-G"))
    assert handled.response == {"idTokenInfo": {"status": "Accepted"}}


async def test_token_repository(committer: GroupCommitter) -> None:
    await add_token(committer, "B-TAG", status="Blocked", max_concurrent=2)
    await add_token(committer, "A-TAG")
    with pytest.raises(Conflict):
        await add_token(committer, "a-tag")

    async def work(uow: UnitOfWork) -> tuple[IdToken | None, list[IdToken], int, list[IdToken]]:
        found = await tokens.get_token(uow.session, "b-tag")
        page, total = await tokens.list_tokens(uow.session, limit=1, offset=0)
        rest, _ = await tokens.list_tokens(uow.session, limit=10, offset=1)
        return found, page, total, rest

    found, page, total, rest = await committer.read(work)
    assert found is not None and (found.uid, found.status, found.max_concurrent) == (
        "B-TAG",
        "Blocked",
        2,
    )
    assert as_utc(found.created_at) == T0
    assert total == 2
    assert [t.uid for t in page] == ["A-TAG"]
    assert [t.uid for t in rest] == ["B-TAG"]


# --- ConcurrentTx: a token already charging cannot start a second transaction (C16 §4.2).


def start_16(connector: int, uid: str, minutes: int = 0) -> dict[str, Any]:
    return {
        "connectorId": connector,
        "idTag": uid,
        "meterStart": 1000,
        "timestamp": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
    }


def started_2x(evse: int, tx_id: str, uid: str) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": "2026-11-28T12:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": tx_id, "chargingState": "Charging"},
        "idToken": {"idToken": uid, "type": "ISO14443"},
        "evse": {"id": evse, "connectorId": 1},
    }


async def test_concurrent_tx_16(committer: GroupCommitter) -> None:
    await add_station(committer)
    await add_token(committer, "TAG-C")
    first = await handle(committer, V16, "StartTransaction", start_16(1, "TAG-C"))
    assert first.response["idTagInfo"] == {"status": "Accepted"}
    second = await handle(committer, V16, "StartTransaction", start_16(2, "TAG-C", 5))
    # C16 §4.8: still a transactionId; the status tells the station to stop.
    assert second.response["idTagInfo"] == {"status": "ConcurrentTx"}
    assert second.response["transactionId"] != first.response["transactionId"]
    # Authorize alone is not a start: the driver may be presenting the card to stop.
    auth = await handle(committer, V16, "Authorize", {"idTag": "TAG-C"})
    assert auth.response == {"idTagInfo": {"status": "Accepted"}}


async def test_concurrent_tx_allows_up_to_max_concurrent(committer: GroupCommitter) -> None:
    await add_station(committer)
    await add_token(committer, "TAG-2", max_concurrent=2)
    statuses = []
    for connector in (1, 2, 3):
        handled = await handle(committer, V16, "StartTransaction", start_16(connector, "TAG-2"))
        statuses.append(handled.response["idTagInfo"]["status"])
    assert statuses == ["Accepted", "Accepted", "ConcurrentTx"]


async def test_stale_transactions_do_not_block_a_new_start(committer: GroupCommitter) -> None:
    await add_station(committer)
    await add_token(committer, "TAG-S")
    await handle(committer, V16, "StartTransaction", start_16(1, "TAG-S"))
    # Same connector again (reboot lost the stop, Q23): the old one goes stale, not ConcurrentTx.
    again = await handle(committer, V16, "StartTransaction", start_16(1, "TAG-S", 30))
    assert again.response["idTagInfo"] == {"status": "Accepted"}


@pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")
async def test_concurrent_tx_2x(committer: GroupCommitter, version: OcppVersion) -> None:
    await add_station(committer)
    await add_token(committer, "TAG-C")
    first = await handle(committer, version, "TransactionEvent", started_2x(1, "tx-a", "TAG-C"))
    assert first.response == {"idTokenInfo": {"status": "Accepted"}}
    second = await handle(committer, version, "TransactionEvent", started_2x(2, "tx-b", "TAG-C"))
    assert second.response == {"idTokenInfo": {"status": "ConcurrentTx"}}

    # E05.FR.02: the refused transaction is still recorded with its data.
    txs = await rows(committer, Transaction)
    assert [(t.transaction_uid, t.auth_status) for t in txs] == [
        ("tx-a", "Accepted"),
        ("tx-b", "ConcurrentTx"),
    ]
