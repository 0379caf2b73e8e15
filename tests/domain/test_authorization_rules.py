"""authorization.rules.decide: worked examples (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joule.domain.authorization.rules import Decision, TokenFacts, decide

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def token(
    status: str = "Accepted",
    *,
    expiry: datetime | None = None,
    group_id: str | None = None,
    max_concurrent: int = 1,
    type: str = "ISO14443",
) -> TokenFacts:
    return TokenFacts(
        uid="04A1B2C3",
        type=type,
        status=status,
        expiry=expiry,
        group_id=group_id,
        max_concurrent=max_concurrent,
    )


@pytest.mark.parametrize(
    ("facts", "active", "for_start", "expected"),
    [
        (None, 0, True, "Invalid"),
        (None, 0, False, "Invalid"),
        (token(), 0, True, "Accepted"),
        (token(), 0, False, "Accepted"),
        (token("Blocked"), 0, True, "Blocked"),
        (token("Expired"), 0, False, "Expired"),
        (token("Invalid"), 0, True, "Invalid"),
        (token("NoCredit"), 0, True, "NoCredit"),  # 2.x statuses are answered as stored
        (token(expiry=NOW - timedelta(seconds=1)), 0, False, "Expired"),
        (token(expiry=NOW), 0, False, "Expired"),  # expiry reached counts as passed
        (token(expiry=NOW + timedelta(days=1)), 0, True, "Accepted"),
        (token(), 1, True, "ConcurrentTx"),
        (token(), 1, False, "Accepted"),  # only a start can be ConcurrentTx
        (token(max_concurrent=2), 1, True, "Accepted"),
        (token(max_concurrent=2), 2, True, "ConcurrentTx"),
        (token(max_concurrent=0), 50, True, "Accepted"),  # 0 = unlimited
        (token("Blocked"), 5, True, "Blocked"),  # a stored refusal wins over concurrency
        (token(expiry=NOW - timedelta(days=1)), 1, True, "Expired"),  # expiry before concurrency
    ],
)
def test_decide_status(
    facts: TokenFacts | None, active: int, for_start: bool, expected: str
) -> None:
    decision = decide(facts, now=NOW, active_transactions=active, for_start=for_start)
    assert decision.status == expected
    assert decision.accepted is (expected == "Accepted")
    assert decision.reason


def test_decision_carries_expiry_and_group() -> None:
    expiry = NOW + timedelta(days=30)
    decision = decide(
        token(expiry=expiry, group_id="FLEET-7"), now=NOW, active_transactions=0, for_start=True
    )
    assert decision == Decision("Accepted", "accepted", expiry, "FLEET-7")


def test_naive_expiry_is_read_as_utc() -> None:
    # SQLite returns naive datetimes; they are UTC.
    naive = datetime(2026, 3, 1, 11, 59)
    decision = decide(token(expiry=naive), now=NOW, active_transactions=0, for_start=False)
    assert decision.status == "Expired"
    assert decision.expiry == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize("presented", ["NoAuthorization", "Central"])
def test_policy_types_are_accepted_when_unknown(presented: str) -> None:
    decision = decide(
        None, now=NOW, active_transactions=0, for_start=True, presented_type=presented
    )
    assert decision.status == "Accepted"
    assert presented in decision.reason


def test_policy_does_not_override_a_stored_refusal() -> None:
    decision = decide(
        token("Blocked", type="Central"),
        now=NOW,
        active_transactions=0,
        for_start=True,
        presented_type="Central",
    )
    assert decision.status == "Blocked"


def test_unknown_iso_token_stays_invalid() -> None:
    decision = decide(
        None, now=NOW, active_transactions=0, for_start=True, presented_type="ISO14443"
    )
    assert decision.status == "Invalid"
