"""Retry timing a station must follow (pure): reconnect back-off and transaction retries."""

from __future__ import annotations

import random


def reconnect_delay_s(
    attempt: int,
    *,
    wait_minimum_s: float,
    random_range_s: float,
    repeat_times: int,
    rng: random.Random,
) -> float:
    """Seconds before reconnection attempt `attempt` (0 = the first after the link was lost).

    P4 §5.3: the first attempt waits RetryBackOffWaitMinimum plus a random value up to
    RetryBackOffRandomRange; every failed attempt doubles the wait, at most RetryBackOffRepeatTimes
    times, with a new random value each time. This spreads a fleet's reconnects after a CSMS
    restart instead of stampeding it.
    """
    doublings = min(max(attempt, 0), max(repeat_times, 0))
    jitter: float = rng.uniform(0.0, max(random_range_s, 0.0))
    return float(wait_minimum_s * (2**doublings) + jitter)


def transaction_retry_delay_s(attempt: int, *, interval_s: float) -> float:
    """Seconds before resending a transaction message that failed `attempt` times.

    C16 §3.7.1 (TransactionMessageRetryInterval × attempts) and E13.FR.02
    (MessageAttemptIntervalTransactionEvent × attempts).
    """
    return interval_s * max(attempt, 1)
