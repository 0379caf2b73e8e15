"""locallist.plan: fitting, diffing, chunking and the payloads of both versions (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from joule.domain.locallist.plan import (
    DIFFERENTIAL,
    FRAME_OVERHEAD_BYTES,
    FULL,
    Change,
    Entry,
    Limits,
    apply,
    diff,
    fit,
    key,
    plan,
    request_payload,
    withdrawn,
)
from joule.ocpp.validation import validate_outbound
from joule.ocpp.versions import OcppVersion

EXPIRY = datetime(2027, 1, 31, 23, 0, tzinfo=UTC)
VERSIONS = [OcppVersion.V16, OcppVersion.V201]


def entry(uid: str, status: str = "Accepted", group: str | None = None) -> Entry:
    return Entry(uid, "ISO14443", status, EXPIRY if status == "Accepted" else None, group)


def keyed(*entries: Entry) -> dict[str, Entry]:
    return {key(e.uid): e for e in entries}


def test_fit_keeps_accepted_first_when_the_list_is_too_long() -> None:
    target = [entry("T-3", "Blocked"), entry("T-2"), entry("T-1"), entry("T-4", "Expired")]
    fitted = fit(target, OcppVersion.V16, Limits(max_entries=3))
    assert sorted(e.uid for e in fitted.entries.values()) == ["T-1", "T-2", "T-3"]
    assert fitted.left_out == 1


def test_fit_leaves_out_ids_the_version_cannot_carry_and_folds_case() -> None:
    long_uid = "A" * 21  # 1.6 idTag is CiString20; 2.0.1 idToken is CiString36
    target = [entry(long_uid), entry("tag-1"), entry("TAG-1")]
    v16 = fit(target, OcppVersion.V16, Limits())
    assert list(v16.entries) == ["tag-1"] and v16.left_out == 2
    v201 = fit(target, OcppVersion.V201, Limits())
    assert set(v201.entries) == {long_uid.lower(), "tag-1"}


def test_diff_updates_changed_entries_and_deletes_removed_ones() -> None:
    held = keyed(entry("A"), entry("B"), entry("C"))
    target = keyed(entry("A"), entry("B", "Blocked"), entry("D"))
    changes = diff(held, target)
    assert changes == [
        Change("B", entry("B", "Blocked")),
        Change("D", entry("D")),
        Change("C", None),
    ]
    assert diff(target, target) == []
    assert withdrawn(held, target) == ["B", "C"]  # they were Accepted: clear the cache


def test_a_full_update_cut_in_parts_is_full_then_differential_with_rising_versions() -> None:
    target = keyed(*(entry(f"T-{i}") for i in range(5)))
    changes = [Change(e.uid, e) for e in target.values()]
    messages = plan(
        OcppVersion.V16,
        update_type=FULL,
        changes=changes,
        next_version=7,
        limits=Limits(items_per_message=2),
        group_types={},
    )
    assert [(m.update_type, m.version, len(m.changes)) for m in messages] == [
        (FULL, 7, 2),
        (DIFFERENTIAL, 8, 2),
        (DIFFERENTIAL, 9, 1),
    ]
    held = keyed(entry("OLD"))
    for message in messages:
        held = apply(held, message)
    assert held == target  # the first part replaced the old list, the others added to it


def test_bytes_per_message_bounds_every_2x_message() -> None:
    target = [entry(f"TOKEN-{i:04d}", group="FLEET-1") for i in range(40)]
    limit = 1200
    messages = plan(
        OcppVersion.V201,
        update_type=FULL,
        changes=[Change(e.uid, e) for e in target],
        next_version=1,
        limits=Limits(bytes_per_message=limit),
        group_types={"fleet-1": "Central"},
    )
    assert len(messages) > 1
    for message in messages:
        payload = request_payload(OcppVersion.V201, message, {"fleet-1": "Central"})
        frame = json.dumps([2, "x" * 36, "SendLocalList", payload], separators=(",", ":"))
        assert len(frame.encode()) <= limit
    assert sum(len(m.changes) for m in messages) == 40


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_payloads_match_the_official_schemas(version: OcppVersion) -> None:
    changes = [
        Change("TAG-1", entry("TAG-1", group="FAMILY")),
        Change("TAG-2", entry("TAG-2", "NotAtThisTime")),
        Change("TAG-3", None),
    ]
    (message,) = plan(
        version,
        update_type=DIFFERENTIAL,
        changes=changes,
        next_version=3,
        limits=Limits(),
        group_types={"family": "ISO14443"},
    )
    payload = request_payload(version, message, {"family": "ISO14443"})
    validate_outbound(version, "SendLocalList", "request", payload)
    items = payload["localAuthorizationList"]
    if version is OcppVersion.V16:
        assert payload["listVersion"] == 3 and payload["updateType"] == "Differential"
        assert items[0]["idTagInfo"] == {
            "status": "Accepted",
            "expiryDate": "2027-01-31T23:00:00.000Z",  # cache semantics: expiry sent
            "parentIdTag": "FAMILY",
        }
        assert items[1]["idTagInfo"] == {"status": "Invalid"}  # 1.6 has no NotAtThisTime
        assert items[2] == {"idTag": "TAG-3"}  # no idTagInfo: removed
    else:
        assert payload["versionNumber"] == 3
        assert items[0]["idTokenInfo"] == {
            "status": "Accepted",
            "cacheExpiryDateTime": "2027-01-31T23:00:00.000Z",
            "groupIdToken": {"idToken": "FAMILY", "type": "ISO14443"},
        }
        assert items[1]["idTokenInfo"] == {"status": "NotAtThisTime"}
        assert "idTokenInfo" not in items[2]


def test_an_empty_full_list_is_valid_in_both_versions() -> None:
    for version in VERSIONS:
        (message,) = plan(
            version,
            update_type=FULL,
            changes=[],
            next_version=1,
            limits=Limits(items_per_message=2),
            group_types={},
        )
        payload = request_payload(version, message, {})
        validate_outbound(version, "SendLocalList", "request", payload)  # 2.0.1: minItems 1
        assert apply(keyed(entry("A")), message) == {}


def test_frame_overhead_covers_the_envelope() -> None:
    empty = {"listVersion": 2**31 - 1, "updateType": "Differential", "localAuthorizationList": []}
    frame = json.dumps([2, "x" * 36, "SendLocalList", empty], separators=(",", ":"))
    assert len(frame.encode()) <= FRAME_OVERHEAD_BYTES
