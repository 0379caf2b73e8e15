"""The bounded message log: each station keeps its newest N frames, pruned station by station."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from joule.domain.activity import ActivityRecorder
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from joule.storage.models import MessageLogEntry
from joule.storage.repositories.activity import append_message_log
from joule.storage.uow import UnitOfWork

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _touch(*_: object) -> None:
    return None  # last seen is not what these tests are about


async def _kept(committer: GroupCommitter) -> dict[str, list[str]]:
    async def read(uow: UnitOfWork) -> dict[str, list[str]]:
        rows = await uow.session.execute(
            select(MessageLogEntry.station_id, MessageLogEntry.message_id).order_by(
                MessageLogEntry.id
            )
        )
        kept: dict[str, list[str]] = {}
        for station_id, message_id in rows:
            kept.setdefault(station_id, []).append(message_id)
        return kept

    return await committer.read(read)


async def test_each_station_keeps_its_newest_frames(committer: GroupCommitter) -> None:
    clock = FixedClock(T0)
    recorder = ActivityRecorder(committer, clock, touch_last_seen=_touch, log_limit=10)
    for station, count in (("CP-A", 25), ("CP-B", 4), ("CP-C", 12)):
        for i in range(count):
            clock.set(T0 + timedelta(seconds=i))
            recorder.frame(station, "in", 2, f"{station}-{i}", "StatusNotification", "[]")
    await recorder.flush()  # 41 rows: written in units of at most 100 rows
    await recorder.prune()
    kept = await _kept(committer)
    assert kept["CP-A"] == [f"CP-A-{i}" for i in range(15, 25)]  # the newest 10, in order
    assert kept["CP-B"] == [f"CP-B-{i}" for i in range(4)]  # under the bound: untouched
    assert kept["CP-C"] == [f"CP-C-{i}" for i in range(2, 12)]


async def test_a_prune_only_visits_stations_that_logged_since_the_last(
    committer: GroupCommitter,
) -> None:
    clock = FixedClock(T0)
    recorder = ActivityRecorder(committer, clock, touch_last_seen=_touch, log_limit=3)
    for i in range(5):
        recorder.frame("CP-OLD", "in", 2, f"old-{i}", "StatusNotification", "[]")
    await recorder.flush()
    await recorder.prune()
    for i in range(5):
        recorder.frame("CP-NEW", "in", 2, f"new-{i}", "StatusNotification", "[]")
    await recorder.flush()
    # Rows CP-OLD gains without a frame through this recorder (a sibling worker's, say) wait
    # for the prune after its next frame here: this prune does not visit it.
    extra = [("CP-OLD", "in", 2, f"old-{i}", "StatusNotification", "[]", T0) for i in range(5, 8)]

    async def sibling(uow: UnitOfWork) -> None:
        append_message_log(uow, extra)

    await committer.run(sibling)
    await recorder.prune()
    counts = Counter({s: len(ids) for s, ids in (await _kept(committer)).items()})
    assert counts == {"CP-OLD": 6, "CP-NEW": 3}


async def _flush_prune_count(recorder: ActivityRecorder, committer: GroupCommitter) -> Counter[str]:
    """Flush and prune the recorder; the rows each station keeps."""
    await recorder.flush()
    await recorder.prune()
    return Counter({s: len(ids) for s, ids in (await _kept(committer)).items()})


async def test_a_station_is_pruned_once_it_logged_a_tenth_of_its_bound(
    committer: GroupCommitter,
) -> None:
    """A storm's stations (a few rows each) are not visited every minute; a log exceeds its
    bound by at most a tenth of it between prunes."""
    clock = FixedClock(T0)
    recorder = ActivityRecorder(committer, clock, touch_last_seen=_touch, log_limit=20)
    for i in range(25):
        recorder.frame("CP-BUSY", "in", 2, f"busy-{i}", "StatusNotification", "[]")
    recorder.frame("CP-QUIET", "in", 2, "quiet-0", "StatusNotification", "[]")
    assert await _flush_prune_count(recorder, committer) == {"CP-BUSY": 20, "CP-QUIET": 1}
    # One more row each: CP-BUSY (1 since its prune) waits, CP-QUIET (2 since ever) is visited.
    recorder.frame("CP-BUSY", "in", 2, "busy-25", "StatusNotification", "[]")
    recorder.frame("CP-QUIET", "in", 2, "quiet-1", "StatusNotification", "[]")
    assert await _flush_prune_count(recorder, committer) == {"CP-BUSY": 21, "CP-QUIET": 2}
    recorder.frame("CP-BUSY", "in", 2, "busy-26", "StatusNotification", "[]")
    assert (await _flush_prune_count(recorder, committer))["CP-BUSY"] == 20
